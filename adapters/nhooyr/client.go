package nhooyr

//lint:file-ignore SA1019 this adapter exists to serve nhooyr.io/websocket, deprecated in favour of its successor, which the coder adapter serves

import (
	"context"

	"nhooyr.io/websocket"

	"github.com/websock-go/websock/adapters"
	"github.com/websock-go/websock/adapters/internal/coderstyle"
	"github.com/websock-go/websock/websock"
)

// DialOptions configures Dial; nil means defaults. See
// adapters.DialOptions.
type DialOptions = adapters.DialOptions

// ClientAdapter describes this adapter's client: what its library lacks
// on that side.
var ClientAdapter = adapters.Adapter{
	Name:           "nhooyr",
	Library:        "nhooyr.io/websocket",
	Server:         "client",
	IdleGoroutines: 2,
	Lacks: adapters.Lacks{
		HandleControl: "nhooyr.io/websocket's client answers pings itself and has no hook that reports ping or pong frames",
	},
}

// Dial connects to url (ws:// or wss://) and runs h over the connection
// with nhooyr.io/websocket's client, until the client is closed or h stops
// reconnecting; see adapters.Dial and adapters.Client. The engine does
// the opening handshake and validates the server's answer; the library
// then reads and writes the data frames, and the adapter writes the
// control and close frames between them. Text is validated as UTF-8, and
// a masked frame from the server refused, which the library's own client
// does not do. The library answers pings itself and reports none, so
// HandleControl sees nothing (see ClientAdapter).
func Dial(ctx context.Context, url string, h websock.Handler, opts *DialOptions) (*adapters.Client, error) {
	return adapters.Dial(ctx, ClientAdapter, dialTransport, url, h, opts)
}

func dialTransport(ctx context.Context, d *adapters.Dialed) (adapters.Transport, error) {
	return coderstyle.Dial(ctx, library, dial, d)
}

func dial(ctx context.Context, url string, o *coderstyle.DialOptions) (coderstyle.Conn[websocket.MessageType, websocket.StatusCode], error) {
	opts := &websocket.DialOptions{
		HTTPClient:   o.HTTPClient,
		Subprotocols: o.Subprotocols,
	}
	if o.Compression {
		opts.CompressionMode = websocket.CompressionNoContextTakeover
	}
	ws, _, err := websocket.Dial(ctx, url, opts)
	if err != nil {
		return nil, err
	}
	return ws, nil
}
