package gorilla

import (
	"context"
	"net"

	"github.com/gorilla/websocket"

	"github.com/websock-go/websock/adapters"
	"github.com/websock-go/websock/websock"
)

// DialOptions configures Dial; nil means defaults. See
// adapters.DialOptions.
type DialOptions = adapters.DialOptions

// ClientAdapter describes this adapter's client: its library lacks
// nothing there.
var ClientAdapter = adapters.Adapter{
	Name:           "gorilla",
	Library:        "github.com/gorilla/websocket",
	Server:         "client",
	IdleGoroutines: 1,
}

// Dial connects to url (ws:// or wss://) and runs h over the connection
// with gorilla/websocket's client, until the client is closed or h stops
// reconnecting; see adapters.Dial and adapters.Client. The engine does
// the opening handshake and validates the server's answer; the library
// then reads and writes the frames. Text is validated as UTF-8, which
// the library does not do, and every permessage-deflate answer valid for
// the offer is accepted, where the library refuses one that omits
// client_no_context_takeover.
func Dial(ctx context.Context, url string, h websock.Handler, opts *DialOptions) (*adapters.Client, error) {
	return adapters.Dial(ctx, ClientAdapter, dialTransport, url, h, opts)
}

// dialTransport makes the library's client connection over d, through a
// handshake replayed to the library.
func dialTransport(ctx context.Context, d *adapters.Dialed) (adapters.Transport, error) {
	dl := websocket.Dialer{
		NetDialContext:    func(context.Context, string, string) (net.Conn, error) { return d.Replay(), nil },
		EnableCompression: d.Compressed,
		WriteBufferPool:   &writePool,
	}
	if d.Subprotocol != "" {
		dl.Subprotocols = []string{d.Subprotocol}
	}
	u := *d.URL
	u.Scheme = "ws" // TLS, if any, is under the replayed connection
	ws, _, err := dl.DialContext(ctx, u.String(), nil)
	if err != nil {
		return nil, err
	}
	return newTransport(ws, d.Options, d.Compressed), nil
}
