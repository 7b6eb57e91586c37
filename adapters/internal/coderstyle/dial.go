package coderstyle

import (
	"context"
	"net"
	"net/http"

	"github.com/websock-go/websock/adapters"
)

// DialOptions is what a client dial asks of the library's Dial.
type DialOptions struct {
	// HTTPClient dials through the engine's handshake, replayed.
	HTTPClient *http.Client

	// Subprotocols holds the subprotocol the server chose, if any.
	Subprotocols []string

	// Compression: permessage-deflate without context takeover was
	// negotiated.
	Compression bool

	// OnPingReceived and OnPongReceived report control frames, for a
	// library that has these hooks; OnPingReceived returns false, since
	// the engine answers the ping itself. A library without them answers
	// pings itself and reports nothing.
	OnPingReceived func(ctx context.Context, payload []byte) bool
	OnPongReceived func(ctx context.Context, payload []byte)
}

// DialFunc is the library's Dial, given the options in the shared form.
type DialFunc[M ~int, S ~int] func(ctx context.Context, url string, o *DialOptions) (Conn[M, S], error)

// Dial makes the Transport of a client connection over d with the
// library's dial. Under the library's connection, a clientWire writes the
// engine's ping, pong and close frames, and a serverFrames fails a masked
// frame, invalid text and a malformed close frame from the server as they
// arrive, and tells a message cut short by the connection from a whole
// one.
func Dial[M ~int, S ~int](ctx context.Context, lib Library[M, S], dial DialFunc[M, S], d *adapters.Dialed) (adapters.Transport, error) {
	hook := new(controlHook)
	in := &serverFrames{Conn: d.Conn, validate: !d.Options.SkipUTF8Validation}
	cw := &clientWire{Conn: in, nc: d.Conn}
	d.Conn = cw
	o := &DialOptions{
		HTTPClient: &http.Client{Transport: &http.Transport{
			DialContext:       func(context.Context, string, string) (net.Conn, error) { return d.Replay(), nil },
			DisableKeepAlives: true,
		}},
		Compression:    d.Compressed,
		OnPingReceived: hook.ping,
		OnPongReceived: hook.pong,
	}
	if d.Subprotocol != "" {
		o.Subprotocols = []string{d.Subprotocol}
	}
	u := *d.URL
	u.Scheme = "http" // TLS, if any, is under the replayed connection
	ws, err := dial(ctx, u.String(), o)
	if err != nil {
		return nil, err
	}
	t := newTransport[M, S](ws, cw, lib.CloseError, d.Options.MaxMessageSize, d.Options.SkipUTF8Validation)
	t.hook, t.in = hook, in
	return netTransport[M, S]{t}, nil
}
