package gws

import (
	"context"
	"crypto/rand"
	"io"
	"math"
	"net"
	"net/http"

	"github.com/lxzan/gws"

	"github.com/websock-go/websock/adapters"
	"github.com/websock-go/websock/websock"
)

// DialOptions configures Dial; nil means defaults. See
// adapters.DialOptions.
type DialOptions = adapters.DialOptions

// ClientAdapter describes this adapter's client: it lacks nothing there.
var ClientAdapter = adapters.Adapter{
	Name:           "gws",
	Library:        "github.com/lxzan/gws",
	Server:         "client",
	IdleGoroutines: 1, // the connection's own, which runs gws's read loop
}

// Dial connects to url (ws:// or wss://) and runs h over the connection
// with gws's client, until the client is closed or h stops reconnecting;
// see adapters.Dial and adapters.Client. The engine does the opening
// handshake and validates the server's answer; gws then reads and writes
// the frames, its read loop running on the connection's goroutine, as on
// the server, with the adapter's frame reader ahead of it validating text
// as it arrives and the engine writing the close frames.
func Dial(ctx context.Context, url string, h websock.Handler, opts *DialOptions) (*adapters.Client, error) {
	return adapters.Dial(ctx, ClientAdapter, dialTransport, url, h, opts)
}

func dialTransport(_ context.Context, d *adapters.Dialed) (adapters.Transport, error) {
	o := d.Options
	t := &transport{nc: d.Conn}
	t.in = frames{r: d.Conn, deflate: d.Compressed, validate: !o.SkipUTF8Validation}
	// gws reads through the frames reader, after the handshake the engine
	// replays to it.
	through := *d
	through.Conn = &readThrough{Conn: d.Conn, r: &t.in}
	t.lib = libConn{Conn: through.Replay(), t: t, client: true}
	hdr := http.Header{}
	if d.Subprotocol != "" {
		hdr.Set("Sec-WebSocket-Protocol", d.Subprotocol)
	}
	u := *d.URL
	u.Scheme = "ws" // TLS, if any, is under the replayed connection
	ws, _, err := gws.NewClientFromConn(events{max: o.MaxMessageSize}, &gws.ClientOption{
		Addr:                u.String(),
		RequestHeader:       hdr,
		ReadMaxPayloadSize:  readLimit(o.MaxMessageSize),
		WriteMaxPayloadSize: math.MaxInt,
		// Without context takeover either way (the zero value), as the
		// engine negotiated.
		PermessageDeflate: gws.PermessageDeflate{Enabled: d.Compressed},
	}, &t.lib)
	if err != nil {
		return nil, err
	}
	t.ws = ws
	return t, nil
}

// readThrough is a net.Conn whose reads come from r.
type readThrough struct {
	net.Conn
	r io.Reader
}

func (c *readThrough) Read(p []byte) (int, error) { return c.r.Read(p) }

// maskFrame returns the unmasked control frame b, of at most 125 bytes of
// payload, masked as a client sends it.
func maskFrame(b []byte) []byte {
	out := make([]byte, 6, len(b)+4)
	out[0], out[1] = b[0], b[1]|0x80
	rand.Read(out[2:6])
	for i, v := range b[2:] {
		out = append(out, v^out[2+i&3])
	}
	return out
}
