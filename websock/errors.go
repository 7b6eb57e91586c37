package websock

import (
	"errors"
	"fmt"
	"net/http"
)

// Errors a [Reason] can carry, checked with errors.Is. Each names the close
// code the engine sends for it in the table on [Reason].
var (
	// ErrProtocol: the peer broke RFC 6455 (malformed frame, reserved
	// opcode or bits, unmasked client frame, bad control frame, invalid
	// close code). Close 1002.
	ErrProtocol = errors.New("websock: protocol error")

	// ErrInvalidUTF8: a text message or close reason was not valid UTF-8.
	// Close 1007.
	ErrInvalidUTF8 = errors.New("websock: invalid UTF-8 in text message")

	// ErrMessageTooBig: a message exceeded the configured maximum size;
	// raise the adapter's MaxMessageSize option to accept larger messages.
	// Close 1009.
	ErrMessageTooBig = errors.New("websock: message exceeds the maximum message size")

	// ErrConnectionLost: the connection ended without a close frame (the
	// peer vanished, the TCP connection was reset or closed). No close
	// frame can be sent; the code reported is 1006.
	ErrConnectionLost = errors.New("websock: connection lost without a close frame")

	// ErrWriteFailed: writing to the peer failed or timed out, for example
	// because a slow client stopped reading. Close 1006.
	ErrWriteFailed = errors.New("websock: write to peer failed")

	// ErrWriteTimeout: a write to the peer did not end within the write
	// timeout: the peer reads more slowly than the server writes (a slow
	// consumer), or stopped reading. Close 1006 (no close frame can get
	// through); Terminate sees a Timeout reason whose Err matches both
	// ErrWriteTimeout and ErrWriteFailed.
	ErrWriteTimeout = errors.New("websock: write to peer timed out: the peer reads too slowly (slow consumer)")

	// ErrRestart, given to [Stop], closes with 1012 (service restart), as
	// WebSock's {:shutdown, :restart}. Terminate sees a Shutdown reason
	// wrapping it.
	ErrRestart = errors.New("websock: service restart")

	// ErrInvalidCloseCode: a handler asked to close with a code that may not
	// be sent (see [CloseCode.Sendable]). The engine closes with 1011
	// instead.
	ErrInvalidCloseCode = errors.New("websock: invalid close code; use 1000-1003, 1007-1014 or 3000-4999")

	// ErrMailboxFull is returned by [Conn.Send] when the connection's
	// mailbox holds as many messages as it may; the message was not queued.
	// Retry later, drop the message, or raise the MailboxSize option. When
	// the adapter is set to close such connections, Terminate sees it too,
	// with close 1013.
	ErrMailboxFull = errors.New("websock: connection mailbox is full")

	// ErrClosed is returned by [Conn.Send] once the connection has ended or
	// is closing; the message was not queued.
	ErrClosed = errors.New("websock: connection is closed")

	// ErrIdleTimeout: nothing was sent or received for longer than the idle
	// timeout. Close 1001; Terminate sees a Timeout reason.
	ErrIdleTimeout = errors.New("websock: idle timeout")

	// ErrPongTimeout: the peer did not answer a keepalive ping within the
	// pong timeout. Close 1001; Terminate sees a Timeout reason.
	ErrPongTimeout = errors.New("websock: no pong to a keepalive ping within the pong timeout")

	// ErrShutdown: the server is shutting down. Close 1001; Terminate sees a
	// Shutdown reason.
	ErrShutdown = errors.New("websock: server shutting down")
)

// CloseError is the close frame a peer sent: its code and reason text. A
// Remote [Reason] wraps one; find it with errors.As.
type CloseError struct {
	Code CloseCode
	Text string
}

func (e *CloseError) Error() string {
	if e.Text == "" {
		return fmt.Sprintf("websock: peer closed with %v", e.Code)
	}
	return fmt.Sprintf("websock: peer closed with %v: %q", e.Code, e.Text)
}

// PanicError is the cause when a handler callback panicked. The engine
// recovers the panic, closes with 1011 and passes a PanicError to
// Terminate, so one faulty connection never takes the server down.
type PanicError struct {
	Callback string // "Init", "HandleIn", "HandleInfo" or "HandleControl"
	Value    any    // the value passed to panic
	Stack    []byte // the panicking goroutine's stack
}

func (e *PanicError) Error() string {
	return fmt.Sprintf("websock: handler panicked in %s: %v", e.Callback, e.Value)
}

// Unwrap returns the panic value when it is an error.
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}

// HTTPError refuses an upgrade: an [AcceptFunc] returns one (see [Refuse])
// and the adapter answers the HTTP request with Status, Header and Body
// instead of upgrading. The handler is never created.
type HTTPError struct {
	Status int
	Body   string
	Header http.Header // extra response headers, such as WWW-Authenticate or Retry-After
}

// Refuse returns an [HTTPError] refusing the upgrade with status and body.
func Refuse(status int, body string) *HTTPError {
	return &HTTPError{Status: status, Body: body}
}

func (e *HTTPError) Error() string {
	return fmt.Sprintf("websock: upgrade refused with HTTP %d: %s", e.Status, e.Body)
}
