// Package gws is the websock adapter for github.com/lxzan/gws on a
// net/http server.
//
// The library runs its own read loop and calls back on every message,
// ping and pong; the adapter runs that loop on the goroutine that runs the
// connection, so an idle connection holds one goroutine, as it does on gws
// alone. See [Adapter] for what the library lacks: nothing.
//
// What gws would do on its own and the engine does instead: gws answers
// no ping (the engine does), and the close frames gws writes (the echo of
// the peer's close, the code of a read error) never reach the peer: the
// engine writes its own, with the codes every adapter sends.
// Compression uses no context takeover either way, so a connection keeps
// no compression window; the adapter negotiates it, accepting every valid
// offer, with the server window a client asks for. gws cannot buffer a frame of 2 GiB or more: with
// MaxMessageSize negative (no limit), larger messages still close 1009.
//
// A prepared message (websock.Prepared) goes out as its shared frame
// bytes, in one write on the network connection: framed once, and
// compressed once for the connections with a 32 KiB server window and
// once (Huffman codes only) for those with a smaller one. gws's own
// Broadcaster shares one compressed frame between every compressed
// connection whatever its window; the adapter keeps the windows apart.
// The client's side writes a prepared message as any other frame.
package gws

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lxzan/gws"

	"github.com/websock-go/websock/adapters"
	"github.com/websock-go/websock/adapters/internal/pmdeflate"
	"github.com/websock-go/websock/adapters/internal/utf8stream"
	"github.com/websock-go/websock/websock"
)

// Options configures the adapter; see [adapters.Options].
type Options = adapters.Options

// Adapter declares this adapter to the engine, the conformance suite and
// the documentation.
var Adapter = adapters.Adapter{
	Name:           "gws",
	Library:        "github.com/lxzan/gws",
	Server:         "net/http",
	IdleGoroutines: 1, // the connection's own, which runs gws's read loop
	Lacks: adapters.Lacks{
		HTTP2: "gws upgrades only HTTP/1.1 requests (a GET with Upgrade and Sec-WebSocket-Key) and writes the 101 answer itself, so it cannot run a connection over an HTTP/2 stream",
	},
}

// Handler is an http.Handler that upgrades every request it serves to a
// WebSocket connection run by the engine.
type Handler struct {
	e  *adapters.Engine
	up *gws.Upgrader // compresses, if at all, with a window of 32 KiB

	// windowed holds the upgraders for the server windows of 2^8 to 2^14
	// bytes a client may ask for (RFC 7692 section 7.1.2.1), made when
	// first asked for: gws takes the window from its options.
	windowed [7]struct {
		once sync.Once
		up   *gws.Upgrader
	}
}

// New returns a Handler that accepts upgrades through accept, configured
// by opts (nil means defaults).
func New(accept websock.AcceptFunc, opts *Options) (*Handler, error) {
	e, err := adapters.NewEngine(Adapter, accept, opts)
	if err != nil {
		return nil, err
	}
	return &Handler{e: e, up: newUpgrader(e.Options(), 15)}, nil
}

// newUpgrader returns a gws upgrader for o that compresses with a window
// of 2^bits bytes.
func newUpgrader(o adapters.Options, bits int) *gws.Upgrader {
	return gws.NewUpgrader(events{max: o.MaxMessageSize}, &gws.ServerOption{
		ReadMaxPayloadSize:  readLimit(o.MaxMessageSize),
		WriteMaxPayloadSize: math.MaxInt,
		// Without context takeover either way (the zero value).
		PermessageDeflate: gws.PermessageDeflate{Enabled: o.Compression, ServerMaxWindowBits: bits},
	})
}

// upgrader returns the upgrader that compresses with a window of 2^bits
// bytes.
func (h *Handler) upgrader(bits int) *gws.Upgrader {
	if bits >= 15 {
		return h.up
	}
	w := &h.windowed[bits-8]
	w.once.Do(func() { w.up = newUpgrader(h.e.Options(), bits) })
	return w.up
}

// maxRead is the largest frame gws can buffer: it sizes its buffers with
// 32-bit arithmetic.
const maxRead = 1<<31 - 64

// readLimit is gws's limit for max: a little above it, since gws applies
// it to compressed payloads too, which may exceed their inflated size.
// OnMessage checks max exactly.
func readLimit(max int64) int {
	l := max + max>>12 + 64
	if max <= 0 || l > maxRead {
		l = maxRead
	}
	return int(l)
}

// ServeHTTP upgrades the request and runs the connection.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.e.ServeHTTP(w, r, h.upgrade)
}

// Shutdown closes every connection gracefully; see [adapters.Engine.Shutdown].
func (h *Handler) Shutdown(ctx context.Context) error { return h.e.Shutdown(ctx) }

// Restart is Shutdown with close 1012; see [adapters.Engine.Restart].
func (h *Handler) Restart(ctx context.Context) error { return h.e.Restart(ctx) }

// Live returns how many connections are running.
func (h *Handler) Live() int { return h.e.Live() }

func (h *Handler) upgrade(w http.ResponseWriter, r *http.Request, u adapters.Upgrade) (adapters.Upgraded, error) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		http.Error(w, "websocket: this connection cannot be upgraded", http.StatusInternalServerError)
		return adapters.Upgraded{}, errors.New("websock/gws: the http.ResponseWriter is not an http.Hijacker")
	}
	nc, brw, err := hj.Hijack()
	if err != nil {
		return adapters.Upgraded{}, err
	}
	t := &transport{nc: nc}
	t.lib = libConn{Conn: nc, t: t}
	if u.Subprotocol != "" {
		t.lib.hdr = "Sec-WebSocket-Protocol: " + u.Subprotocol + "\r\n\r\n"
	}
	// The engine validated the request and decided; gws reads these
	// headers only, and answers them as the engine decided.
	hdr := http.Header{"Connection": {"Upgrade"}, "Upgrade": {"websocket"}, "Sec-Websocket-Version": {"13"},
		"Sec-Websocket-Key": {r.Header.Get("Sec-WebSocket-Key")}}
	// The adapter negotiates permessage-deflate itself: gws would answer
	// every offer alike. It accepts the first valid offer, with the
	// server window it asks for, and has gws compress with that window.
	up, compressed := h.up, false
	if u.Compression {
		offers, _ := pmdeflate.Parse(r.Header)
		if o := pmdeflate.FirstValid(offers); o != nil {
			compressed = true
			hdr.Set("Sec-WebSocket-Extensions", "permessage-deflate")
			t.lib.ext = o.Response()
			t.windowBits = o.ServerMaxWindowBits
			if o.ServerMaxWindowBits != 0 {
				up = h.upgrader(o.ServerMaxWindowBits)
			}
		}
	}
	// gws reads through t.in, after what the client sent right after the
	// request, which brw.Reader may hold.
	t.in = frames{r: nc, deflate: compressed, wait: true}
	if n := brw.Reader.Buffered(); n > 0 {
		p, _ := brw.Reader.Peek(n)
		t.in.r = io.MultiReader(bytes.NewReader(bytes.Clone(p)), nc)
		t.in.wait = false
	}
	t.in.validate = !h.e.Options().SkipUTF8Validation
	brw.Reader.Reset(&t.in)
	t.ws, err = up.UpgradeFromConn(&t.lib, brw.Reader, &http.Request{Method: http.MethodGet, Header: hdr})
	if err != nil {
		nc.Close()
		return adapters.Upgraded{}, err
	}
	return adapters.Upgraded{Transport: t, Compressed: compressed}, nil
}

// transport is the adapters.Transport of one connection.
type transport struct {
	nc  net.Conn
	lib libConn
	in  frames
	ws  *gws.Conn
	ev  adapters.Events
	err error // why the read loop ended

	windowBits int // the server window negotiated for compression; 0: 32 KiB
}

var (
	_ adapters.Transport      = (*transport)(nil)
	_ adapters.UTF8Validator  = (*transport)(nil)
	_ adapters.PreparedWriter = (*transport)(nil)
)

// libConn is the connection as gws sees it. gws writes a close frame on
// its own when reading fails or the peer closes, and then closes the
// connection: libConn drops the frame, keeping its code, and ignores the
// Close, so that the engine sends its own close frame and closes when it
// is done.
type libConn struct {
	net.Conn
	t    *transport
	hdr  string        // a header for the handshake response, then ""
	ext  string        // the extensions the handshake response accepts, then ""
	code atomic.Uint32 // the code of the close frame gws wrote

	client bool // the client's side: gws writes masked frames
}

func (c *libConn) Write(p []byte) (int, error) {
	switch {
	case (c.hdr != "" || c.ext != "") && bytes.HasSuffix(p, []byte("\r\n\r\n")):
		resp := p[: len(p)-2 : len(p)-2]
		if c.ext != "" {
			resp = replaceHeader(resp, "Sec-WebSocket-Extensions", c.ext)
		}
		if c.hdr != "" {
			resp = append(resp, c.hdr...)
		} else {
			resp = append(resp, "\r\n"...)
		}
		_, err := c.Conn.Write(resp)
		c.hdr, c.ext = "", ""
		return len(p), err
	case c.client && len(p) > 0 && p[0] == 0x88: // masked, on the client's side
		if len(p) >= 8 {
			c.code.CompareAndSwap(0, uint32(p[6]^p[2])<<8|uint32(p[7]^p[3]))
		}
		return len(p), nil
	case len(p) >= 4 && p[0] == 0x88: // gws writes unmasked frames, in one Write each
		c.code.CompareAndSwap(0, uint32(p[2])<<8|uint32(p[3]))
		return len(p), nil
	case len(p) > 0 && p[0] == 0x88:
		return len(p), nil
	}
	return c.Conn.Write(p)
}

func (c *libConn) Close() error { return nil }

// replaceHeader returns the response head resp, which ends with a CRLF,
// with the value of header key, as gws writes it, replaced by value.
func replaceHeader(resp []byte, key, value string) []byte {
	line := []byte("\r\n" + key + ": ")
	i := bytes.Index(resp, line)
	if i < 0 {
		return resp
	}
	start := i + len(line)
	end := start + bytes.Index(resp[start:], []byte("\r\n"))
	out := append(bytes.Clone(resp[:start]), value...)
	return append(out, resp[end:]...)
}

// frames reads the client's frames ahead of gws and fails the connection
// on what gws lets through (RFC 6455 section 5.2, RFC 7692 section 6): a
// length with its top bit set, on which gws panics, and, with compression
// on, RSV2 or RSV3, or RSV1 on a control or continuation frame (gws checks
// reserved bits only without compression). With validate set, it also
// validates uncompressed text messages as their bytes arrive (RFC 6455
// section 8.1), since gws hands over only whole messages.
type frames struct {
	r        io.Reader
	deflate  bool
	validate bool
	hdr      [14]byte
	n        int  // header bytes read
	b0       byte // the first byte of the current frame's header
	key      [4]byte
	masked   bool
	size     uint64 // the current frame's payload length
	left     uint64 // payload bytes left in the frame
	text     bool   // the data message being read is text to validate
	utf8     utf8stream.Validator
	err      error

	// wait: nothing came with the handshake, so Read first waits for the
	// connection's first byte in waitFirst, and keeps it here for gws.
	wait     bool
	first    [1]byte
	nfirst   int
	firstErr error
}

var (
	errFrame = fmt.Errorf("%w: reserved bit set or length too large", websock.ErrProtocol)
	errText  = fmt.Errorf("%w: text message", websock.ErrInvalidUTF8)
)

// Read reads from the connection and checks what it read. It waits in
// the connection's Read with a small frame of its own, as the idle
// connection's goroutine does: the checks are in scan.
func (f *frames) Read(p []byte) (int, error) {
	if f.err != nil {
		return 0, f.err
	}
	var n int
	var err error
	if f.nfirst > 0 || f.firstErr != nil {
		n, err = copy(p, f.first[:f.nfirst]), f.firstErr
		f.nfirst, f.firstErr = f.nfirst-n, nil
	} else {
		n, err = f.r.Read(p)
	}
	if n > 0 && !f.scan(p[:n]) {
		return 0, f.err
	}
	return n, err
}

// waitFirst waits for the connection's first byte and keeps it, with the
// error that came with it, for Read. gws's read loop waits for input 16
// frames deep, on a stack that has grown past its first 2 KiB by then: a
// connection whose peer has said nothing yet waits here instead, with a
// few frames on its stack, which then stays at 2 KiB.
func (f *frames) waitFirst() {
	f.wait = false
	f.nfirst, f.firstErr = f.r.Read(f.first[:])
}

// scan checks b, bytes just read, and reports false, with f.err set, when
// they fail the connection.
func (f *frames) scan(b []byte) bool {
	for len(b) > 0 {
		if f.left > 0 {
			k := min(f.left, uint64(len(b)))
			if f.text && f.b0&0x0f <= 1 && !f.checkText(b[:k], f.size-f.left) {
				return false
			}
			f.left, b = f.left-k, b[k:]
			if f.left == 0 && !f.endText() {
				return false
			}
			continue
		}
		f.hdr[f.n], f.n, b = b[0], f.n+1, b[1:]
		h, need, l := f.hdr[:f.n], 2+int(f.hdr[1]>>7)*4, uint64(f.hdr[1]&0x7f)
		if f.n < 2 || l == 126 && f.n < need+2 || l == 127 && f.n < need+8 || f.n < need {
			continue
		}
		switch l {
		case 126:
			l = uint64(binary.BigEndian.Uint16(h[2:]))
		case 127:
			l = binary.BigEndian.Uint64(h[2:])
		}
		if op := h[0] & 0x0f; l>>63 != 0 || f.deflate && (h[0]&0x30 != 0 || h[0]&0x40 != 0 && (op == 0 || op >= 8)) {
			f.err = errFrame
			return false
		}
		f.b0, f.masked, f.size, f.left, f.n = h[0], h[1]&0x80 != 0, l, l, 0
		if f.masked {
			copy(f.key[:], h[len(h)-4:])
		}
		switch op := h[0] & 0x0f; {
		case !f.validate:
		case op == 1:
			f.text = h[0]&0x40 == 0 // RSV1: compressed, not text until inflated
			f.utf8.Reset()
		case op == 2:
			f.text = false
		}
		if f.left == 0 && !f.endText() {
			return false
		}
	}
	return true
}

// checkText validates p, payload bytes of the current frame of a text
// message from offset off in it.
func (f *frames) checkText(p []byte, off uint64) bool {
	var buf [512]byte
	for len(p) > 0 {
		n := copy(buf[:], p)
		if f.masked {
			for j := range buf[:n] {
				buf[j] ^= f.key[(off+uint64(j))&3]
			}
		}
		if !f.utf8.Write(buf[:n]) {
			f.err = errText
			return false
		}
		p, off = p[n:], off+uint64(n)
	}
	return true
}

// endText checks, once a frame's payload has been read, that a text
// message its FIN ends ended on a whole code point.
func (f *frames) endText() bool {
	if !f.text || f.b0&0x0f > 1 || f.b0&0x80 == 0 {
		return true
	}
	f.text = false
	if !f.utf8.End() {
		f.err = errText
		return false
	}
	return true
}

// stop carries the error that ends the read loop from a callback.
type stop struct{ err error }

func (t *transport) Read(ev adapters.Events) (err error) {
	t.ev = ev
	if t.in.wait {
		t.in.waitFirst()
	}
	defer func() {
		if v := recover(); v != nil {
			s, ok := v.(stop)
			if !ok {
				panic(v)
			}
			err = s.err
		}
	}()
	t.ws.ReadLoop()
	return t.err
}

// statusCode is an error of gws's that carries a close code.
type statusCode interface {
	error
	Uint16() uint16
}

// readError maps the error that ended gws's read loop to the engine's.
func (t *transport) readError(err error) error {
	if errors.Is(err, websock.ErrInvalidUTF8) {
		return err // the frames reader saw it, before gws did
	}
	var ce *gws.CloseError
	if errors.As(err, &ce) {
		code := websock.CloseCode(ce.Code)
		switch {
		case ce.Code == 0 && ce.Reason == nil: // an empty close frame; a one-byte one has a Reason
			return &websock.CloseError{Code: websock.CloseNoStatus}
		case !code.Sendable():
			return fmt.Errorf("%w: close code %d", websock.ErrProtocol, ce.Code)
		}
		return &websock.CloseError{Code: code, Text: string(ce.Reason)}
	}
	code := t.lib.code.Load() // what gws would have sent
	if sc, ok := errors.AsType[statusCode](err); ok {
		code = uint32(sc.Uint16())
	}
	switch code {
	case 1002, 1011: // 1011: the message did not inflate
		return fmt.Errorf("%w: %w", websock.ErrProtocol, err)
	case 1007:
		return fmt.Errorf("%w: %w", websock.ErrInvalidUTF8, err)
	case 1009:
		return fmt.Errorf("%w: %w", websock.ErrMessageTooBig, err)
	}
	return err
}

func (t *transport) WriteFrame(op websock.Opcode, data []byte) error {
	err := t.ws.WriteMessage(gws.Opcode(op), data)
	if len(data) > keepInflated && t.in.deflate {
		releaseCompressed(t.ws) // it holds the frame it compressed into
	}
	if err == gws.ErrConnClosed {
		// gws writes nothing once its read loop has seen the end (a close
		// frame, bad input), which Read is about to report: the frame is
		// dropped, as one written after the peer's close would be.
		return nil
	}
	return err
}

// WritePrepared writes a prepared message's frame, shared with every
// connection that writes it with the same compression, in one write on
// the network connection: gws compresses each message without context, so
// it has nothing to keep in step. The client's side masks each frame with
// a key of its own, so it writes the message as WriteFrame does.
func (t *transport) WritePrepared(p *websock.Prepared) error {
	if t.lib.client {
		return t.WriteFrame(p.Op(), p.Data())
	}
	b, err := adapters.ServerFrame(p, t.in.deflate, t.windowBits)
	if err != nil {
		return err
	}
	_, err = t.nc.Write(b)
	return err
}

func (t *transport) WriteClose(code websock.CloseCode, text string) error {
	b := []byte{0x88, 0}
	if code != websock.CloseNoStatus {
		b = append(b, byte(code>>8), byte(code))
		b = append(b, text[:min(len(text), 123)]...)
	}
	b[1] = byte(len(b) - 2)
	if t.lib.client {
		b = maskFrame(b)
	}
	_, err := t.nc.Write(b)
	return err
}

// ValidatesUTF8 reports that the frames reader validates every text
// message, as it arrives: when validation is on and compression is off
// (a compressed message is validated by the engine once gws inflated it).
func (t *transport) ValidatesUTF8() bool { return t.in.validate && !t.in.deflate }

func (t *transport) SetWriteDeadline(d time.Time) error { return t.nc.SetWriteDeadline(d) }
func (t *transport) Close() error                       { return t.nc.Close() }
func (t *transport) NetConn() net.Conn                  { return t.nc }

// events is the gws.Event of every connection: it hands what gws reads to
// the engine, on the goroutine that runs the read loop.
type events struct{ max int64 }

func of(s *gws.Conn) *transport { return s.NetConn().(*libConn).t }

func (events) OnOpen(*gws.Conn) {}
func (events) OnClose(s *gws.Conn, err error) {
	t := of(s)
	t.err = t.readError(err)
	releaseInflated(s) // what an inflate bomb left there
}
func (events) OnPing(s *gws.Conn, p []byte) { of(s).ev.Ping(p) }
func (events) OnPong(s *gws.Conn, p []byte) { of(s).ev.Control(websock.OpPong, p) }
func (e events) OnMessage(s *gws.Conn, m *gws.Message) {
	defer m.Close()
	data := m.Bytes()
	if len(data) > keepInflated {
		releaseInflated(s) // a large message may have been inflated there
	}
	if e.max > 0 && int64(len(data)) > e.max {
		panic(stop{fmt.Errorf("%w: %d bytes", websock.ErrMessageTooBig, len(data))})
	}
	if err := of(s).ev.Message(websock.Opcode(m.Opcode), data); err != nil {
		panic(stop{err})
	}
}
