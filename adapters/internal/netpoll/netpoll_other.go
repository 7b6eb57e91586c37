//go:build !linux

package netpoll

import "syscall"

// Supported reports whether readiness events are implemented here.
const Supported = false

// Desc is a connection registered for readiness events.
type Desc struct{}

// Open fails with ErrUnsupported: see the package documentation.
func Open(syscall.RawConn) (*Desc, error) { return nil, ErrUnsupported }

// Wait fails with ErrUnsupported.
func (*Desc) Wait(func()) (bool, error) { return false, ErrUnsupported }

// Linger reports false.
func (*Desc) Linger() bool { return false }

// Unlinger does nothing.
func (*Desc) Unlinger() {}

// Close does nothing.
func (*Desc) Close() {}

// Release does nothing.
func (*Desc) Release() {}
