package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// helperRoleVar makes the test binary act as a host instead of running the tests
// (TestMain), so that a test can orphan a real host process.
const helperRoleVar = "KEYWIRE_HOST_TEST_ROLE"

// helperLifetime bounds how long an orphaned host helper waits if nothing stops it.
const helperLifetime = 60 * time.Second

func TestMain(m *testing.M) {
	if os.Getenv(helperRoleVar) == "host" {
		runHostHelper()
		return
	}
	os.Exit(m.Run())
}

// runHostHelper is a host as main sets it up, running a program as Run does (a
// long sleep stands for node), which prints both pids and then idles.
func runHostHelper() {
	host := newNodeHost("", "", "test")
	stopWithParent(host)
	program := exec.Command("sleep", "60")
	diesWithHost(program)
	if err := program.Start(); err != nil {
		fmt.Printf("error %v\n", err)
		os.Exit(2)
	}
	host.track(program, true)
	fmt.Printf("pids %d %d\n", os.Getpid(), program.Process.Pid)
	time.Sleep(helperLifetime)
	os.Exit(0)
}

// running tells whether pid runs; a zombie (ended, not yet reaped) does not.
func running(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		if _, statErr := os.Stat("/proc/self"); statErr == nil {
			return false
		}
		return syscall.Kill(pid, 0) == nil // no /proc (macOS)
	}
	s := string(stat)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	return len(fields) > 0 && fields[0] != "Z" && fields[0] != "X"
}

// startHostHelper starts runHostHelper through cmd (whose stdout it reads) and
// returns the pids of the host and of its program; both are killed when the test ends.
func startHostHelper(t *testing.T, cmd *exec.Cmd) (hostPid, programPid int) {
	t.Helper()
	cmd.Env = append(os.Environ(), helperRoleVar+"=host")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		if sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	select {
	case line := <-lines:
		if _, err := fmt.Sscanf(line, "pids %d %d", &hostPid, &programPid); err != nil {
			t.Fatalf("the helper said %q", line)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the helper host did not start within 30 s")
	}
	t.Cleanup(func() {
		for _, pid := range []int{hostPid, programPid} {
			if running(pid) {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	})
	if !running(hostPid) || !running(programPid) {
		t.Fatalf("host %d and program %d should run while their parent does", hostPid, programPid)
	}
	return hostPid, programPid
}

// goneWithin waits at most d for every pid to stop running, and says which still run.
func goneWithin(d time.Duration, pids ...int) []int {
	deadline := time.Now().Add(d)
	for {
		var left []int
		for _, pid := range pids {
			if running(pid) {
				left = append(left, pid)
			}
		}
		if len(left) == 0 || time.Now().After(deadline) {
			return left
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestHostEndsWithItsParentAndTakesItsProgram(t *testing.T) {
	// sh starts the host and waits; killing sh alone orphans the host, as a SIGKILLed CLI does.
	sh := exec.Command("sh", "-c", `"$0" -test.run='^$' & wait`, os.Args[0])
	hostPid, programPid := startHostHelper(t, sh)
	if err := sh.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = sh.Wait()

	if left := goneWithin(10*time.Second, hostPid, programPid); len(left) > 0 {
		t.Errorf("10 s after the host's parent died, still running: %v (host %d, program %d)", left, hostPid, programPid)
	}
}

func TestWatchParentTakesAWakeUpAsAReasonToLookNotAsProof(t *testing.T) {
	var parent atomic.Int64
	parent.Store(100)
	wake := make(chan os.Signal, 1)
	gone := make(chan struct{})
	// A long interval: only the wake-ups make it look.
	go watchParent(100, time.Hour, wake, func() int { return int(parent.Load()) }, func() { close(gone) })

	wake <- syscall.SIGUSR2
	select {
	case <-gone:
		t.Fatal("a wake-up with the parent still there must not stop the host")
	case <-time.After(200 * time.Millisecond):
	}

	parent.Store(1)
	wake <- syscall.SIGUSR2
	select {
	case <-gone:
	case <-time.After(5 * time.Second):
		t.Fatal("a wake-up after the parent changed must stop the host")
	}
}
