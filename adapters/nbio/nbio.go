// Package nbio runs websock handlers on github.com/lesismal/nbio v1.6.8:
// its nbhttp server and its epoll loop, which reads every connection and
// pushes the bytes it read, with no goroutine per connection. An idle
// connection holds no goroutine at all: nbio's pollers read for it, and
// its timers are time.AfterFunc timers.
//
// The adapter is written on the push-style surface of package adapters
// (see docs/writing-an-adapter.md): nbhttp answers HTTP and hands the
// upgrade request to the engine; the adapter writes the 101 itself and
// takes the connection over from nbhttp's parser, so that every byte the
// poller reads goes to the connection's adapters.Inbox, copied once out
// of nbio's read buffer, which nbio reuses. The Inbox parses them with a
// wire.Parser on the connection's serial actor, a goroutine that lives
// while something is queued; handler code never runs on nbio's pollers.
// Writes go through nbio.Conn.Write, which never blocks (nbio queues what
// the socket does not take), behind an adapters.WriteGate fed by nbio's
// OnWrittenSize: a peer that stops reading holds up the engine's writes
// as a full socket would, and WriteTimeout ends them.
//
// nbio's own WebSocket parser is not used, which is how this adapter
// corrects the ways it departs from RFC 6455: it accepts unmasked frames,
// answers an oversized control frame with 1009 instead of 1002, refuses
// close codes 1012 to 1014 and accepts 1015, answers invalid UTF-8 with
// 1002 and only once the message is whole, drops empty messages, and
// parses a read that holds many frames in quadratic time. The adapter
// negotiates permessage-deflate itself (adapters.DeflateResponse), so
// server_max_window_bits is honoured rather than ignored (the adapter
// inflates what the client compresses and sends its own messages
// uncompressed, as RFC 7692 allows a sender to), and it stops
// nbhttp at most once, which nbio's Engine.Stop needs (a second Stop
// panics).
//
// # The race detector and nbio's hand-off
//
// nbio marks most of its functions //go:norace (upstream pull request
// lesismal/nbio#447), not all. nbhttp's listener goroutine fills in a new
// connection (nbhttp/engine.go:340, net.(*TCPListener).Accept) and hands
// it to a poller goroutine through epoll, an edge the race detector cannot
// see, and the poller then reads its address
// (nbhttp.(*ServerProcessor).OnComplete, nbhttp/processor.go:230), which
// the detector reports as a data race with every frame inside nbio or the
// standard library (upstream issue lesismal/nbio#495, the same on v1.6.7).
// Built with -race only, the adapter makes that hand-off an edge the
// detector sees (a lock taken in nbio's OnOpen, just before epoll hears of
// the connection, and again before the poller's first read; see race.go),
// so this package's tests, and every program that serves nbio, run under
// -race like the rest. A build without -race has no such lock.
package nbio

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	nbiolib "github.com/lesismal/nbio"
	"github.com/lesismal/nbio/logging"
	"github.com/lesismal/nbio/nbhttp"

	"github.com/websock-go/websock/adapters"
	"github.com/websock-go/websock/adapters/wire"
	"github.com/websock-go/websock/websock"
)

// Adapter describes this adapter to the engine, the conformance suite and
// the documentation.
var Adapter = adapters.Adapter{
	Name:        "nbio",
	Library:     "github.com/lesismal/nbio",
	Server:      "nbhttp",
	EventDriven: true,
	Lacks: adapters.Lacks{
		HTTP2: "nbhttp speaks HTTP/1.1 only",
	},
}

// HeaderTimeout is how long a connection may take to send its upgrade
// request whole, and MaxHeaderBytes how large the request may be: nbhttp
// closes a connection that takes longer, or refuses a larger one.
const (
	HeaderTimeout  = 5 * time.Second
	MaxHeaderBytes = 1 << 20
)

// Options configures a Handler; nil means defaults. See adapters.Options.
type Options = adapters.Options

// Handler serves websock handlers on an nbhttp server of its own.
type Handler struct {
	e  *adapters.Engine
	nb *nbhttp.Engine

	mu      sync.Mutex
	serving int           // requests nbhttp handed over, still in ServeHTTP
	idle    chan struct{} // closed when serving falls to 0, for a stop waiting on it
	stopped bool          // nbhttp was stopped: it is stopped once
	started time.Time     // when Serve started nbhttp
}

// pollerStartGrace is how long after Serve started nbhttp a stop waits
// before it stops nbhttp. nbio v1.6.8's poller goroutine clears its
// shutdown flag as its loop begins, so a Stop that comes before the loop
// has begun is lost: the poller then spins on its wake-up descriptor and
// Stop waits for it for ever. Giving the pollers this long to begin, which
// they do in microseconds, closes that window.
const pollerStartGrace = 250 * time.Millisecond

// New returns a Handler that accepts upgrades through accept, configured
// by opts. It serves nothing until [Handler.Serve].
func New(accept websock.AcceptFunc, opts *Options) (*Handler, error) {
	e, err := adapters.NewEngine(Adapter, accept, opts)
	if err != nil {
		return nil, err
	}
	return &Handler{e: e}, nil
}

func init() { logging.SetLevel(logging.LevelNone) } // nbio logs every closed connection otherwise

// Serve starts an nbhttp server on ln that hands every request to the
// engine, and returns once it runs: nbio's own goroutines serve it until
// [Handler.Shutdown]. Requests that are no WebSocket upgrade are refused
// as the engine refuses them (see adapters.Engine.Serve).
func (h *Handler) Serve(ln net.Listener) error {
	h.nb = nbhttp.NewEngine(nbhttp.Config{
		Network: "tcp",
		Addrs:   []string{ln.Addr().String()},
		Listen:  func(string, string) (net.Listener, error) { return ln, nil },
		Handler: http.HandlerFunc(h.ServeHTTP),
		// The read deadline of a connection until its request is whole,
		// as an HTTP server's read-header timeout, and the most it may
		// read meanwhile, as http.DefaultMaxHeaderBytes.
		KeepaliveTime: HeaderTimeout,
		ReadLimit:     MaxHeaderBytes,
	})
	h.nb.OnWrittenSize(h.written)
	annotateHandOff(h.nb)
	h.mu.Lock()
	h.started = time.Now()
	h.mu.Unlock()
	return h.nb.Start()
}

// ServeHTTP runs the upgrade of a request nbhttp hands over.
// A request whose headers take more than MaxHeaderBytes is refused with
// 431 before the engine sees it: nbhttp bounds what it buffers of a
// request (ReadLimit), not the headers it has parsed.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	h.serving++
	h.mu.Unlock()
	defer h.served()
	if headerBytes(r.Header) > MaxHeaderBytes {
		w.Header().Set("Connection", "close")
		http.Error(w, "websocket: request headers over 1 MiB\n", http.StatusRequestHeaderFieldsTooLarge)
		return
	}
	h.e.ServeHTTP(w, r, h.upgrade)
}

// headerBytes is about how many bytes h took on the wire.
func headerBytes(h http.Header) int {
	n := 0
	for k, vs := range h {
		for _, v := range vs {
			n += len(k) + len(v) + 4 // ": " and CRLF
		}
	}
	return n
}

// Shutdown closes every connection gracefully (see
// adapters.Engine.Shutdown), then stops the nbhttp server.
func (h *Handler) Shutdown(ctx context.Context) error { return h.stop(ctx, h.e.Shutdown) }

// Restart is Shutdown with close 1012 (service restart).
func (h *Handler) Restart(ctx context.Context) error { return h.stop(ctx, h.e.Restart) }

// Live returns how many connections are running.
func (h *Handler) Live() int { return h.e.Live() }

// stop closes every connection, lets the answers of the upgrades still
// under way out (a 503 for those the engine now refuses) until ctx is
// done, and then stops nbhttp, once however many times it is called.
func (h *Handler) stop(ctx context.Context, closeAll func(context.Context) error) error {
	err := closeAll(ctx)
	h.mu.Lock()
	var idle chan struct{}
	if h.serving > 0 {
		if h.idle == nil {
			h.idle = make(chan struct{})
		}
		idle = h.idle
	}
	h.mu.Unlock()
	if idle != nil {
		select {
		case <-idle:
		case <-ctx.Done():
		}
	}
	h.mu.Lock()
	stop := !h.stopped && h.nb != nil
	h.stopped = true
	wait := pollerStartGrace - time.Since(h.started)
	h.mu.Unlock()
	if stop {
		if wait > 0 {
			time.Sleep(wait) // see pollerStartGrace
		}
		h.nb.Stop() // once: a second Stop panics in nbio
	}
	return err
}

// served ends a request of ServeHTTP, and tells a stop waiting for the
// requests under way when it was the last.
func (h *Handler) served() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.serving--
	if h.serving == 0 && h.idle != nil {
		close(h.idle)
		h.idle = nil
	}
}

// written is nbio's OnWrittenSize: n bytes of c went out.
func (h *Handler) written(c *nbiolib.Conn, _ []byte, n int) {
	if t, ok := c.Session().(*transport); ok {
		t.gate.Written(n)
	}
}

// errNotNbio is the upgrade's error when the connection is not nbio's.
var errNotNbio = errors.New("websock/adapters/nbio: the hijacked connection is not an *nbio.Conn; serve with Handler.Serve, on nbhttp's non-blocking mode")

// upgrade takes the connection over from nbhttp, writes the 101 and
// returns the connection's PushTransport.
func (h *Handler) upgrade(w http.ResponseWriter, r *http.Request, u adapters.Upgrade) (adapters.Upgraded, error) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		http.Error(w, "websocket upgrade failed\n", http.StatusInternalServerError)
		return adapters.Upgraded{}, errNotNbio
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		return adapters.Upgraded{}, err
	}
	if hc, ok := conn.(*nbhttp.Conn); ok {
		conn = hc.Conn
	}
	nc, ok := conn.(*nbiolib.Conn)
	if !ok {
		conn.Close()
		return adapters.Upgraded{}, errNotNbio
	}
	var deflate string
	if u.Compression {
		deflate, u.Compression = adapters.DeflateResponse(r.Header)
	}
	t := h.newTransport(nc, u.Compression)
	nc.SetSession(t)                // from now on nbio's poller hands every byte read to t.Parse
	nc.SetReadDeadline(time.Time{}) // the engine's IdleTimeout governs the connection now

	b := make([]byte, 0, 256)
	b = append(b, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "...)
	b = append(b, adapters.AcceptKey(r.Header.Get("Sec-WebSocket-Key"))...)
	b = append(b, "\r\n"...)
	if u.Subprotocol != "" {
		b = append(b, "Sec-WebSocket-Protocol: "+u.Subprotocol+"\r\n"...)
	}
	if u.Compression {
		b = append(b, "Sec-WebSocket-Extensions: "+deflate+"\r\n"...)
	}
	b = append(b, "\r\n"...)
	if _, err := nc.Write(b); err != nil {
		t.Close()
		return adapters.Upgraded{}, err
	}
	return adapters.Upgraded{Transport: t, Compressed: u.Compression}, nil
}

// transport is the adapters.PushTransport of one connection, and the
// nbhttp.ParserCloser nbio's poller hands its bytes to.
type transport struct {
	h      *Handler
	nc     *nbiolib.Conn
	in     *adapters.Inbox
	popts  wire.ParserOptions
	parser *wire.Parser // made when the first bytes arrive: an idle connection holds none
	gate   *adapters.WriteGate
}

var (
	_ adapters.PushTransport = (*transport)(nil)
	_ adapters.UTF8Validator = (*transport)(nil)
	_ adapters.NetConner     = (*transport)(nil)
	_ nbhttp.ParserCloser    = (*transport)(nil)
)

func (h *Handler) newTransport(nc *nbiolib.Conn, compressed bool) *transport {
	o := h.e.Options()
	t := &transport{h: h, nc: nc, gate: adapters.NewWriteGate(o, 0)}
	t.popts = wire.ParserOptions{
		MaxMessageSize:     o.MaxMessageSize,
		SkipUTF8Validation: o.SkipUTF8Validation,
		Compression:        compressed,
	}
	t.in = adapters.NewInbox(t.parse)
	return t
}

// parse is the Inbox's parse function, on the connection's actor.
func (t *transport) parse(ev adapters.Events, p []byte) error {
	if t.parser == nil {
		t.parser = wire.NewParser(t.popts)
	}
	return t.parser.Parse(ev, p)
}

// Parse is nbhttp's: the poller read data, in a buffer it reuses.
func (t *transport) Parse(data []byte) error {
	t.in.Bytes(data, false)
	return nil
}

// CloseAndClean is nbhttp's: the connection closed, with err.
func (t *transport) CloseAndClean(err error) {
	if err == nil {
		err = io.EOF
	}
	t.gate.Close()
	t.in.End(fmt.Errorf("%w: %w", websock.ErrConnectionLost, err))
}

// UnderlayerConn is nbhttp's.
func (t *transport) UnderlayerConn() net.Conn { return t.nc }

func (t *transport) Inbox() *adapters.Inbox { return t.in }

// ValidatesUTF8: the Parser checks text as it arrives.
func (t *transport) ValidatesUTF8() bool { return !t.popts.SkipUTF8Validation }

// NetConn lets the engine half-close the connection after bad input.
func (t *transport) NetConn() net.Conn { return t.nc }

// WriteFrame writes one final, unmasked, uncompressed frame.
func (t *transport) WriteFrame(op websock.Opcode, data []byte) error {
	return t.write(byte(op), data)
}

// WriteClose writes a close frame.
func (t *transport) WriteClose(code websock.CloseCode, text string) error {
	var p [125]byte
	b := p[:0]
	if code != websock.CloseNoStatus {
		b = binary.BigEndian.AppendUint16(b, uint16(code))
		b = append(b, text[:min(len(text), 123)]...)
	}
	return t.write(byte(websock.OpClose), b)
}

// write writes a frame through the gate. nbio copies what the socket
// does not take at once, so the frame is built in a pooled buffer that
// goes back as soon as Write returns: a connection holds none between
// writes.
func (t *transport) write(op byte, payload []byte) error {
	var bp *[]byte
	var b []byte
	if len(payload) <= maxPooledFrame-14 {
		bp = framePool.Get().(*[]byte)
		b = (*bp)[:0]
	}
	b = append(b, 0x80|op)
	switch n := len(payload); {
	case n <= 125:
		b = append(b, byte(n))
	case n <= 0xffff:
		b = binary.BigEndian.AppendUint16(append(b, 126), uint16(n))
	default:
		b = binary.BigEndian.AppendUint64(append(b, 127), uint64(n))
	}
	b = append(b, payload...)
	err := t.gate.Admit(len(b))
	if err == nil {
		_, err = t.nc.Write(b)
	}
	if bp != nil && cap(b) <= maxPooledFrame {
		*bp = b
		framePool.Put(bp)
	}
	return err
}

// maxPooledFrame is the largest frame written from framePool: a 64 KiB
// message with its header.
const maxPooledFrame = 64<<10 + 14

// framePool holds the buffers frames are built in.
var framePool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// SetWriteDeadline bounds the gate's waits; nbio's own write timeout
// closes a connection whose queue does not drain in time.
func (t *transport) SetWriteDeadline(d time.Time) error {
	t.gate.SetDeadline(d)
	return nil
}

// Close closes the connection; nbio then calls CloseAndClean.
func (t *transport) Close() error {
	t.gate.Close()
	return t.nc.Close()
}
