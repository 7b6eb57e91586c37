// Package gorilla runs websock handlers on github.com/gorilla/websocket.
//
// [New] returns an http.Handler that upgrades requests through a
// websock.AcceptFunc and runs the returned Handler; [Handler.ServeConn]
// runs one over a connection the caller upgraded itself. What the library
// cannot do is declared once, in [Adapter]: nothing, so every conformance
// case passes.
//
// A prepared message (websock.Prepared) goes out as its shared frame
// bytes, framed and compressed once for every connection, written through
// the wire under the connection between the library's frames: the library
// keeps no compression context between messages, so it has nothing to
// keep in step. On a connection given to ServeConn without a wire, and on
// the client's side, it is written as any other frame.
//
// The library compresses with a window of 32 KiB and no context takeover
// whatever the client offers, so the adapter declines (the connection
// runs uncompressed) a permessage-deflate offer that limits the server's
// window (server_max_window_bits) or is invalid, where RFC 7692 would let
// a server that can limit its window accept the first.
package gorilla

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/websock-go/websock/adapters"
	"github.com/websock-go/websock/adapters/internal/pmdeflate"
	"github.com/websock-go/websock/adapters/wire"
	"github.com/websock-go/websock/websock"
)

// Options configures a Handler; nil means defaults. See adapters.Options.
type Options = adapters.Options

// Adapter describes this adapter: its name, shown in ConnInfo.Adapter, and
// what its library lacks.
var Adapter = adapters.Adapter{
	Name:           "gorilla",
	Library:        "github.com/gorilla/websocket",
	Server:         "net/http",
	IdleGoroutines: 1, // the connection's own: gorilla/websocket runs none
	Lacks: adapters.Lacks{
		HTTP2: "gorilla/websocket upgrades only by hijacking an HTTP/1.1 connection, and cannot run a connection over an HTTP/2 stream",
	},
}

// Handler is an http.Handler that upgrades WebSocket requests with
// gorilla/websocket and runs websock handlers on them.
type Handler struct {
	e *adapters.Engine
	// up upgrades with permessage-deflate, upPlain without: an offer the
	// library would answer wrongly is upgraded without it.
	up, upPlain websocket.Upgrader
}

var _ http.Handler = (*Handler)(nil)

// writePool shares write buffers between connections, so that an idle
// connection holds none.
var writePool sync.Pool

// New returns a Handler that accepts upgrades through accept, configured
// by opts. gorilla/websocket honours every option, so the error is always
// nil; it is there so that every adapter's New has the same shape.
func New(accept websock.AcceptFunc, opts *Options) (*Handler, error) {
	e, err := adapters.NewEngine(Adapter, accept, opts)
	if err != nil {
		return nil, err
	}
	h := &Handler{e: e, upPlain: websocket.Upgrader{
		WriteBufferPool: &writePool,
		CheckOrigin:     func(*http.Request) bool { return true }, // the engine checked it
		Error:           func(http.ResponseWriter, *http.Request, int, error) {},
	}}
	h.up = h.upPlain
	h.up.EnableCompression = true
	return h, nil
}

// ServeHTTP upgrades r and returns; the connection runs on a goroutine of
// its own until it ends (Shutdown waits for it).
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.e.ServeHTTP(w, r, h.upgrade) }

func (h *Handler) upgrade(w http.ResponseWriter, r *http.Request, u adapters.Upgrade) (adapters.Upgraded, error) {
	var hdr http.Header
	if u.Subprotocol != "" {
		hdr = http.Header{"Sec-Websocket-Protocol": {u.Subprotocol}}
	}
	// The library hijacks the connection through rw, which puts a wire
	// under it: see transport.
	rw := &wire.ResponseWriter{ResponseWriter: w}
	up := &h.upPlain
	compressed := false
	if u.Compression {
		// The library accepts the first permessage-deflate offer,
		// whatever its parameters: it is handed the first it can honour,
		// alone.
		if offer, ok := pmdeflate.Honourable(r.Header); ok {
			r2 := *r
			r2.Header = r.Header.Clone()
			r2.Header.Set("Sec-WebSocket-Extensions", offer)
			r, up, compressed = &r2, &h.up, true
		}
	}
	ws, err := up.Upgrade(rw, r, hdr)
	if err != nil {
		// The engine validated the request, so the upgrade failed in the
		// hijack or the response write: the connection is gone.
		return adapters.Upgraded{}, err
	}
	return adapters.Upgraded{Transport: newTransport(ws, h.e.Options(), compressed), Compressed: compressed}, nil
}

// ServeConn runs handler over ws, a connection the caller upgraded with
// gorilla/websocket, until it ends, and returns why it ended. r is the
// upgrade request, for ConnInfo; it may be nil. The connection is tracked
// by h, so h.Shutdown closes it too.
//
// Unless the caller upgraded through a wire.ResponseWriter, the adapter
// sees the peer's close frame only as the library reports it: a close
// with a 1-byte payload is taken for one without a code, and code 1014 is
// refused with 1002, as the library does.
func (h *Handler) ServeConn(ws *websocket.Conn, r *http.Request, handler websock.Handler) websock.Reason {
	info := &websock.ConnInfo{RemoteAddr: ws.RemoteAddr().String(), Subprotocol: ws.Subprotocol()}
	if r != nil {
		info.URL, info.Header = r.URL, r.Header
	}
	return h.e.Run(newTransport(ws, h.e.Options(), false), handler, info)
}

// Shutdown closes every connection with 1001 and waits for their
// Terminate; see adapters.Engine.Shutdown. Call it before the HTTP
// server's own Shutdown, which does not close upgraded connections.
func (h *Handler) Shutdown(ctx context.Context) error { return h.e.Shutdown(ctx) }

// Restart is Shutdown with close 1012 (service restart).
func (h *Handler) Restart(ctx context.Context) error { return h.e.Restart(ctx) }

// Live returns how many connections are running.
func (h *Handler) Live() int { return h.e.Live() }

// transport adapts a *websocket.Conn to adapters.Transport.
//
// With a wire under the library's connection (the adapter upgraded it),
// close frames are the wire's: it writes the engine's between the
// library's frames, sends none after the library's, and answers the
// peer's close as RFC 6455 asks where the library would not (it refuses
// code 1014 with 1002); and the reason a read ended is taken from the
// peer's close frame as the wire read it (the library reports a 1-byte
// payload as 1005).
type transport struct {
	ws       *websocket.Conn
	wire     *wire.Conn // nil on a connection upgraded without one
	max      int64
	buf      adapters.MessageBuffer
	deadline time.Time
	deflate  bool // permessage-deflate was negotiated
}

var (
	_ adapters.Transport      = (*transport)(nil)
	_ adapters.NetConner      = (*transport)(nil)
	_ adapters.UTF8Validator  = (*transport)(nil)
	_ adapters.PreparedWriter = (*transport)(nil)
	_ adapters.Releaser       = (*transport)(nil)
)

func newTransport(ws *websocket.Conn, opts adapters.Options, compressed bool) *transport {
	ws.SetReadLimit(opts.MaxMessageSize) // 0: no limit
	ws.EnableWriteCompression(compressed)
	w, _ := ws.NetConn().(*wire.Conn)
	t := &transport{ws: ws, wire: w, max: opts.MaxMessageSize, deflate: compressed}
	t.buf.SkipUTF8Validation = opts.SkipUTF8Validation
	return t
}

// ValidatesUTF8 reports that text is validated as it is read, unless
// Options.SkipUTF8Validation is set; gorilla/websocket itself does not
// validate text messages.
func (t *transport) ValidatesUTF8() bool { return t.buf.ValidatesUTF8() }

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

// classify maps a gorilla read error to the errors adapters.Transport
// documents. Once the library has read the peer's close frame, the frame
// itself says why reading ended.
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
		return websock.ErrMessageTooBig
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.As(err, &ne), errors.Is(err, net.ErrClosed):
		return err
	}
	// gorilla's protocol errors are plain errors (it has sent close 1002
	// for most of them); corrupt compressed data is bad input too.
	return errors.Join(websock.ErrProtocol, err)
}

func (t *transport) WriteFrame(op websock.Opcode, data []byte) error {
	if op.IsControl() {
		return t.ws.WriteControl(int(op), data, t.deadline)
	}
	return t.ws.WriteMessage(int(op), data)
}

// WritePrepared writes a prepared message's frame, shared with every
// connection that writes it with the same compression, through the wire,
// between the library's frames: the library compresses each message
// without context, so it has nothing to keep in step. Without a wire (a
// connection upgraded elsewhere, or the client's side, whose frames are
// masked) it writes the message as WriteFrame does.
func (t *transport) WritePrepared(p *websock.Prepared) error {
	if t.wire != nil {
		if done, err := t.wire.WritePrepared(p, t.deflate, t.deadline); done {
			return err
		}
	}
	return t.WriteFrame(p.Op(), p.Data())
}

// WriteClose writes a close frame, unless one went out already: the
// library's own (after a protocol error or an oversized message), or an
// earlier one of the engine's.
func (t *transport) WriteClose(code websock.CloseCode, text string) error {
	if t.wire != nil {
		return t.wire.WriteClose(code, text, t.deadline)
	}
	var payload []byte
	if code != websock.CloseNoStatus {
		payload = websocket.FormatCloseMessage(int(code), text)
	}
	err := t.ws.WriteControl(websocket.CloseMessage, payload, t.deadline)
	if errors.Is(err, websocket.ErrCloseSent) {
		return nil // the library sent one: it says so, and refuses a second
	}
	return err
}

func (t *transport) SetWriteDeadline(d time.Time) error {
	t.deadline = d
	return t.ws.SetWriteDeadline(d)
}

func (t *transport) Close() error { return t.ws.Close() }

// NetConn returns the network connection, under the wire if there is one.
func (t *transport) NetConn() net.Conn {
	if t.wire != nil {
		return t.wire.NetConn()
	}
	return t.ws.NetConn()
}

// Release drops the buffer of the last message read, once the engine is
// done with the connection.
func (t *transport) Release() { t.buf.Release() }
