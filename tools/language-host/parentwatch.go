package main

import (
	"os"
	"time"
)

// The engine (the pulumi CLI) starts the host in a process group of its own and stops it
// at the end of a run. When the CLI is killed outright (SIGKILL: a CI timeout, a cancelled
// job), nothing stops the host: it is reparented and would serve nobody for as long as the
// machine runs. The upstream hosts only notice through a health check of the engine every
// 5 minutes (rpcutil.Healthcheck in sdk/v3); this host notices within parentPollInterval,
// and at once on Linux, where the kernel signals it (parentDeathSignal).

// parentPollInterval is how often the host looks at its parent: one getppid call.
const parentPollInterval = 250 * time.Millisecond

// exitParentGone is the host's exit code when it stops because the engine is gone; no
// engine is left to read it.
const exitParentGone = 1

// watchParent calls gone once the process's parent is no longer `parent` (getppid answers
// another pid once the parent has died and the process was reparented), then returns. It
// looks every `every`, and whenever `wake` delivers (the kernel's parent-death signal,
// where there is one); a wake-up alone is not taken as proof. It runs as long as the
// parent does, which is the whole run.
func watchParent(parent int, every time.Duration, wake <-chan os.Signal, getppid func() int, gone func()) {
	ticker := time.NewTicker(every)
	defer ticker.Stop()
	for {
		select {
		case <-ticker.C:
		case <-wake:
		}
		if getppid() != parent {
			gone()
			return
		}
	}
}

// stopWithParent ends the host, and the programs it started, when the process that
// started it is gone. Started once, from main.
func stopWithParent(host *nodeHost) {
	parent := os.Getppid()
	go watchParent(parent, parentPollInterval, parentDeathSignal(), os.Getppid, func() {
		host.killAll()
		os.Exit(exitParentGone)
	})
}
