package coderstyle

import (
	"context"
	"net"
	"net/http"

	"github.com/websock-go/websock/adapters"
	"github.com/websock-go/websock/websock"
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
	// library that has these hooks; OnPingReceived returns true, since
	// without a wire only the library can answer the ping.
	OnPingReceived func(ctx context.Context, payload []byte) bool
	OnPongReceived func(ctx context.Context, payload []byte)
}

// DialFunc is the library's Dial, given the options in the shared form.
type DialFunc[M ~int, S ~int] func(ctx context.Context, url string, o *DialOptions) (Conn[M, S], error)

// Dial makes the Transport of a client connection over d with the
// library's dial. The library answers pings itself (the engine cannot
// write control frames between the library's frames without a wire), and
// reports them, and pongs, through its hooks when it has them; a ping or
// pong the handler pushes fails with errors.ErrUnsupported, as on a
// connection given to ServeConn.
func Dial[M ~int, S ~int](ctx context.Context, lib Library[M, S], dial DialFunc[M, S], d *adapters.Dialed) (adapters.Transport, error) {
	hook := new(controlHook)
	in := &serverFrames{Conn: d.Conn}
	d.Conn = in
	o := &DialOptions{
		HTTPClient: &http.Client{Transport: &http.Transport{
			DialContext:       func(context.Context, string, string) (net.Conn, error) { return d.Replay(), nil },
			DisableKeepAlives: true,
		}},
		Compression:    d.Compressed,
		OnPingReceived: hook.clientPing,
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
	t := newTransport(ws, nil, lib.CloseError, d.Options.MaxMessageSize, d.Options.SkipUTF8Validation)
	t.hook, t.in = hook, in
	return t, nil
}

// clientPing reports a ping the library answers itself.
func (h *controlHook) clientPing(_ context.Context, payload []byte) bool {
	h.ev.Control(websock.OpPing, payload)
	return true
}
