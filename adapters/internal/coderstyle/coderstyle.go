// Package coderstyle runs websock handlers on the connections of
// github.com/coder/websocket and of nhooyr.io/websocket, its predecessor:
// two libraries with one design and one API but distinct types. The
// adapters in adapters/coder and adapters/nhooyr are thin shells over it,
// each giving it the library's Accept and close error type.
//
// The libraries read and write with a context and close the connection
// when it ends, write close frames only as part of a close handshake that
// waits for the peer, and answer pings and echo close frames themselves.
// An [Endpoint] therefore wraps the connection the library hijacks, to
// see every byte the library writes: it writes close, ping and pong
// frames itself, never two close frames, and enforces deadlines on the
// network connection, so the library's contexts are never cancelled.
//
// This package is an implementation detail of those two adapters. It is
// not internal only because Go's internal rule would not let both import
// it from where they live; it makes no compatibility promise.
package coderstyle

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/websock-go/websock/adapters"
	"github.com/websock-go/websock/websock"
)

// Conn is what the adapters use of a library's *websocket.Conn. M is the
// library's MessageType and S its StatusCode.
type Conn[M ~int, S ~int] interface {
	Reader(ctx context.Context) (M, io.Reader, error)
	Write(ctx context.Context, typ M, p []byte) error
	Close(code S, reason string) error
	CloseNow() error
	SetReadLimit(n int64)
	Subprotocol() string
}

// Library is what the shared code needs to know of one of the libraries.
type Library[M ~int, S ~int] struct {
	// Accept is the library's Accept, given the options in the shared
	// form. It must upgrade through w, whose Hijack the shared code
	// provides.
	Accept func(w http.ResponseWriter, r *http.Request, opts *AcceptOptions) (Conn[M, S], error)

	// CloseError reports the code and reason of the close frame the peer
	// sent, when err says one arrived.
	CloseError func(err error) (code websock.CloseCode, text string, ok bool)

	// ControlHooks says that Accept passes AcceptOptions.OnPingReceived
	// and OnPongReceived to the library, which reports every ping and
	// pong through them. Without them the library answers pings itself
	// and consumes pongs unseen, so HandleControl sees nothing and
	// keepalive pings (Options.PingInterval) cannot work.
	ControlHooks bool
}

// ErrKeepalive is the reason an Endpoint refuses Options.PingInterval on
// connections whose pongs the engine cannot see.
var ErrKeepalive = fmt.Errorf("%w: Options.PingInterval needs the pongs to keepalive pings, "+
	"which this library consumes without reporting them", adapters.ErrUnsupportedOption)

// AcceptOptions is what an Endpoint asks of the library's Accept. The
// library must not check the origin: the engine did.
type AcceptOptions struct {
	// Subprotocols holds the subprotocol the engine chose, if any: the
	// only one to accept.
	Subprotocols []string

	// Compression: negotiate permessage-deflate if the client offers it.
	Compression bool

	// OnPingReceived and OnPongReceived report control frames to the
	// engine, for a library that has these hooks; OnPingReceived returns
	// false, since the engine answers the ping itself.
	OnPingReceived func(ctx context.Context, payload []byte) bool
	OnPongReceived func(ctx context.Context, payload []byte)
}

// Endpoint upgrades requests with a library and runs websock handlers on
// the connections. It is safe for concurrent use.
type Endpoint[M ~int, S ~int] struct {
	engine    *adapters.Engine
	accept    websock.AcceptFunc
	lib       Library[M, S]
	keepalive bool // Options.PingInterval is set
}

var _ http.Handler = (*Endpoint[int, int])(nil)

// NewEndpoint returns an Endpoint that runs the handlers accept returns
// on connections of lib, with engine e.
func NewEndpoint[M ~int, S ~int](e *adapters.Engine, accept websock.AcceptFunc, lib Library[M, S]) *Endpoint[M, S] {
	return &Endpoint[M, S]{engine: e, accept: accept, lib: lib, keepalive: e.Options().PingInterval > 0}
}

// ServeHTTP upgrades r and runs the connection until it ends.
func (ep *Endpoint[M, S]) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	e := ep.engine
	if he := adapters.CheckUpgrade(r.Method, r.Header); he != nil {
		adapters.WriteRefusal(w, he)
		return
	}
	req := adapters.NewRequest(r)
	handler, he := e.Accept(req, ep.accept)
	if he != nil {
		adapters.WriteRefusal(w, he)
		return
	}
	sub := e.ChooseSubprotocol(req.Subprotocols)
	hook := new(controlHook)
	opts := &AcceptOptions{
		Compression:    e.Options().Compression,
		OnPingReceived: hook.ping,
		OnPongReceived: hook.pong,
	}
	if sub != "" {
		opts.Subprotocols = []string{sub}
	}
	hj := &hijacker{ResponseWriter: w}
	ws, err := ep.lib.Accept(hj, r, opts)
	if err != nil {
		return // Accept has answered the request
	}
	if hj.wire == nil {
		// The library hijacked the connection some other way: its pongs
		// would go unwritten, since it leaves them to the engine.
		ws.CloseNow()
		e.Options().Logger.Error("websock: the library upgraded without calling Hijack on the response writer it was given", "adapter", e.Name())
		return
	}
	compressed := w.Header().Get("Sec-WebSocket-Extensions") != ""
	ep.serve(newTransport(ws, hj.wire, ep.lib.CloseError, e.Options().MaxMessageSize), hook,
		adapters.NewInfo(req, sub, compressed), handler)
}

// ServeConn runs handler over ws, a connection the caller accepted with
// the library, until it ends, and returns why it ended. r is the upgrade
// request, for ConnInfo; it may be nil. See the adapters' ServeConn for
// what such a connection cannot do.
//
// With Options.PingInterval set it closes ws with 1011 at once, and
// returns a Reason wrapping ErrKeepalive: the hooks that report pongs are
// set at Accept.
func (ep *Endpoint[M, S]) ServeConn(ws Conn[M, S], r *http.Request, handler websock.Handler) websock.Reason {
	if ep.keepalive {
		ws.Close(S(websock.CloseInternalError), "internal error")
		return websock.Reason{Kind: websock.KindError, Code: websock.CloseInternalError, Text: "internal error", Err: ErrKeepalive}
	}
	info := &websock.ConnInfo{Subprotocol: ws.Subprotocol()}
	if r != nil {
		info = adapters.NewInfo(adapters.NewRequest(r), ws.Subprotocol(), false)
	}
	return ep.serve(newTransport(ws, nil, ep.lib.CloseError, ep.engine.Options().MaxMessageSize), nil, info, handler)
}

func (ep *Endpoint[M, S]) serve(t *transport[M, S], hook *controlHook, info *websock.ConnInfo, handler websock.Handler) websock.Reason {
	defer t.release()
	var tr adapters.Transport = t
	if t.wire != nil {
		tr = netTransport[M, S]{t}
	}
	c, err := ep.engine.NewConn(tr, handler, info)
	if err != nil {
		if d := ep.engine.Options().WriteTimeout; d > 0 {
			t.SetWriteDeadline(time.Now().Add(d))
		}
		t.WriteClose(websock.CloseGoingAway, "server shutting down")
		return websock.Reason{Kind: websock.KindShutdown, Code: websock.CloseGoingAway, Err: err}
	}
	if hook != nil {
		hook.c = c // before the first read, so before the first callback
	}
	return c.Serve()
}

// controlHook passes the library's ping and pong callbacks, which run
// within ReadMessage, to the engine.
type controlHook struct{ c *adapters.Conn }

// ping has the engine answer the ping, through the wire, and report it;
// it returns false so that the library does not answer it too.
func (h *controlHook) ping(_ context.Context, payload []byte) bool {
	h.c.Ping(payload)
	return false
}

func (h *controlHook) pong(_ context.Context, payload []byte) {
	h.c.Control(websock.OpPong, payload)
}
