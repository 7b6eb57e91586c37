// Package fasthttp runs websock handlers on github.com/fasthttp/websocket
// over a github.com/valyala/fasthttp server, which is not net/http: there
// is no http.Handler and no *http.Request. The same websock.AcceptFunc and
// Handler that run on the net/http adapters run here unchanged.
//
// [New] returns a [Handler] whose [Handler.ServeFastHTTP] method is a
// fasthttp.RequestHandler: pass h.ServeFastHTTP as fasthttp.Server.Handler,
// or call it from a router. [Handler.ServeConn] runs a websock Handler over
// a connection the caller upgraded itself with websocket.FastHTTPUpgrader.
//
// fasthttp hands an upgraded connection to a goroutine of its own after
// the request handler has returned; the connection runs on that goroutine
// until Terminate, and the embedded Engine's Shutdown closes it with 1001.
// fasthttp.Server.Shutdown does not close upgraded connections: call both,
// the Handler's first.
//
// fasthttp/websocket is a fork of gorilla/websocket and shares its one
// limitation: it cannot tell a close frame with a 1-byte payload from one
// with none, so it answers that protocol error with a normal close;
// everything else in the conformance suite is supported.
package fasthttp

import (
	"net/http"
	"net/textproto"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/fasthttp/websocket"
	"github.com/valyala/fasthttp"

	"github.com/websock-go/websock/adapters"
	"github.com/websock-go/websock/websock"
)

// Name is this adapter's name, as shown in ConnInfo.Adapter.
const Name = "fasthttp"

// Handler upgrades WebSocket requests on a fasthttp server with
// fasthttp/websocket and runs websock handlers on them. Its embedded Engine
// gives Shutdown and Live.
type Handler struct {
	*adapters.Engine
	accept websock.AcceptFunc
	up     websocket.FastHTTPUpgrader
}

// writePool shares write buffers between connections, so that an idle
// connection holds none.
var writePool sync.Pool

// New returns a Handler that accepts upgrades through accept, configured
// by opts (nil means defaults). fasthttp/websocket honours every option,
// so the error is always nil; every adapter's New has the same shape.
func New(accept websock.AcceptFunc, opts *adapters.Options) (*Handler, error) {
	e, err := adapters.NewEngine(Name, opts, nil)
	if err != nil {
		return nil, err
	}
	return &Handler{
		Engine: e,
		accept: accept,
		up: websocket.FastHTTPUpgrader{
			EnableCompression: e.Options().Compression,
			WriteBufferPool:   &writePool,
			// The engine checked the origin, and chose the subprotocol:
			// with Subprotocols nil the upgrader echoes the
			// Sec-WebSocket-Protocol response header ServeFastHTTP sets.
			CheckOrigin: func(*fasthttp.RequestCtx) bool { return true },
			Error: func(ctx *fasthttp.RequestCtx, status int, reason error) {
				writeRefusal(ctx, websock.Refuse(status, "websocket: "+strings.TrimPrefix(reason.Error(), "websocket: ")+"\n"))
			},
		},
	}, nil
}

// ServeFastHTTP is a fasthttp.RequestHandler: it upgrades the request and
// returns; fasthttp then runs the connection on a goroutine of its own
// until it ends. A request that is not a WebSocket upgrade, or that the
// AcceptFunc refuses, is answered with the refusal's status, headers and
// body.
func (h *Handler) ServeFastHTTP(ctx *fasthttp.RequestCtx) {
	header := requestHeader(ctx)
	if he := adapters.CheckUpgrade(string(ctx.Method()), header); he != nil {
		writeRefusal(ctx, he)
		return
	}
	// Everything the connection needs is copied out of ctx now: fasthttp
	// reuses ctx once the connection is upgraded.
	req := newRequest(ctx, header)
	handler, he := h.Accept(req, h.accept)
	if he != nil {
		writeRefusal(ctx, he)
		return
	}
	sub := h.ChooseSubprotocol(req.Subprotocols)
	if sub != "" {
		ctx.Response.Header.Set("Sec-WebSocket-Protocol", sub)
	}
	info := adapters.NewInfo(req, sub, false)
	err := h.up.Upgrade(ctx, func(ws *websocket.Conn) {
		h.serve(ws, info, handler)
	})
	if err != nil {
		return // Upgrade has answered the request
	}
	// The upgrader has answered with the extensions it negotiated; the
	// hijack handler that reads info runs only after this handler returns.
	info.Compressed = len(ctx.Response.Header.Peek("Sec-WebSocket-Extensions")) > 0
}

// NewRequest returns the server-agnostic view of ctx's request for an
// AcceptFunc. Everything in it is copied, so it stays valid after the
// request handler returns, when fasthttp reuses ctx.
func NewRequest(ctx *fasthttp.RequestCtx) *websock.Request {
	return newRequest(ctx, requestHeader(ctx))
}

func newRequest(ctx *fasthttp.RequestCtx, header http.Header) *websock.Request {
	u, err := url.ParseRequestURI(string(ctx.RequestURI()))
	if err != nil {
		// fasthttp accepted a request target net/url does not: keep what
		// fasthttp made of it.
		u = &url.URL{Path: string(ctx.URI().Path()), RawQuery: string(ctx.URI().QueryString())}
	}
	return &websock.Request{
		URL:          u,
		Host:         string(ctx.Request.Header.Host()),
		Header:       header,
		RemoteAddr:   ctx.RemoteAddr().String(),
		Subprotocols: adapters.ParseSubprotocols(header.Values("Sec-WebSocket-Protocol")),
	}
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
		info = adapters.NewInfo(req, sub, false)
	}
	return h.serve(ws, info, handler)
}

func (h *Handler) serve(ws *websocket.Conn, info *websock.ConnInfo, handler websock.Handler) websock.Reason {
	max := h.Options().MaxMessageSize
	t := newTransport(ws, max)
	c, err := h.NewConn(t, handler, info)
	if err != nil {
		if d := h.Options().WriteTimeout; d > 0 {
			t.SetWriteDeadline(time.Now().Add(d))
		}
		t.WriteClose(websock.CloseGoingAway, "server shutting down")
		t.Close()
		t.end()
		return websock.Reason{Kind: websock.KindShutdown, Code: websock.CloseGoingAway, Err: err}
	}
	ws.SetReadLimit(max) // 0: no limit
	ws.EnableWriteCompression(info.Compressed)
	ws.SetCloseHandler(func(int, string) error { return nil }) // the engine answers
	ws.SetPingHandler(func(s string) error { c.Ping([]byte(s)); return nil })
	ws.SetPongHandler(func(s string) error { c.Control(websock.OpPong, []byte(s)); return nil })
	reason := c.Serve()
	t.end()
	return reason
}
