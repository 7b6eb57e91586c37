//go:build !unix

package gobws_test

import "time"

// processCPU returns 0: the process's CPU time is read on Unix systems
// only.
func processCPU() time.Duration { return 0 }
