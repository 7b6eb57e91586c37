// Package coder runs websock handlers on github.com/coder/websocket.
//
// [New] returns an http.Handler that upgrades requests through a
// websock.AcceptFunc and runs the returned Handler; [Handler.ServeConn]
// runs one over a connection the caller accepted itself.
//
// On connections New accepts, everything in the conformance suite is
// supported, HandleControl included (through the library's ping and pong
// hooks). The library can write a close frame only as part of a handshake
// that waits for the peer, so the adapter writes close, ping and pong
// frames on the hijacked connection itself, between the library's frames
// (see package coderstyle). Compression uses no context takeover.
//
// A connection accepted elsewhere and given to ServeConn has only the
// library's API, with these limits: HandleControl sees nothing (the
// library answers pings itself); a pushed ping or pong fails with
// errors.ErrUnsupported, ending the connection; closing waits for the
// peer's close frame for up to the library's 5 seconds rather than the
// CloseTimeout option; and pings do not count as activity for the idle
// timeout. Neither can keepalive pings work: with Options.PingInterval set,
// ServeConn refuses the connection.
package coder

import (
	"errors"
	"net/http"

	"github.com/coder/websocket"

	"github.com/websock-go/websock/adapters"
	"github.com/websock-go/websock/adapters/internal/coderstyle"
	"github.com/websock-go/websock/websock"
)

// Name is this adapter's name, as shown in ConnInfo.Adapter.
const Name = "coder"

// Handler is an http.Handler that upgrades WebSocket requests with
// coder/websocket and runs websock handlers on them. Its embedded Engine
// gives Shutdown and Live.
type Handler struct {
	*adapters.Engine
	ep *coderstyle.Endpoint[websocket.MessageType, websocket.StatusCode]
}

var _ http.Handler = (*Handler)(nil)

// New returns a Handler that accepts upgrades through accept, configured
// by opts (nil means defaults). coder/websocket honours every option, so
// the error is always nil; every adapter's New has the same shape.
func New(accept websock.AcceptFunc, opts *adapters.Options) (*Handler, error) {
	e, err := adapters.NewEngine(Name, opts, nil)
	if err != nil {
		return nil, err
	}
	return &Handler{Engine: e, ep: coderstyle.NewEndpoint(e, accept, library)}, nil
}

// ServeHTTP upgrades r and runs the connection until it ends.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.ep.ServeHTTP(w, r) }

// ServeConn runs handler over ws, a connection the caller accepted with
// websocket.Accept, until it ends, and returns why it ended; it closes
// ws. r is the upgrade request, for ConnInfo; it may be nil. The
// connection is tracked by h, so h.Shutdown closes it too, and h's
// Options apply to it: MaxMessageSize replaces the library's read limit.
// The package documentation lists what such a connection cannot do.
func (h *Handler) ServeConn(ws *websocket.Conn, r *http.Request, handler websock.Handler) websock.Reason {
	return h.ep.ServeConn(ws, r, handler)
}

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
	ControlHooks: true,
}
