//go:build !linux

package main

import (
	"errors"
	"fmt"
	"runtime"
)

// raiseFileLimit does nothing: the benchmark raises the limit on Linux only.
func raiseFileLimit() error { return nil }

// fileLimit returns 0: unknown.
func fileLimit() uint64 { return 0 }

// residentBytes is supported on Linux only, where /proc/self/status exists.
func residentBytes() (int64, error) {
	return 0, fmt.Errorf("resident memory on %s: %w", runtime.GOOS, errors.ErrUnsupported)
}

// cpuModel returns "unknown" outside Linux.
func cpuModel() string { return "unknown" }

// loadAverage returns "unknown" outside Linux.
func loadAverage() string { return "unknown" }
