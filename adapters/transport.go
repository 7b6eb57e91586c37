package adapters

import (
	"net"
	"time"

	"github.com/websock-go/websock/websock"
)

// Transport is what an adapter implements over its library's connection.
// The engine calls it from the connection's goroutines but never calls the
// write methods concurrently with each other, and never calls ReadMessage
// concurrently with itself. Once [Conn.Serve] has returned, the engine
// calls no method of the Transport again, so the adapter may release or
// recycle the connection.
type Transport interface {
	// ReadMessage blocks until the next complete text or binary message
	// and returns its opcode and payload, which stay valid until the next
	// call. Fragments are reassembled. Control frames that arrive meanwhile
	// are reported to the engine through [Conn.Ping] or [Conn.Control]
	// before ReadMessage goes on.
	//
	// Errors: when the peer sends a close frame, an error wrapping a
	// *websock.CloseError; for bad input, an error wrapping
	// websock.ErrProtocol, websock.ErrInvalidUTF8 or
	// websock.ErrMessageTooBig; anything else is taken to mean the
	// connection was lost.
	ReadMessage() (websock.Opcode, []byte, error)

	// WriteFrame writes one complete text, binary, ping or pong frame.
	WriteFrame(op websock.Opcode, data []byte) error

	// WriteClose writes a close frame with code and text, or with an empty
	// payload when code is websock.CloseNoStatus. It must not wait for the
	// peer's answer, and should do nothing if the library already sent a
	// close frame itself.
	WriteClose(code websock.CloseCode, text string) error

	// SetWriteDeadline sets the deadline of the writes that follow.
	SetWriteDeadline(t time.Time) error

	// Close closes the connection at once. It may be called concurrently
	// with ReadMessage, which must then return, and more than once.
	Close() error
}

// NetConner is implemented by a Transport that can hand out its
// underlying network connection. When a connection fails because of bad
// input, the engine then closes it gracefully: it half-closes the TCP
// connection and discards what the peer still sends for up to the close
// timeout, so that the peer reads the close frame instead of a reset.
type NetConner interface {
	NetConn() net.Conn
}

// UTF8Validator is implemented by a Transport whose library validates text
// messages itself; ValidatesUTF8 returning true stops the engine from
// checking again.
type UTF8Validator interface {
	ValidatesUTF8() bool
}
