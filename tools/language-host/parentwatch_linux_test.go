package main

import (
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

func TestProgramEndsWhenTheHostIsKilled(t *testing.T) {
	// The test process stays the host's parent: only the kernel's parent-death signal
	// can stop the program, since a SIGKILLed host runs no code of its own.
	hostPid, programPid := startHostHelper(t, exec.Command(os.Args[0], "-test.run=^$"))
	if err := syscall.Kill(hostPid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if left := goneWithin(10*time.Second, programPid); len(left) > 0 {
		t.Errorf("the program %d still runs 10 s after its host was killed", programPid)
	}
}
