// Package coder runs websock handlers on github.com/coder/websocket.
//
// [New] returns an http.Handler that upgrades requests through a
// websock.AcceptFunc and runs the returned Handler; [Handler.ServeConn]
// runs one over a connection the caller accepted itself.
//
// On connections New accepts, everything in the conformance suite is
// supported, HandleControl included (through the library's ping and pong
// hooks): [Adapter] declares no gap. The library can write a close frame
// only as part of a handshake that waits for the peer, so the adapter
// writes close, ping and pong frames on the hijacked connection itself,
// between the library's frames. Compression uses no context takeover,
// and an offer that limits the server's window (server_max_window_bits),
// which the library cannot honour, or that is invalid is declined, so
// that the connection runs uncompressed.
//
// A prepared message (websock.Prepared) goes out as its shared frame
// bytes, framed and compressed once for every connection, written on the
// hijacked connection between the library's frames; the library keeps no
// compression context between messages, so it has nothing to keep in
// step. On a connection given to ServeConn, and on the client's side,
// whose frames are masked, it is written as any other frame.
//
// A connection accepted elsewhere and given to ServeConn has only the
// library's API, with these limits: HandleControl sees nothing (the
// library answers pings itself); a pushed ping or pong fails with
// errors.ErrUnsupported, ending the connection; closing waits for the
// peer's close frame for up to the library's 5 seconds rather than the
// CloseTimeout option. Keepalive works on both, through the library's
// Ping.
package coder

import (
	"context"
	"errors"
	"net/http"

	"github.com/coder/websocket"

	"github.com/websock-go/websock/adapters"
	"github.com/websock-go/websock/adapters/internal/coderstyle"
	"github.com/websock-go/websock/websock"
)

// Options configures a Handler; nil means defaults. See adapters.Options.
type Options = adapters.Options

// Adapter describes this adapter: its name, shown in ConnInfo.Adapter, and
// what its library lacks.
var Adapter = adapters.Adapter{
	Name:           "coder",
	Library:        "github.com/coder/websocket",
	Server:         "net/http",
	IdleGoroutines: 1, // the connection's own: coder/websocket runs none while idle
	Lacks: adapters.Lacks{
		HTTP2: "coder/websocket's Accept hijacks an HTTP/1.1 connection, and cannot run a connection over an HTTP/2 stream",
	},
}

// Handler is an http.Handler that upgrades WebSocket requests with
// coder/websocket and runs websock handlers on them.
type Handler struct {
	e       *adapters.Engine
	upgrade adapters.HTTPUpgradeFunc
}

var _ http.Handler = (*Handler)(nil)

// New returns a Handler that accepts upgrades through accept, configured
// by opts. coder/websocket honours every option, so the error is always
// nil; every adapter's New has the same shape.
func New(accept websock.AcceptFunc, opts *Options) (*Handler, error) {
	e, err := adapters.NewEngine(Adapter, accept, opts)
	if err != nil {
		return nil, err
	}
	return &Handler{e: e, upgrade: coderstyle.Upgrade(library, e.Options().MaxMessageSize, e.Options().SkipUTF8Validation)}, nil
}

// ServeHTTP upgrades r and returns; the connection runs on a goroutine of
// its own until it ends (Shutdown waits for it).
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.e.ServeHTTP(w, r, h.upgrade) }

// ServeConn runs handler over ws, a connection the caller accepted with
// websocket.Accept, until it ends, and returns why it ended; it closes
// ws. r is the upgrade request, for ConnInfo; it may be nil. The
// connection is tracked by h, so h.Shutdown closes it too, and h's
// Options apply to it: MaxMessageSize replaces the library's read limit.
// The package documentation lists what such a connection cannot do.
func (h *Handler) ServeConn(ws *websocket.Conn, r *http.Request, handler websock.Handler) websock.Reason {
	info := &websock.ConnInfo{Subprotocol: ws.Subprotocol()}
	if r != nil {
		info.RemoteAddr, info.URL, info.Header = r.RemoteAddr, r.URL, r.Header
	}
	return h.e.Run(coderstyle.Transport(library, ws, h.e.Options().MaxMessageSize, h.e.Options().SkipUTF8Validation), handler, info)
}

// Shutdown closes every connection with 1001 and waits for their
// Terminate; see adapters.Engine.Shutdown. Call it before the HTTP
// server's own Shutdown, which does not close upgraded connections.
func (h *Handler) Shutdown(ctx context.Context) error { return h.e.Shutdown(ctx) }

// Restart is Shutdown with close 1012 (service restart).
func (h *Handler) Restart(ctx context.Context) error { return h.e.Restart(ctx) }

// Live returns how many connections are running.
func (h *Handler) Live() int { return h.e.Live() }

var library = coderstyle.Library[websocket.MessageType, websocket.StatusCode]{
	Accept: func(w http.ResponseWriter, r *http.Request, o *coderstyle.AcceptOptions) (coderstyle.Conn[websocket.MessageType, websocket.StatusCode], error) {
		opts := &websocket.AcceptOptions{
			Subprotocols:       o.Subprotocols,
			InsecureSkipVerify: true, // the engine checked the origin
			OnPingReceived:     o.OnPingReceived,
			OnPongReceived:     o.OnPongReceived,
		}
		if o.Compression {
			opts.CompressionMode = websocket.CompressionNoContextTakeover
		}
		return websocket.Accept(w, r, opts)
	},
	CloseError: func(err error) (websock.CloseCode, string, bool) {
		var ce websocket.CloseError
		if !errors.As(err, &ce) {
			return 0, "", false
		}
		return websock.CloseCode(ce.Code), ce.Reason, true
	},
}
