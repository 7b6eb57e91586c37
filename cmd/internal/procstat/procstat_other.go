//go:build !linux

package procstat

import (
	"errors"
	"fmt"
	"runtime"
)

// RaiseFileLimit does nothing outside Linux.
func RaiseFileLimit() error { return nil }

// FileLimit returns 0: unknown.
func FileLimit() uint64 { return 0 }

// ResidentBytes is supported on Linux only, where /proc/self/status exists.
func ResidentBytes() (int64, error) {
	return 0, fmt.Errorf("resident memory on %s: %w", runtime.GOOS, errors.ErrUnsupported)
}

// OpenFiles is supported on Linux only, where /proc/self/fd exists.
func OpenFiles() (int, error) {
	return 0, fmt.Errorf("open files on %s: %w", runtime.GOOS, errors.ErrUnsupported)
}
