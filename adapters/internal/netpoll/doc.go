// Package netpoll tells when connections become readable without a
// goroutine parked on each, and runs the work of a connection that became
// readable on a bounded pool of goroutines.
//
// On Linux it is an epoll instance of its own, next to the Go runtime's:
// a connection's descriptor is registered, through syscall.RawConn.Control,
// for EPOLLIN and EPOLLRDHUP with EPOLLONESHOT, so that one readiness
// event calls the connection's function once, on a pool goroutine, and the
// connection asks again ([Desc.Wait]) to hear of the next. The
// descriptor stays in non-blocking mode under the runtime's poller, which
// still serves every read, write and deadline: this package never reads
// or writes a descriptor itself. While any descriptor is registered, one
// goroutine waits for the epoll instance to have events, and exits when
// none is; the instance's own descriptor is in the runtime's poller too,
// so that goroutine waits parked, as one reading a connection does, with
// no thread blocked in epoll_wait.
//
// Elsewhere [Supported] is false and [Open] fails: callers fall back to a
// goroutine per connection.
package netpoll

import "errors"

// ErrClosed is returned by [Desc.Wait] once [Desc.Close] has been called.
var ErrClosed = errors.New("netpoll: connection closed")

// ErrUnsupported is returned by [Open] where readiness events are not
// implemented (any system but Linux).
var ErrUnsupported = errors.New("netpoll: readiness events are implemented on Linux only")
