package fasthttp

import (
	"errors"
	"io"
	"net"
	"sync"
	"time"

	"github.com/fasthttp/websocket"

	"github.com/websock-go/websock/adapters"
	"github.com/websock-go/websock/adapters/wire"
	"github.com/websock-go/websock/websock"
)

// transport adapts a *websocket.Conn to adapters.Transport.
//
// When the server accepted the connection on a wire.Listener (as [Serve]
// does), a wire is under the library's connection: close frames are then
// the wire's, which writes the engine's between the library's frames,
// sends none after the library's, and answers the peer's close as RFC 6455
// asks where the library would not (it refuses code 1014 with 1002); and
// the reason a read ended is taken from the peer's close frame as the wire
// read it (the library reports a 1-byte payload as 1005).
type transport struct {
	ws       *websocket.Conn
	wire     *wire.Conn // nil when the server's listener is not a wire.Listener
	raw      net.Conn   // the network connection under fasthttp's hijacked wrapper and the wire
	max      int64
	buf      adapters.MessageBuffer
	deadline time.Time
	deflate  bool // permessage-deflate was negotiated

	// wmu guards ended and deadline. fasthttp recycles the hijacked connection's
	// wrapper once the hijack handler returns, so no write may reach ws
	// after that: the engine's Shutdown may still be writing a close frame
	// from another goroutine when Serve returns, and serve waits for it.
	wmu   sync.Mutex
	ended bool
}

var (
	_ adapters.Transport     = (*transport)(nil)
	_ adapters.NetConner     = (*transport)(nil)
	_ adapters.UTF8Validator = (*transport)(nil)

	_ adapters.PreparedWriter = (*transport)(nil)
	_ adapters.Releaser       = (*transport)(nil)
)

// ValidatesUTF8 reports that text is validated as it is read, unless
// Options.SkipUTF8Validation is set; fasthttp/websocket itself does not
// validate text messages.
func (t *transport) ValidatesUTF8() bool { return t.buf.ValidatesUTF8() }

// unsafeConner is implemented by the net.Conn fasthttp hands to a hijack
// handler. Its Close does nothing unless Server.KeepHijackedConns is set
// (fasthttp closes the connection once the handler returns), so Close
// could not interrupt a blocked read: the transport closes the connection
// under it instead.
type unsafeConner interface {
	UnsafeConn() net.Conn
}

func newTransport(ws *websocket.Conn, opts adapters.Options, compressed bool) *transport {
	max := opts.MaxMessageSize
	ws.SetReadLimit(max) // 0: no limit
	ws.EnableWriteCompression(compressed)
	raw := ws.NetConn()
	if u, ok := raw.(unsafeConner); ok {
		raw = u.UnsafeConn() // taken now: fasthttp clears it once the handler returns
	}
	t := &transport{ws: ws, raw: raw, max: max, deflate: compressed}
	t.buf.SkipUTF8Validation = opts.SkipUTF8Validation
	if w, ok := raw.(*wire.Conn); ok {
		// fasthttp has written the 101 response, and the library has read
		// nothing yet.
		w.Upgraded()
		t.wire, t.raw = w, w.NetConn()
	}
	return t
}

func (t *transport) Read(ev adapters.Events) error {
	t.ws.SetCloseHandler(func(int, string) error { return nil }) // the engine answers
	t.ws.SetPingHandler(func(s string) error { ev.Ping([]byte(s)); return nil })
	t.ws.SetPongHandler(func(s string) error { ev.Control(websock.OpPong, []byte(s)); return nil })
	return adapters.ReadMessages(ev, t.readMessage)
}

func (t *transport) readMessage() (websock.Opcode, []byte, error) {
	mt, r, err := t.ws.NextReader()
	if err != nil {
		return 0, nil, t.classify(err)
	}
	data, err := t.buf.ReadMessage(r, websock.Opcode(mt), t.max) // the size after decompression: the library limits wire bytes
	if err == websock.ErrMessageTooBig || err == websock.ErrInvalidUTF8 {
		return 0, nil, err
	}
	if err != nil {
		return 0, nil, t.classify(err)
	}
	return websock.Opcode(mt), data, nil
}

// classify maps a fasthttp/websocket read error to the errors
// adapters.Transport documents. Once the library has read the peer's
// close frame, the frame itself says why reading ended.
func (t *transport) classify(err error) error {
	if t.wire != nil {
		if p, ok := t.wire.PeerClose(); ok {
			return wire.CloseError(p)
		}
	}
	var ce *websocket.CloseError
	var ne net.Error
	switch {
	case errors.As(err, &ce):
		if ce.Code == websocket.CloseAbnormalClosure {
			return err // unexpected EOF
		}
		return &websock.CloseError{Code: websock.CloseCode(ce.Code), Text: ce.Text}
	case errors.Is(err, websocket.ErrReadLimit):
		return errors.Join(websock.ErrMessageTooBig, err) // the library sent 1009
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.As(err, &ne), errors.Is(err, net.ErrClosed):
		return err
	}
	// The library's protocol errors are plain errors (it has sent close
	// 1002 for most of them); corrupt compressed data is bad input too.
	return errors.Join(websock.ErrProtocol, err)
}

// errEnded is returned by writes after the connection's handler returned.
var errEnded = errors.New("websock: fasthttp connection already handed back to the server")

// end waits for a write in progress and makes every later write fail, so
// that nothing touches ws once the hijack handler returns. The connection
// is closed already, so a write in progress fails at once.
func (t *transport) end() {
	t.wmu.Lock()
	t.ended = true
	t.wmu.Unlock()
}

func (t *transport) WriteFrame(op websock.Opcode, data []byte) error {
	t.wmu.Lock()
	defer t.wmu.Unlock()
	if t.ended {
		return errEnded
	}
	if op.IsControl() {
		return t.ws.WriteControl(int(op), data, t.deadline)
	}
	return t.ws.WriteMessage(int(op), data)
}

// WritePrepared writes a prepared message's frame, shared with every
// connection that writes it with the same compression, through the wire,
// between the library's frames: the library compresses each message
// without context, so it has nothing to keep in step. Without a wire (a
// listener that is not a wire.Listener, or the client's side, whose
// frames are masked) it writes the message as WriteFrame does.
func (t *transport) WritePrepared(p *websock.Prepared) error {
	if t.wire != nil {
		t.wmu.Lock()
		if t.ended {
			t.wmu.Unlock()
			return errEnded
		}
		done, err := t.wire.WritePrepared(p, t.deflate, t.deadline)
		t.wmu.Unlock()
		if done {
			return err
		}
	}
	return t.WriteFrame(p.Op(), p.Data())
}

// WriteClose writes a close frame, unless one went out already: the
// library's own (after a protocol error or an oversized message), or an
// earlier one of the engine's. Without a wire the library says so: it then
// refuses every write with ErrCloseSent.
func (t *transport) WriteClose(code websock.CloseCode, text string) error {
	t.wmu.Lock()
	defer t.wmu.Unlock()
	if t.ended {
		return errEnded
	}
	if t.wire != nil {
		return t.wire.WriteClose(code, text, t.deadline)
	}
	var payload []byte
	if code != websock.CloseNoStatus {
		payload = websocket.FormatCloseMessage(int(code), text)
	}
	err := t.ws.WriteControl(websocket.CloseMessage, payload, t.deadline)
	if errors.Is(err, websocket.ErrCloseSent) {
		return nil
	}
	return err
}

func (t *transport) SetWriteDeadline(d time.Time) error {
	t.wmu.Lock()
	defer t.wmu.Unlock()
	if t.ended {
		return errEnded
	}
	t.deadline = d
	return t.ws.SetWriteDeadline(d)
}

func (t *transport) Close() error      { return t.raw.Close() }
func (t *transport) NetConn() net.Conn { return t.raw }

// Release drops the buffer of the last message read, once the engine is
// done with the connection.
func (t *transport) Release() { t.buf.Release() }
