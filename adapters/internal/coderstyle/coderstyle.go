// Package coderstyle runs websock handlers on the connections of
// github.com/coder/websocket and of nhooyr.io/websocket, its predecessor:
// two libraries with one design and one API but distinct types. The
// adapters in adapters/coder and adapters/nhooyr are thin shells over it,
// each giving it the library's Accept and close error type.
//
// The libraries read and write with a context and close the connection
// when it ends, write close frames only as part of a close handshake that
// waits for the peer, and answer pings and echo close frames themselves.
// The upgrade therefore puts a wire (package adapters/wire) under the
// connection the library hijacks, to see every byte the library writes: it
// writes close, ping and pong frames itself, never two close frames, and
// enforces deadlines on the network connection, so the library's contexts
// are never cancelled.
//
// This package is an implementation detail of those two adapters. It is
// not internal only because Go's internal rule would not let both import
// it from where they live; it makes no compatibility promise.
package coderstyle

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/websock-go/websock/adapters"
	"github.com/websock-go/websock/adapters/internal/pmdeflate"
	"github.com/websock-go/websock/adapters/wire"
	"github.com/websock-go/websock/websock"
)

// Conn is what the adapters use of a library's *websocket.Conn. M is the
// library's MessageType and S its StatusCode.
type Conn[M ~int, S ~int] interface {
	Reader(ctx context.Context) (M, io.Reader, error)
	Write(ctx context.Context, typ M, p []byte) error
	Close(code S, reason string) error
	CloseNow() error
	Ping(ctx context.Context) error
	SetReadLimit(n int64)
	Subprotocol() string
}

// Library is what the shared code needs to know of one of the libraries.
type Library[M ~int, S ~int] struct {
	// Accept is the library's Accept, given the options in the shared
	// form. It must upgrade through w, whose Hijack the shared code
	// provides. A library without ping and pong hooks ignores them.
	Accept func(w http.ResponseWriter, r *http.Request, opts *AcceptOptions) (Conn[M, S], error)

	// CloseError reports the code and reason of the close frame the peer
	// sent, when err says one arrived.
	CloseError func(err error) (code websock.CloseCode, text string, ok bool)
}

// AcceptOptions is what an upgrade asks of the library's Accept. The
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

// errNoHijack reports a library that upgraded without the Hijack it was
// given: its pongs would go unwritten, since it leaves them to the engine.
var errNoHijack = errors.New("websock: the library upgraded without calling Hijack on the response writer it was given")

// Upgrade returns the adapters.HTTPUpgradeFunc that upgrades with lib,
// for connections that read messages of at most max bytes (0: no limit),
// validating text unless skipUTF8 is set.
func Upgrade[M ~int, S ~int](lib Library[M, S], max int64, skipUTF8 bool) adapters.HTTPUpgradeFunc {
	return func(w http.ResponseWriter, r *http.Request, u adapters.Upgrade) (adapters.Upgraded, error) {
		hook := new(controlHook)
		opts := &AcceptOptions{
			Compression:    u.Compression && deflateAnswerable(r.Header),
			OnPingReceived: hook.ping,
			OnPongReceived: hook.pong,
		}
		if u.Subprotocol != "" {
			opts.Subprotocols = []string{u.Subprotocol}
		}
		rw := &wire.ResponseWriter{ResponseWriter: w}
		ws, err := lib.Accept(rw, r, opts)
		if err != nil {
			return adapters.Upgraded{}, err // Accept has answered the request
		}
		if rw.Conn() == nil {
			ws.CloseNow()
			return adapters.Upgraded{}, errNoHijack
		}
		if !skipUTF8 {
			// The libraries read a frame's payload whole before handing
			// any of it over: the wire sees invalid text first.
			rw.Conn().ValidateUTF8()
		}
		t := newTransport(ws, rw.Conn(), lib.CloseError, max, skipUTF8)
		t.hook = hook
		t.deflate = w.Header().Get("Sec-WebSocket-Extensions") != ""
		return adapters.Upgraded{Transport: netTransport[M, S]{t}, Compressed: t.deflate}, nil
	}
}

// Transport returns the Transport of ws, a connection the caller accepted
// with the library itself, for connections that read messages of at most
// max bytes (0: no limit), validating text unless skipUTF8 is set. See
// the adapters' ServeConn for what such a connection cannot do.
func Transport[M ~int, S ~int](lib Library[M, S], ws Conn[M, S], max int64, skipUTF8 bool) adapters.Transport {
	return newTransport[M, S](ws, nil, lib.CloseError, max, skipUTF8)
}

// deflateAnswerable reports whether the libraries, asked for compression
// without context takeover, answer the permessage-deflate offers of h as
// RFC 7692 section 7.1 requires. They accept the first offer named
// permessage-deflate whose parameters, as written, are among those they
// know (server_max_window_bits=15 included, and client_max_window_bits
// with any value), with pmdeflate.NoContextResponse, which is right only
// for a valid offer that does not limit the server's window.
func deflateAnswerable(h http.Header) bool {
	_, ok := pmdeflate.Selected(h, func(o *pmdeflate.Offer) bool {
		if !o.Deflate() {
			return false
		}
		for _, p := range o.Params {
			switch {
			case p.Raw == pmdeflate.ClientNoContextTakeover, p.Raw == pmdeflate.ServerNoContextTakeover,
				p.Raw == pmdeflate.ClientMaxWindowBits, p.Raw == pmdeflate.ServerMaxWindowBits+"=15",
				strings.HasPrefix(p.Raw, pmdeflate.ClientMaxWindowBits+"="):
			default:
				return false
			}
		}
		return true
	})
	return ok
}

// controlHook passes the library's ping and pong callbacks, which run
// within a read, to the engine's Events, which Read sets before the first
// read.
type controlHook struct{ ev adapters.Events }

// ping has the engine answer the ping, through the wire, and report it;
// it returns false so that the library does not answer it too.
func (h *controlHook) ping(_ context.Context, payload []byte) bool {
	h.ev.Ping(payload)
	return false
}

func (h *controlHook) pong(_ context.Context, payload []byte) {
	h.ev.Control(websock.OpPong, payload)
}
