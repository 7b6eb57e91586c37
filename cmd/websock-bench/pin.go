package main

import (
	"fmt"
	"os/exec"
	"runtime"
)

// Pinning: with -pin (the default), the server process runs on CPU 0 and
// the load client on CPU 1, each through taskset(1), so the server has a
// core to itself (Go then sets GOMAXPROCS to 1 from the affinity mask) and
// the figures are the cost per message on one core rather than the load
// client's. Where there is no taskset (not Linux, or util-linux missing)
// or fewer than two CPUs, the processes run unpinned and every output says
// so.

// serverCPU and clientCPU are the CPUs the two processes are pinned to.
const (
	serverCPU = 0
	clientCPU = 1
)

// pinning says how a run places its processes.
type pinning struct {
	taskset string // the taskset program, or "" when unpinned
	note    string // how the processes were placed, for the outputs
}

// newPinning returns the placement -pin asks for, and what it could get.
func newPinning(pin bool) pinning {
	switch {
	case !pin:
		return pinning{note: "unpinned (-pin=false)"}
	case runtime.NumCPU() < 2:
		return pinning{note: fmt.Sprintf("unpinned: %d CPU, pinning needs two", runtime.NumCPU())}
	}
	path, err := exec.LookPath("taskset")
	if err != nil {
		return pinning{note: "unpinned: no taskset on PATH (Debian: util-linux)"}
	}
	return pinning{taskset: path, note: fmt.Sprintf("server pinned to CPU %d, load client to CPU %d (taskset)", serverCPU, clientCPU)}
}

// command returns the program and arguments that run exe with args,
// pinned as p says for a process of the kind args[0] names.
func (p pinning) command(exe string, args []string) (string, []string) {
	if p.taskset == "" || len(args) == 0 {
		return exe, args
	}
	cpu := clientCPU
	if args[0] == "server" {
		cpu = serverCPU
	}
	return p.taskset, append([]string{"-c", fmt.Sprint(cpu), exe}, args...)
}
