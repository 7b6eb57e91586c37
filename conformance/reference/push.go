package reference

import (
	"bufio"
	"time"

	"github.com/websock-go/websock/adapters"
	"github.com/websock-go/websock/adapters/wire"
	"github.com/websock-go/websock/websock"
)

// The push-style variant: the shape of an adapter for a library whose own
// loop reads every connection and calls back with the bytes it read
// (github.com/lesismal/nbio is one; see adapters/nbio). Here the library is
// played by readLoop, one goroutine per connection standing in for the
// library's poller: it reads what arrived and hands it over, and never runs
// handler code. The adapter's whole read side is three values made at the
// upgrade:
//
//   - a wire.Parser, the server side of RFC 6455 section 5 for bytes fed
//     from anywhere: frame checks, reassembly, UTF-8 as it arrives,
//     MaxMessageSize, permessage-deflate;
//   - an adapters.Inbox, which queues what the library's callback hands
//     over and runs the Parser, and the handler, on the connection's serial
//     actor, a goroutine the engine starts while something is queued;
//   - the library's callback (readLoop's body), which calls Inbox.Bytes
//     with a buffer it gives away, so nothing is copied, and Inbox.End
//     once reading failed.
//
// The write side is that of the pull variant (write.go): the in-memory
// connection's writes block, as a socket's do. A library whose writes
// never block puts an adapters.WriteGate in front of them (adapters/nbio
// does).

// PushAdapter describes the push-style variant. It lacks nothing: every
// case of the suite must pass. The goroutine an idle connection holds is
// readLoop's, the stand-in for the library's poller; an adapter on a
// library with a poller of its own (adapters/nbio) holds none.
var PushAdapter = adapters.Adapter{
	Name:           "reference-push",
	Library:        "github.com/websock-go/websock/conformance/reference",
	Server:         "in-memory connections",
	IdleGoroutines: 1,
}

// NewPush returns a Handler, like [New], whose connections run in the push
// style: what the peer sends is pushed into an adapters.Inbox, parsed by
// a wire.Parser.
func NewPush(accept websock.AcceptFunc, opts *Options) (*Handler, error) {
	e, err := adapters.NewEngine(PushAdapter, accept, opts)
	if err != nil {
		return nil, err
	}
	h := &Handler{e: e, push: true}
	h.init()
	return h, nil
}

// pushed is the adapters.PushTransport of one connection: the writes of
// the pull variant, and an Inbox in place of Read.
type pushed struct {
	w      *transport
	in     *adapters.Inbox
	parser *wire.Parser
}

var (
	_ adapters.PushTransport = (*pushed)(nil)
	_ adapters.UTF8Validator = (*pushed)(nil)
)

// newPushed makes the read side at the upgrade, before the 101 goes out,
// and starts the library's loop over br.
func newPushed(w *transport, br *bufio.Reader, o adapters.Options, d deflate) *pushed {
	p := &pushed{w: w, parser: wire.NewParser(wire.ParserOptions{
		MaxMessageSize:        o.MaxMessageSize,
		SkipUTF8Validation:    o.SkipUTF8Validation,
		Compression:           d.on,
		ClientContextTakeover: d.takeover,
	})}
	p.in = adapters.NewInbox(p.parser.Parse)
	go readLoop(br, p.in)
	return p
}

// readLoop plays the library's poller: it reads what arrived and pushes it,
// in a buffer it gives away, until the connection fails or is closed; the
// error goes to the Inbox as the end of reading.
func readLoop(br *bufio.Reader, in *adapters.Inbox) {
	for {
		buf := make([]byte, 4096)
		n, err := br.Read(buf)
		if n > 0 {
			in.Bytes(buf[:n], true)
		}
		if err != nil {
			in.End(err)
			return
		}
	}
}

func (p *pushed) Inbox() *adapters.Inbox { return p.in }

// ValidatesUTF8: the Parser checks text as it arrives.
func (p *pushed) ValidatesUTF8() bool { return p.parser.ValidatesUTF8() }

func (p *pushed) WriteFrame(op websock.Opcode, data []byte) error { return p.w.WriteFrame(op, data) }
func (p *pushed) WriteClose(code websock.CloseCode, text string) error {
	return p.w.WriteClose(code, text)
}
func (p *pushed) SetWriteDeadline(t time.Time) error { return p.w.SetWriteDeadline(t) }

// Close closes the connection: readLoop's read fails, and it ends reading.
func (p *pushed) Close() error { return p.w.Close() }
