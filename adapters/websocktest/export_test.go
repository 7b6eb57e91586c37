package websocktest

import "time"

// SetLeakWait sets how long the leak check waits, for the tests of the
// check itself, and returns a function that restores it.
func SetLeakWait(d time.Duration) (restore func()) {
	old := leakWait
	leakWait = d
	return func() { leakWait = old }
}
