//go:build unix

package adapters

import "syscall"

// descriptorLimit returns the process's soft limit of open descriptors.
func descriptorLimit() (uint64, bool) {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return 0, false
	}
	cur := uint64(rl.Cur)
	if cur == ^uint64(0) { // RLIM_INFINITY
		return 0, false
	}
	return cur, true
}
