package coderstyle

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/websock-go/websock/adapters"
	"github.com/websock-go/websock/adapters/wire"
	"github.com/websock-go/websock/websock"
)

// transport adapts a library connection to adapters.Transport.
//
// With a wire (the adapter accepted the connection), it reads with a
// context that is never cancelled, writes control frames and close frames
// through the wire, sets write deadlines on the network connection, and
// closes by closing it: nothing allocates per message, and nothing blocks
// on the library's locks, so the engine may call it from within the
// library's ping and pong callbacks.
//
// Without one (ServeConn on a connection accepted elsewhere) only the
// library's API is left: a read context that Close cancels, which makes
// the library close the connection; a context per write for the deadline;
// the library's Close for close frames; and no pings or pongs of the
// handler's own.
type transport[M ~int, S ~int] struct {
	ws         Conn[M, S]
	wire       frameWriter   // nil without one
	hook       *controlHook  // the library's ping and pong hooks, when it has them
	in         *serverFrames // under a client connection: what the server sent
	closeError func(error) (websock.CloseCode, string, bool)
	max        int64 // 0: no limit
	buf        adapters.MessageBuffer
	deadline   time.Time
	deflate    bool // permessage-deflate was negotiated

	// ctx is the read context. Cancelling it makes the library close the
	// connection, so it is cancelled only to end the connection.
	ctx    context.Context
	cancel context.CancelFunc
}

var (
	_ adapters.Transport = (*transport[int, int])(nil)
	_ adapters.Pinger    = (*transport[int, int])(nil)
	_ adapters.Releaser  = (*transport[int, int])(nil)

	_ adapters.PreparedWriter = (*transport[int, int])(nil)

	_ adapters.UTF8Validator = (*transport[int, int])(nil)
)

// ValidatesUTF8 reports that text is validated as it is read, unless
// Options.SkipUTF8Validation is set; the libraries do not validate text
// messages themselves.
func (t *transport[M, S]) ValidatesUTF8() bool { return t.buf.ValidatesUTF8() }

func newTransport[M ~int, S ~int](ws Conn[M, S], w frameWriter, closeError func(error) (websock.CloseCode, string, bool), max int64, skipUTF8 bool) *transport[M, S] {
	t := &transport[M, S]{ws: ws, wire: w, closeError: closeError, max: max}
	t.buf.SkipUTF8Validation = skipUTF8
	if w != nil {
		t.ctx, t.cancel = context.Background(), func() {}
	} else {
		t.ctx, t.cancel = context.WithCancel(context.Background())
	}
	// ReadMessage enforces max itself, after decompression, and reports it
	// as ErrMessageTooBig; the library's own limit (32 KiB) is turned off.
	ws.SetReadLimit(-1)
	return t
}

// netTransport is a transport with a wire, which can hand out the network
// connection for the engine's lingering close.
type netTransport[M ~int, S ~int] struct{ *transport[M, S] }

var _ adapters.NetConner = netTransport[int, int]{}

// NetConn returns the network connection, under the wire.
func (t netTransport[M, S]) NetConn() net.Conn { return t.wire.NetConn() }

// Read reads messages until the connection ends. The library's ping and
// pong hooks report to ev from then on.
func (t *transport[M, S]) Read(ev adapters.Events) error {
	if t.hook != nil {
		t.hook.ev = ev
	}
	return adapters.ReadMessages(ev, t.readMessage)
}

// Ping pings the peer and waits for the pong, which the library consumes
// itself: the engine's keepalive uses it.
func (t *transport[M, S]) Ping(ctx context.Context) error { return t.ws.Ping(ctx) }

func (t *transport[M, S]) readMessage() (websock.Opcode, []byte, error) {
	mt, r, err := t.ws.Reader(t.ctx)
	if err != nil {
		return 0, nil, t.classify(err)
	}
	data, err := t.buf.ReadMessage(r, websock.Opcode(mt), t.max) // the size after decompression: the library limits wire bytes
	if err == websock.ErrMessageTooBig || err == websock.ErrInvalidUTF8 {
		return 0, nil, err
	}
	if err == nil && t.in != nil && t.in.readErr() != nil {
		// The library ends a message cut short by the connection as if
		// it were whole.
		err = t.in.readErr()
	}
	if err != nil {
		return 0, nil, t.classify(err)
	}
	return websock.Opcode(mt), data, nil
}

// classify maps a library read error to the errors adapters.Transport
// documents. The libraries have no sentinel for bad input, but they fail
// in only two other ways: the connection went away, or the peer broke the
// protocol.
func (t *transport[M, S]) classify(err error) error {
	if t.in != nil {
		if rerr := t.in.readErr(); rerr != nil {
			if _, _, ok := t.closeError(err); !ok {
				return rerr // the connection ended (or the server masked a frame) before the library's error
			}
		}
	}
	if code, text, ok := t.closeError(err); ok {
		return &websock.CloseError{Code: code, Text: text}
	}
	var ne net.Error
	switch {
	case errors.Is(err, websock.ErrInvalidUTF8): // the wire saw it
		return err
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed),
		errors.Is(err, context.Canceled), errors.As(err, &ne):
		return err
	}
	return fmt.Errorf("%w: %w", websock.ErrProtocol, err) // e.g. an unmasked frame, corrupt compressed data
}

// errControlUnsupported refuses a ping or pong pushed on a connection
// accepted outside the adapter.
var errControlUnsupported = fmt.Errorf("%w: the library cannot write a ping or pong of the handler's own; "+
	"let the adapter accept the connection (New) instead of accepting it yourself (ServeConn)", errors.ErrUnsupported)

func (t *transport[M, S]) WriteFrame(op websock.Opcode, data []byte) error {
	switch {
	case op.IsControl() && t.wire == nil:
		return errControlUnsupported
	case op.IsControl():
		return t.wire.WriteControl(op, data, t.deadline)
	case t.wire != nil:
		t.wire.SetWriteDeadline(t.deadline)
		err := t.ws.Write(context.Background(), M(op), data)
		t.wire.SetWriteDeadline(time.Time{}) // the library's own writes keep their own timeouts
		if err != nil && t.wire.CloseSent() {
			// The library refuses to write after the close frame it sent
			// (echoing the peer's, or refusing bad input) while this write
			// waited: ReadMessage is about to report why, which a write
			// failure must not pre-empt.
			return nil
		}
		return err
	case t.deadline.IsZero():
		return t.ws.Write(context.Background(), M(op), data)
	}
	ctx, cancel := context.WithDeadline(context.Background(), t.deadline)
	defer cancel()
	return t.ws.Write(ctx, M(op), data)
}

// WritePrepared writes a prepared message's frame, shared with every
// connection that writes it with the same compression, through the wire,
// between the library's frames: the library compresses each message
// without context, so it has nothing to keep in step. Without a server's
// wire (a connection accepted elsewhere, or the client's side, whose
// frames are masked) it writes the message as WriteFrame does.
func (t *transport[M, S]) WritePrepared(p *websock.Prepared) error {
	if w, ok := t.wire.(*wire.Conn); ok {
		if done, err := w.WritePrepared(p, t.deflate, t.deadline); done {
			return err
		}
	}
	return t.WriteFrame(p.Op(), p.Data())
}

// WriteClose writes a close frame through the wire. Without one it calls
// the library's Close, which writes the close frame, unless the library
// wrote one already, and then waits for the peer's for up to 5 seconds
// before it closes the connection; so there the engine's CloseTimeout
// gives way to the library's.
func (t *transport[M, S]) WriteClose(code websock.CloseCode, text string) error {
	if t.wire != nil {
		return t.wire.WriteClose(code, text, t.deadline)
	}
	t.ws.Close(S(code), text) // its errors all end with the connection closed
	return nil
}

func (t *transport[M, S]) SetWriteDeadline(d time.Time) error {
	t.deadline = d
	return nil
}

// Close closes the connection at once. With a wire it closes the network
// connection, and touches none of the library's locks, which a ping
// callback may hold. Without one it cancels the read context, which ends
// a read in progress, and closes the library connection.
func (t *transport[M, S]) Close() error {
	if t.wire != nil {
		return t.wire.Close()
	}
	t.cancel()
	return t.ws.CloseNow()
}

// Release frees what the library holds for the connection, once the
// engine is done with it.
func (t *transport[M, S]) Release() {
	t.buf.Release()
	t.cancel()
	t.ws.CloseNow()
}
