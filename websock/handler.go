package websock

// Handler is the behaviour of one WebSocket connection. An [AcceptFunc]
// returns a new Handler for each connection; the engine then calls it.
//
// Who calls what, and when:
//   - Init once, when the connection is live, before any other callback.
//     Frames it pushes go out before any HandleIn runs.
//   - HandleIn for each complete text or binary message, fragments already
//     reassembled and text already checked to be valid UTF-8.
//   - HandleInfo for each value passed to [Conn.Send], in the order the
//     Sends happened, interleaved with HandleIn.
//   - Terminate exactly once, last, with the [Reason] the connection ended.
//     Nothing runs after it.
//
// The callbacks of one connection never run concurrently and each happens
// before the next, so a Handler's fields need no locks. They may run on
// different goroutines. A callback must not block for long: while it runs,
// the connection reads nothing and delivers nothing.
//
// Every callback but Terminate returns a [Result]; its table says what each
// Result does. Data passed to a callback is valid only until it returns.
//
// A callback that panics is recovered: the connection closes with 1011 and
// Terminate sees a [*PanicError]. A panic in Terminate is recovered and
// dropped. Other connections are not affected.
//
// Optional behaviour is found by type assertion, the way database/sql finds
// optional driver interfaces: see [ControlHandler].
type Handler interface {
	Init(c Conn) Result
	HandleIn(f Frame) Result
	HandleInfo(msg any) Result
	Terminate(r Reason)
}

// ControlHandler is implemented by a [Handler] that wants to observe ping
// and pong frames from the peer. The engine has already answered a ping
// with a pong of the same payload when HandleControl sees it; HandleControl
// only observes, and its Result is applied like any other. When a Handler
// does not implement it, control frames are answered and otherwise ignored.
// Some libraries do not report control frames; their adapters say so.
type ControlHandler interface {
	HandleControl(f Frame) Result
}

// Abandoner is implemented by a [Handler] that must release what its
// [AcceptFunc] reserved (a seat in a room, a quota slot) when the
// connection never starts: the upgrade failed after the AcceptFunc
// returned the Handler, or the server began shutting down in between.
// Init and Terminate never run for such a Handler; the engine calls
// Abandon once instead, on the request's goroutine, with why. The
// error wraps [ErrShutdown] when the server was shutting down; anything
// else means the upgrade failed.
type Abandoner interface {
	Abandon(err error)
}

// HandlerFunc adapts a function to a [Handler] for the common case of a
// connection that only answers messages: HandleIn calls the function, Init
// and HandleInfo return OK, and Terminate does nothing.
type HandlerFunc func(f Frame) Result

// Init returns OK.
func (fn HandlerFunc) Init(Conn) Result { return Result{} }

// HandleIn calls fn(f).
func (fn HandlerFunc) HandleIn(f Frame) Result { return fn(f) }

// HandleInfo returns OK.
func (fn HandlerFunc) HandleInfo(any) Result { return Result{} }

// Terminate does nothing.
func (fn HandlerFunc) Terminate(Reason) {}
