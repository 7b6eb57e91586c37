// Package gobws runs websock handlers on github.com/gobwas/ws.
//
// gobwas/ws reads and writes frames, not messages; this adapter does the
// rest itself, per RFC 6455: it reassembles fragmented messages (control
// frames may come between fragments), answers pings through the engine,
// validates the close frames it receives, checks text messages for valid
// UTF-8 as their bytes arrive, enforces MaxMessageSize from the frame
// headers before it buffers a message, and speaks permessage-deflate
// (RFC 7692) through github.com/gobwas/ws/wsflate when
// adapters.Options.Compression is on.
//
// [New] returns an http.Handler that upgrades requests with
// ws.HTTPUpgrader; [Handler.ServeConn] runs a handler over a connection
// the caller upgraded with gobwas/ws itself. [Adapter] declares what the
// library lacks: nothing. Because gobwas/ws reads and writes frames over any
// connection, the same handler also serves WebSockets over HTTP/2 (RFC 8441):
// an extended CONNECT request runs over its stream (see
// adapters.Engine.ServeHTTPStreams), when Go's server offers it
// (GODEBUG=http2xconnect=1).
//
// An idle connection holds one goroutine and a few hundred bytes of its
// own: read and write buffers, and the compressor and decompressor, come
// from pools and are held only while a frame is being read or written, so
// a steady stream of messages allocates nothing. On Unix systems a
// connection waits for its next frame in syscall.RawConn.Read, taking
// the read buffer from the pool only once bytes have arrived, so that one
// read brings a frame's header and its payload. [NewNetpoll] serves the
// same connections without a goroutine each, on readiness events.
//
// A prepared message (websock.Prepared) goes out as its shared frame
// bytes in one write: framed once, and compressed once for the
// connections with a 32 KiB server window and once (Huffman codes only)
// for those with a smaller one. The client's side masks every frame with
// its own key, so it writes a prepared message as any other.
//
// Everything in the conformance suite is supported. The limits are in
// compression: permessage-deflate is negotiated without context takeover
// in either direction, so that no compression state outlives a message
// (repetitive streams of small messages compress less than with context
// takeover), and when an offer limits the server's window
// (server_max_window_bits) below 32 KiB, the adapter accepts it and
// compresses with Huffman codes only, without back-references, which
// compresses less.
//
// On the client's side, [Dial] runs a handler over a connection the engine
// dials and handshakes (see adapters.Dial), with gobwas/ws reading and
// writing its frames, masked.
package gobws

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsflate"

	"github.com/websock-go/websock/adapters"
	"github.com/websock-go/websock/adapters/internal/pmdeflate"
	"github.com/websock-go/websock/websock"
)

// Options configures a Handler; nil means defaults. See adapters.Options.
type Options = adapters.Options

// Adapter describes this adapter: its name, shown in ConnInfo.Adapter, and
// what its library lacks.
var Adapter = adapters.Adapter{
	Name:           "gobws",
	Library:        "github.com/gobwas/ws",
	Server:         "net/http",
	IdleGoroutines: 1, // the connection's own: gobwas/ws runs none
}

// Handler is an http.Handler that upgrades WebSocket requests with
// gobwas/ws and runs websock handlers on them.
type Handler struct {
	e    *adapters.Engine
	opts adapters.Options
	poll bool // run connections on readiness events (NewNetpoll)
}

var _ http.Handler = (*Handler)(nil)

// New returns a Handler that accepts upgrades through accept, configured
// by opts. gobwas/ws honours every option, so the error is always nil;
// every adapter's New has the same shape.
func New(accept websock.AcceptFunc, opts *Options) (*Handler, error) {
	e, err := adapters.NewEngine(Adapter, accept, opts)
	if err != nil {
		return nil, err
	}
	return &Handler{e: e, opts: e.Options()}, nil
}

// ServeHTTP upgrades r and returns; the connection runs on a goroutine of
// its own until it ends, so that the buffers net/http keeps for the
// request are freed rather than held for the connection's whole life.
// Shutdown waits for every such connection to terminate.
//
// An extended CONNECT request (RFC 8441) runs the connection over its
// HTTP/2 stream instead, on the request's goroutine; see upgradeStream.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.e.ServeHTTPStreams(w, r, h.upgrade, h.upgradeStream)
}

func (h *Handler) upgrade(w http.ResponseWriter, r *http.Request, u adapters.Upgrade) (adapters.Upgraded, error) {
	up := ws.HTTPUpgrader{Timeout: h.opts.WriteTimeout}
	if u.Subprotocol != "" {
		up.Protocol = func(p string) bool { return p == u.Subprotocol }
	}
	// The adapter negotiates permessage-deflate itself (RFC 7692 section
	// 7.1): it declines invalid offers and accepts the first valid one,
	// without context takeover either way and with the server window it
	// asks for.
	var offer *pmdeflate.Offer
	if u.Compression {
		offers, _ := pmdeflate.Parse(r.Header)
		if offer = pmdeflate.FirstValid(offers); offer != nil {
			up.Header = http.Header{"Sec-Websocket-Extensions": {offer.Response()}}
		}
	}
	nc, rw, _, err := up.Upgrade(r, w)
	if err != nil {
		if nc != nil {
			nc.Close() // Upgrade has written the refusal
		}
		return adapters.Upgraded{}, err
	}
	t := newTransport(nc, readAhead(rw.Reader), offer != nil, &h.opts)
	t.huffman = offer != nil && offer.ServerMaxWindowBits != 0 && offer.ServerMaxWindowBits < 15
	return adapters.Upgraded{Transport: h.eventTransport(t), Compressed: offer != nil}, nil
}

// ServeConn runs handler over nc, a connection the caller upgraded with
// gobwas/ws (ws.Upgrader or ws.HTTPUpgrader), until it ends, and returns
// why it ended. br is the reader the upgrade returned, if any: the bytes
// it buffered past the handshake are read first. hs is the upgrade's
// result: its subprotocol goes to ConnInfo, and permessage-deflate is used
// if it was negotiated. r is the upgrade request, for ConnInfo; it may be
// nil. The connection is tracked by h, so h.Shutdown closes it too.
//
// Permessage-deflate must have been negotiated with client_no_context_takeover,
// as wsflate.DefaultParameters does; otherwise the handler is not run:
// ServeConn closes nc with 1011 and returns the reason.
func (h *Handler) ServeConn(nc net.Conn, br *bufio.Reader, hs ws.Handshake, r *http.Request, handler websock.Handler) websock.Reason {
	info := &websock.ConnInfo{RemoteAddr: nc.RemoteAddr().String(), Subprotocol: hs.Protocol}
	if r != nil {
		info.URL, info.Header = r.URL, r.Header
	}
	p, compressed, err := deflateNegotiated(hs)
	if err != nil {
		refuse(nc, h.opts.WriteTimeout, websock.CloseInternalError, "unsupported permessage-deflate parameters")
		return websock.Reason{Kind: websock.KindError, Code: websock.CloseInternalError, Err: err}
	}
	info.Compressed = compressed
	t := newTransport(nc, readAhead(br), compressed, &h.opts)
	t.huffman = p.ServerMaxWindowBits.Defined() && p.ServerMaxWindowBits < 15
	return h.e.Run(h.eventTransport(t), handler, info)
}

// Shutdown closes every connection with 1001 and waits for their
// Terminate; see adapters.Engine.Shutdown. Call it before the HTTP
// server's own Shutdown, which does not close upgraded connections.
func (h *Handler) Shutdown(ctx context.Context) error { return h.e.Shutdown(ctx) }

// Restart is Shutdown with close 1012 (service restart).
func (h *Handler) Restart(ctx context.Context) error { return h.e.Restart(ctx) }

// Live returns how many connections are running.
func (h *Handler) Live() int { return h.e.Live() }

// errContextTakeover refuses a connection whose permessage-deflate
// parameters let the client compress a message with the previous ones as
// context, which the pooled per-message decompressors cannot follow.
var errContextTakeover = errors.New("gobws: permessage-deflate negotiated without client_no_context_takeover; negotiate wsflate.DefaultParameters")

// deflateNegotiated reports whether hs negotiated permessage-deflate, and
// with which parameters, and fails if it did so with parameters the
// adapter cannot serve.
func deflateNegotiated(hs ws.Handshake) (wsflate.Parameters, bool, error) {
	var p wsflate.Parameters
	for _, opt := range hs.Extensions {
		if !bytes.Equal(opt.Name, wsflate.ExtensionNameBytes) {
			continue
		}
		if err := p.Parse(opt); err != nil {
			return p, false, fmt.Errorf("gobws: negotiated permessage-deflate parameters: %w", err)
		}
		if !p.ClientNoContextTakeover {
			return p, false, errContextTakeover
		}
		return p, true, nil
	}
	return p, false, nil
}

// readAhead returns a copy of what br buffered past the handshake, or nil,
// so that br itself need not be kept.
func readAhead(br *bufio.Reader) []byte {
	if br == nil || br.Buffered() == 0 {
		return nil
	}
	p, _ := br.Peek(br.Buffered())
	return bytes.Clone(p)
}

// refuse writes a close frame and closes nc, for a connection the engine
// will not run.
func refuse(nc net.Conn, timeout time.Duration, code websock.CloseCode, text string) {
	if timeout > 0 {
		nc.SetWriteDeadline(time.Now().Add(timeout))
	}
	t := &transport{nc: nc}
	t.WriteClose(code, text)
	nc.Close()
}
