package main

import (
	"os"
	"os/exec"
	"os/signal"
	"syscall"
)

// parentDeathSignal asks the kernel to send SIGUSR2 to the host when its parent dies
// (PR_SET_PDEATHSIG) and delivers it. The kernel's notion of the parent is the thread
// that started the host, so the signal can also come when that thread alone ends in a
// live CLI: watchParent therefore takes it as a reason to look, not as proof, and a
// signal of its own keeps it apart from any SIGTERM or SIGINT meant for the host.
func parentDeathSignal() <-chan os.Signal {
	wake := make(chan os.Signal, 1)
	signal.Notify(wake, syscall.SIGUSR2)
	if _, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, syscall.PR_SET_PDEATHSIG, uintptr(syscall.SIGUSR2), 0); errno != 0 {
		// Without it the poll alone notices, a little later.
		signal.Stop(wake)
		return nil
	}
	return wake
}

// diesWithHost makes the kernel kill a program the host starts when the host itself
// dies, however it dies (even by SIGKILL, when killAll cannot run). The kernel ties the
// signal to the thread that starts the child; the Go runtime ends a thread only under a
// goroutine that exits while locked to it, which the host never does, so the signal
// comes only with the host's end.
func diesWithHost(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
}
