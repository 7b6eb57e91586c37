// Package nhooyr runs websock handlers on nhooyr.io/websocket, the
// predecessor of github.com/coder/websocket (see the coder adapter, which
// shares its code through package coderstyle).
//
// [New] returns an http.Handler that upgrades requests through a
// websock.AcceptFunc and runs the returned Handler; [Handler.ServeConn]
// runs one over a connection the caller accepted itself.
//
// The library answers pings itself and consumes pongs, with no hook to
// report either, so HandleControl is never called, pings do not count as
// activity for the idle timeout, and keepalive pings cannot work: New
// refuses Options.PingInterval with an error matching
// adapters.ErrUnsupportedOption. Everything else in the conformance suite
// is supported on connections New accepts. The library can write a close
// frame only as part of a handshake that waits for the peer, so the
// adapter writes close, ping and pong frames on the hijacked connection
// itself, between the library's frames. Compression uses no context
// takeover.
//
// A connection accepted elsewhere and given to ServeConn has only the
// library's API, with these further limits: a pushed ping or pong fails
// with errors.ErrUnsupported, ending the connection; closing waits for
// the peer's close frame for up to the library's 5 seconds rather than
// the CloseTimeout option; and the library may send a second close frame
// when it echoes the peer's.
package nhooyr

import (
	"errors"
	"net/http"

	"nhooyr.io/websocket"

	"github.com/websock-go/websock/adapters"
	"github.com/websock-go/websock/adapters/internal/coderstyle"
	"github.com/websock-go/websock/websock"
)

// Name is this adapter's name, as shown in ConnInfo.Adapter.
const Name = "nhooyr"

// Handler is an http.Handler that upgrades WebSocket requests with
// nhooyr.io/websocket and runs websock handlers on them. Its embedded
// Engine gives Shutdown and Live.
type Handler struct {
	*adapters.Engine
	ep *coderstyle.Endpoint[websocket.MessageType, websocket.StatusCode]
}

var _ http.Handler = (*Handler)(nil)

// New returns a Handler that accepts upgrades through accept, configured
// by opts (nil means defaults). Options.PingInterval is refused with an
// error matching adapters.ErrUnsupportedOption: the library consumes the
// pongs that keepalive needs to see.
func New(accept websock.AcceptFunc, opts *adapters.Options) (*Handler, error) {
	e, err := adapters.NewEngine(Name, opts, adapters.Unsupported{
		"PingInterval": "nhooyr.io/websocket consumes pongs without reporting them, so keepalive cannot see the answers to its pings",
	})
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

// library ignores the ping and pong hooks of coderstyle.AcceptOptions:
// this library has none, and answers pings itself.
var library = coderstyle.Library[websocket.MessageType, websocket.StatusCode]{
	Accept: func(w http.ResponseWriter, r *http.Request, o *coderstyle.AcceptOptions) (coderstyle.Conn[websocket.MessageType, websocket.StatusCode], error) {
		opts := &websocket.AcceptOptions{
			Subprotocols:       o.Subprotocols,
			InsecureSkipVerify: true, // the engine checked the origin
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
