package adapters

import (
	"context"
	"net"
	"time"

	"github.com/websock-go/websock/websock"
)

// Transport is the WebSocket side of one connection, which an adapter
// implements over its library's connection and hands to the engine once
// upgraded (see [Upgraded]).
//
// The engine calls Read once, on the goroutine that runs the connection
// (or, for an [EventTransport], ReadReady on each readiness event instead).
// It calls the write methods from that goroutine and from others
// (Conn.Send's delivery, timers, Shutdown), but never two of them
// concurrently, and Close from any goroutine at any time. Once the
// connection has ended (Terminate has been called), the engine calls no
// method of the Transport again, so the adapter may release or recycle the
// library's connection.
type Transport interface {
	Writer

	// Read reads from the peer until the connection ends, on the calling
	// goroutine, and reports to ev as it goes: every complete text or
	// binary message to ev.Message, fragments reassembled; every ping and
	// pong to ev.Ping or ev.Control. ev is the same for the whole
	// connection, and is given before anything is read.
	//
	// Read returns the error that ended reading. When the peer sent a close
	// frame, an error wrapping a *websock.CloseError with the frame's code
	// and reason, or websock.CloseNoStatus for an empty payload (the engine
	// refuses a code that may not be sent, and a reason that is not
	// UTF-8, with 1002; a 1-byte payload is the Transport's to refuse, as
	// a protocol error); for bad input, one
	// wrapping websock.ErrProtocol, websock.ErrInvalidUTF8 or
	// websock.ErrMessageTooBig; when ev.Message returns an error, that
	// error (or any other: the engine has decided already). Anything else
	// is taken to mean the connection was lost.
	//
	// A library that returns whole messages can implement Read with
	// [ReadMessages]. A library that runs its own read loop and calls back
	// on every message runs that loop in Read, on the calling goroutine,
	// and calls ev from its callbacks: the connection then costs no
	// goroutine beyond the library's own (package wire shows the pattern).
	// When the library hides or refuses what the peer's close frame said,
	// a wire.Conn under its connection reports the frame itself.
	Read(ev Events) error
}

// Writer is the write side of a connection, common to the three shapes a
// Transport takes: a [Transport], which the engine reads by calling Read;
// an [EventTransport], which it reads on readiness events; and a
// [PushTransport], whose library pushes what it reads into an [Inbox].
// [Upgraded] carries any of them as a Writer. See Transport for who calls
// these methods, and from where.
type Writer interface {
	// WriteFrame writes one complete text, binary, ping or pong frame.
	WriteFrame(op websock.Opcode, data []byte) error

	// WriteClose writes a close frame with code and text, or with an empty
	// payload when code is websock.CloseNoStatus. It must not wait for the
	// peer's answer, and should do nothing if the library already sent a
	// close frame itself.
	WriteClose(code websock.CloseCode, text string) error

	// SetWriteDeadline sets the deadline of the writes that follow; the
	// zero time means none.
	SetWriteDeadline(t time.Time) error

	// Close closes the connection at once. It may be called concurrently
	// with Read, which must then return, and with a blocked write, which
	// must then fail, and more than once.
	Close() error
}

// Events is where a Transport reports what it reads. The engine gives it
// to [Transport.Read] (or [EventTransport.ReadReady]); its methods may be
// called only from within that call, on its goroutine.
type Events interface {
	// Message hands a complete text or binary message to the handler; data
	// is the transport's and may be reused once Message returns. A non-nil
	// error means the connection is ending: Read must stop reading and
	// return.
	Message(op websock.Opcode, data []byte) error

	// Ping reports a ping the library received and did not answer: the
	// engine answers it with a pong of the same payload, then shows it to
	// HandleControl.
	Ping(payload []byte)

	// Control reports a control frame that needs no answer from the
	// engine: a pong, or a ping the library already answered.
	Control(op websock.Opcode, payload []byte)
}

// ReadMessages is the Read of a Transport whose library returns whole
// messages: it calls next until next fails, reports each message to ev,
// and returns the error that ended it.
func ReadMessages(ev Events, next func() (websock.Opcode, []byte, error)) error {
	for {
		op, data, err := next()
		if err != nil {
			return err
		}
		if err := ev.Message(op, data); err != nil {
			return err
		}
	}
}

// NetConner is implemented by a Transport that can hand out its
// underlying network connection. When a connection fails because of bad
// input, the engine then closes it gracefully: it half-closes the TCP
// connection and discards what the peer still sends for up to the close
// timeout, so that the peer reads the close frame instead of a reset.
type NetConner interface {
	NetConn() net.Conn
}

// UTF8Validator is implemented by a Transport that validates text messages
// itself, as their bytes arrive; ValidatesUTF8 returning true stops the
// engine from checking each message again once it is whole.
type UTF8Validator interface {
	ValidatesUTF8() bool
}

// Pinger is implemented by a Transport whose library hides the pongs it
// receives but can ping the peer and wait for the answer itself. The
// engine then uses Ping for keepalive: it calls it on a goroutine of its
// own with a context that ends after the pong timeout, and counts a nil
// return as a pong received.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Releaser is implemented by a Transport that holds what it must free once
// the connection has ended (the library's connection, pooled buffers).
// The engine calls Release once, after Terminate; it calls no method of
// the Transport after it.
type Releaser interface {
	Release()
}
