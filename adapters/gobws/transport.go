package gobws

import (
	"net"
	"time"

	"github.com/gobwas/ws"

	"github.com/websock-go/websock/adapters"
)

// transport adapts a connection speaking gobwas/ws frames to
// adapters.Transport. Its read side (read.go) is used by the goroutine
// that runs the connection only; its write side (write.go) holds no state,
// so that it can be called from any goroutine the engine writes from.
type transport struct {
	nc        net.Conn
	ev        adapters.Events // control frames are reported to it; set by Read
	max       int64           // MaxMessageSize; 0 means no limit
	deflate   bool            // permessage-deflate was negotiated
	huffman   bool            // with a server window under 32 KiB: compress without back-references
	checkUTF8 bool            // validate text messages
	client    bool            // the client's side: frames written are masked, frames read must not be

	// The read side. An idle connection holds only these few hundred
	// bytes: in's buffer and msg are pooled and held only while a message
	// is read or used.
	in      reader
	hdr     [ws.MaxHeaderSize - 2]byte
	frame   ws.Header // the data frame being read
	left    int64     // bytes of its payload not read yet
	pos     int       // bytes of its payload read, for unmasking
	text    bool      // the message is text, to be validated
	checked int       // bytes of the message validated as UTF-8
	msg     *buffer   // pooled; the message last read, until the next ReadMessage
	wire    int64     // compressed bytes of the message, as its frames declare
	err     error     // the error that ended reading frames during inflation
	op      ws.OpCode // the opcode of the message being read

	// Reading readiness events (netpoll.go): polling is set, and partial
	// says an uncompressed message waits for its next fragment; inflating
	// says a compressed one is being read, which is read to its end.
	polling   bool
	partial   bool
	inflating bool
}

var (
	_ adapters.Transport     = (*transport)(nil)
	_ adapters.NetConner     = (*transport)(nil)
	_ adapters.UTF8Validator = (*transport)(nil)
	_ adapters.Releaser      = (*transport)(nil)

	_ adapters.PreparedWriter = (*transport)(nil)
)

func newTransport(nc net.Conn, pre []byte, deflate bool, opts *adapters.Options) *transport {
	t := &transport{
		nc:        nc,
		max:       opts.MaxMessageSize,
		deflate:   deflate,
		checkUTF8: !opts.SkipUTF8Validation,
		in:        newReader(nc, pre),
	}
	t.in.init()
	return t
}

// ValidatesUTF8 reports that text messages are validated as they are read
// (unless Options.SkipUTF8Validation is set), so the engine need not.
func (t *transport) ValidatesUTF8() bool { return true }

// NetConn returns the connection.
func (t *transport) NetConn() net.Conn { return t.nc }

// SetWriteDeadline sets the connection's write deadline.
func (t *transport) SetWriteDeadline(d time.Time) error { return t.nc.SetWriteDeadline(d) }

// Close closes the connection; a blocked ReadMessage returns.
func (t *transport) Close() error { return t.nc.Close() }

// Release gives the read side's pooled buffers back once the connection
// has ended.
func (t *transport) Release() {
	t.putMessage()
	t.in.release()
	t.in.pre = nil
}

func (t *transport) putMessage() {
	if t.msg != nil {
		putBuffer(t.msg)
		t.msg = nil
	}
}
