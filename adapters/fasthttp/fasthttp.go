// Package fasthttp runs websock handlers on github.com/fasthttp/websocket
// over a github.com/valyala/fasthttp server, which is not net/http: there
// is no http.Handler and no *http.Request. The same websock.AcceptFunc and
// Handler that run on the net/http adapters run here unchanged.
//
// [New] returns a [Handler] whose [Handler.ServeFastHTTP] method is a
// fasthttp.RequestHandler: pass h.ServeFastHTTP as fasthttp.Server.Handler,
// or call it from a router. It upgrades every request it is given
// (fasthttp has no mux), so a server that serves anything else routes on
// the path first and gives it only the WebSocket's requests: see the
// routing example, which serves a WebSocket and other handlers on one
// port. [Handler.ServeConn] runs a websock Handler over a connection the
// caller upgraded itself with websocket.FastHTTPUpgrader.
//
// This package's name is that of valyala/fasthttp, which a program using
// it imports too; import it under another name, as the examples do:
//
//	import wsfasthttp "github.com/websock-go/websock/adapters/fasthttp"
//
// fasthttp hands an upgraded connection to a goroutine of its own after
// the request handler has returned; the connection runs on that goroutine
// until Terminate, and [Handler.Shutdown] closes it with 1001.
// fasthttp.Server.Shutdown does not close upgraded connections: call both,
// the Handler's first.
//
// The AcceptFunc sees the fasthttp request through [RequestCtx]. What the
// library lacks is declared once, in [Adapter]: nothing.
//
// The library refuses close code 1014 with 1002 and reports a close frame
// with a 1-byte payload as one without a code; the adapter corrects both
// through a wire under the connection (package
// github.com/websock-go/websock/adapters/wire), which fasthttp lets it put
// there only through the listener: [Serve] does. On a fasthttp.Server of
// your own, serve on a wire.Listener wrapping your listener for the same.
//
// A prepared message (websock.Prepared) goes out as its shared frame
// bytes, framed and compressed once for every connection, written through
// the wire between the library's frames; without a wire, and on the
// client's side, it is written as any other frame.
//
// The library compresses with a window of 32 KiB and no context takeover
// whatever the client offers, so the adapter declines (the connection
// runs uncompressed) a permessage-deflate offer that limits the server's
// window (server_max_window_bits) or is invalid, where RFC 7692 would let
// a server that can limit its window accept the first.
package fasthttp

import (
	"context"
	"net"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/fasthttp/websocket"
	"github.com/valyala/fasthttp"

	"github.com/websock-go/websock/adapters"
	"github.com/websock-go/websock/adapters/internal/peerlog"
	"github.com/websock-go/websock/adapters/internal/pmdeflate"
	"github.com/websock-go/websock/adapters/wire"
	"github.com/websock-go/websock/websock"
)

// Options configures a Handler; nil means defaults. See adapters.Options.
type Options = adapters.Options

// Adapter describes this adapter: its name, shown in ConnInfo.Adapter, and
// what its library lacks.
var Adapter = adapters.Adapter{
	Name:           "fasthttp",
	Library:        "github.com/fasthttp/websocket",
	Server:         "github.com/valyala/fasthttp",
	IdleGoroutines: 1, // the hijack handler's, which runs the connection
	Lacks: adapters.Lacks{
		HTTP2: "fasthttp's server speaks HTTP/1.1 only",
	},
}

// Handler upgrades WebSocket requests on a fasthttp server with
// fasthttp/websocket and runs websock handlers on them.
type Handler struct {
	e *adapters.Engine
	// up upgrades with permessage-deflate, upPlain without: an offer the
	// library would answer wrongly is upgraded without it.
	up, upPlain websocket.FastHTTPUpgrader
}

// writePool shares write buffers between connections, so that an idle
// connection holds none.
var writePool sync.Pool

// New returns a Handler that accepts upgrades through accept, configured
// by opts. fasthttp/websocket honours every option, so the error is
// always nil; every adapter's New has the same shape.
func New(accept websock.AcceptFunc, opts *Options) (*Handler, error) {
	e, err := adapters.NewEngine(Adapter, accept, opts)
	if err != nil {
		return nil, err
	}
	h := &Handler{
		e: e,
		upPlain: websocket.FastHTTPUpgrader{
			WriteBufferPool: &writePool,
			// The engine checked the origin, and chose the subprotocol:
			// with Subprotocols nil the upgrader echoes the
			// Sec-WebSocket-Protocol response header the handshake sets.
			CheckOrigin: func(*fasthttp.RequestCtx) bool { return true },
			Error:       func(*fasthttp.RequestCtx, int, error) {},
		},
	}
	h.up = h.upPlain
	h.up.EnableCompression = true
	return h, nil
}

// ServeFastHTTP is a fasthttp.RequestHandler: it upgrades the request and
// returns; fasthttp then runs the connection on a goroutine of its own
// until it ends. A request that is not a WebSocket upgrade, or that the
// AcceptFunc refuses, is answered with the refusal's status, headers and
// body.
func (h *Handler) ServeFastHTTP(ctx *fasthttp.RequestCtx) { h.e.Serve(&handshake{h: h, ctx: ctx}) }

// Shutdown closes every connection with 1001 and waits for their
// Terminate; see adapters.Engine.Shutdown. Call it before the fasthttp
// server's own Shutdown, which does not close upgraded connections.
func (h *Handler) Shutdown(ctx context.Context) error { return h.e.Shutdown(ctx) }

// Restart is Shutdown with close 1012 (service restart).
func (h *Handler) Restart(ctx context.Context) error { return h.e.Restart(ctx) }

// Live returns how many connections are running.
func (h *Handler) Live() int { return h.e.Live() }

// RequestCtx returns the fasthttp request an AcceptFunc running on this
// adapter sees, or nil on other adapters. It is valid only while the
// AcceptFunc runs: fasthttp reuses it once the request handler returns.
func RequestCtx(r *websock.Request) *fasthttp.RequestCtx {
	ctx, _ := r.Raw().(*fasthttp.RequestCtx)
	return ctx
}

// handshake is the adapters.Handshake of a fasthttp request.
type handshake struct {
	h   *Handler
	ctx *fasthttp.RequestCtx
}

func (hs *handshake) Method() string { return string(hs.ctx.Method()) }

// Request copies everything the connection needs out of the RequestCtx,
// which fasthttp reuses once the connection is upgraded.
func (hs *handshake) Request() *websock.Request { return NewRequest(hs.ctx) }

func (hs *handshake) Refuse(e *websock.HTTPError) { writeRefusal(hs.ctx, e) }

func (hs *handshake) Upgrade(u adapters.Upgrade, serve func(adapters.Upgraded)) error {
	if u.Subprotocol != "" {
		hs.ctx.Response.Header.Set("Sec-WebSocket-Protocol", u.Subprotocol)
	}
	var compressed bool
	opts := hs.h.e.Options()
	up := &hs.h.upPlain
	if u.Compression {
		// The library accepts any extension whose name begins with
		// permessage-deflate, whatever its parameters, from the first
		// Sec-WebSocket-Extensions header only: it is handed the first
		// offer it can honour, alone.
		h := http.Header{"Sec-Websocket-Extensions": {string(hs.ctx.Request.Header.Peek("Sec-WebSocket-Extensions"))}}
		if offer, ok := pmdeflate.Honourable(h); ok {
			hs.ctx.Request.Header.Set("Sec-WebSocket-Extensions", offer)
			up = &hs.h.up
		}
	}
	err := up.Upgrade(hs.ctx, func(ws *websocket.Conn) {
		t := newTransport(ws, opts, compressed)
		serve(adapters.Upgraded{Transport: t, Compressed: compressed})
		t.end()
	})
	if err != nil {
		return err
	}
	// The upgrader has answered with the extensions it negotiated; the
	// hijack handler that reads compressed runs only after this handler
	// returns.
	compressed = len(hs.ctx.Response.Header.Peek("Sec-WebSocket-Extensions")) > 0
	return nil
}

func newRequest(ctx *fasthttp.RequestCtx, header http.Header) *websock.Request {
	u, err := url.ParseRequestURI(string(ctx.RequestURI()))
	if err != nil {
		// fasthttp accepted a request target net/url does not: keep what
		// fasthttp made of it.
		u = &url.URL{Path: string(ctx.URI().Path()), RawQuery: string(ctx.URI().QueryString())}
	}
	req := websock.NewRequest(ctx, ctx)
	req.URL = u
	req.Host = string(ctx.Request.Header.Host())
	req.Header = header
	req.RemoteAddr = ctx.RemoteAddr().String()
	req.Subprotocols = adapters.ParseSubprotocols(header.Values("Sec-WebSocket-Protocol"))
	return req
}

// requestHeader copies ctx's request headers into an http.Header, with
// canonical keys and, as net/http does, without Host (see Request.Host).
func requestHeader(ctx *fasthttp.RequestCtx) http.Header {
	header := make(http.Header, ctx.Request.Header.Len())
	for k, v := range ctx.Request.Header.All() {
		key := textproto.CanonicalMIMEHeaderKey(string(k))
		if key == "Host" {
			continue
		}
		header[key] = append(header[key], string(v))
	}
	return header
}

// writeRefusal answers ctx with e's headers, status and body.
func writeRefusal(ctx *fasthttp.RequestCtx, e *websock.HTTPError) {
	for k, vs := range e.Header {
		for _, v := range vs {
			ctx.Response.Header.Add(k, v)
		}
	}
	ctx.Response.Header.Set("Content-Type", "text/plain; charset=utf-8")
	ctx.Response.Header.Set("X-Content-Type-Options", "nosniff")
	ctx.SetStatusCode(e.Status)
	ctx.SetBodyString(e.Body)
}

// NewRequest returns the server-agnostic view of ctx's request. Everything
// in it but its Context and RequestCtx is copied, so it stays valid after
// the request handler returns, when fasthttp reuses ctx.
func NewRequest(ctx *fasthttp.RequestCtx) *websock.Request {
	return newRequest(ctx, requestHeader(ctx))
}

// ServeConn runs handler over ws, a connection the caller upgraded with
// websocket.FastHTTPUpgrader, until it ends, and returns why it ended.
// Call it from the upgrader's handler. req is the upgrade request, for
// ConnInfo: build it with [NewRequest] in the request handler, before
// calling Upgrade, since the RequestCtx must not be used afterwards; it may
// be nil. ConnInfo.Compressed is false and messages are written
// uncompressed, as ws does not say whether compression was negotiated
// (compressed messages from the peer are still read). The connection is
// tracked by h, so h.Shutdown closes it too.
func (h *Handler) ServeConn(ws *websocket.Conn, req *websock.Request, handler websock.Handler) websock.Reason {
	sub := strings.Clone(ws.Subprotocol()) // it refers to fasthttp's reused buffers
	info := &websock.ConnInfo{RemoteAddr: ws.RemoteAddr().String(), Subprotocol: sub}
	if req != nil {
		info.URL, info.Header = req.URL, req.Header
	}
	t := newTransport(ws, h.e.Options(), false)
	defer t.end()
	return h.e.Run(t, handler, info)
}

// ServerLogger returns a fasthttp.Logger for a fasthttp.Server that serves
// h, to set as its Logger (Serve does): fasthttp logs the requests it
// cannot parse with the bytes the client sent, in full, and a hostile
// client decides how many; this logger writes them to Options.Logger at
// Warn, each line cut to 256 bytes with unprintable bytes escaped, at most
// 10 at once and then one a second, counting the lines it leaves out.
func (h *Handler) ServerLogger() fasthttp.Logger {
	return peerlog.New(h.e.Options().Logger, "fasthttp")
}

// Serve serves h on ln with a fasthttp.Server set up for WebSocket
// endpoints, on a goroutine of its own, and returns the function that
// stops it in the order that matters: every WebSocket connection gets
// 1001 and its Terminate (h.Shutdown, which fasthttp's own Shutdown does
// not do for upgraded connections), then the server stops and ln is
// closed. Shutdown returns once the server's Serve has returned, even when
// called before fasthttp started listening.
func Serve(ln net.Listener, h *Handler) (shutdown func(ctx context.Context) error) {
	// The listener puts a wire under every connection, which the transport
	// uses once the connection is upgraded (see transport).
	ln = wire.Listener{Listener: ln}
	srv := &fasthttp.Server{
		Handler: h.ServeFastHTTP,
		Name:    "websock",
		// fasthttp's own lines quote what a client sent before its
		// handshake, in full: they go to the engine's Logger bounded and
		// rate-limited.
		Logger: h.ServerLogger(),
		// Concurrency bounds the connections in their HTTP phase only:
		// fasthttp releases an upgraded connection's worker and slot when
		// it hands the connection to the hijack goroutine.
		Concurrency: 64 << 10,
		// The timeouts bound the HTTP phase only: fasthttp clears the
		// deadlines before it hands an upgraded connection over, and the
		// engine's timeouts govern it from then on.
		ReadTimeout:  10 * time.Second,
		WriteTimeout: 10 * time.Second,
		IdleTimeout:  10 * time.Second,
		// fasthttp's worker pool has a cleaner goroutine that notices the
		// server stopped only when it wakes, every MaxIdleWorkerDuration
		// (default 10 s); a short period lets it end soon after Shutdown.
		MaxIdleWorkerDuration: 100 * time.Millisecond,
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.Serve(ln)
	}()
	return func(ctx context.Context) error {
		err := h.Shutdown(ctx)
		if e := srv.ShutdownWithContext(ctx); err == nil {
			err = e
		}
		// ShutdownWithContext returns at once when Serve has not yet
		// registered ln; closing it ends Serve either way.
		ln.Close()
		<-done
		return err
	}
}
