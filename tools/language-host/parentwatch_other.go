//go:build !linux

package main

import (
	"os"
	"os/exec"
)

// parentDeathSignal: no kernel notice outside Linux; watchParent's poll notices alone.
func parentDeathSignal() <-chan os.Signal { return nil }

// diesWithHost: outside Linux the program is stopped by killAll when the host notices
// that its parent is gone.
func diesWithHost(*exec.Cmd) {}
