package gobws

import (
	"context"

	"github.com/websock-go/websock/adapters"
	"github.com/websock-go/websock/websock"
)

// DialOptions configures Dial; nil means defaults. See
// adapters.DialOptions.
type DialOptions = adapters.DialOptions

// ClientAdapter describes this adapter's client: it lacks nothing there.
var ClientAdapter = adapters.Adapter{
	Name:           "gobws",
	Library:        "github.com/gobwas/ws",
	Server:         "client",
	IdleGoroutines: 1,
}

// Dial connects to url (ws:// or wss://) and runs h over the connection
// with gobwas/ws's frames, until the client is closed or h stops
// reconnecting; see adapters.Dial and adapters.Client. The engine does
// the opening handshake and validates the server's answer; the adapter
// reads and writes frames with the library's frame functions, as on the
// server, masking what it writes and refusing masked frames from the
// server.
func Dial(ctx context.Context, url string, h websock.Handler, opts *DialOptions) (*adapters.Client, error) {
	return adapters.Dial(ctx, ClientAdapter, dialTransport, url, h, opts)
}

func dialTransport(_ context.Context, d *adapters.Dialed) (adapters.Transport, error) {
	t := newTransport(d.Conn, nil, d.Compressed, &d.Options)
	t.client = true
	return t, nil
}
