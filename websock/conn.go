package websock

import (
	"context"
	"net/http"
	"net/url"
)

// Conn is the handle of one live connection, passed to [Handler.Init]. It is
// safe for concurrent use by any number of goroutines, and stays valid after
// the connection ends (Send then returns ErrClosed).
type Conn interface {
	// Send puts msg in the connection's mailbox; the engine passes it to
	// HandleInfo, after every message sent before it. Send never blocks:
	// it returns ErrMailboxFull when the mailbox is full and ErrClosed once
	// the connection is closing or has ended; the message is then dropped.
	Send(msg any) error

	// Info returns what is known of the connection. The engine's
	// connections, unless it has an Observer, keep it compactly once Init
	// has returned and make it again on the first call after that: it is
	// then equal to what it was when Init returned (with any change Init
	// made to it), and the same pointer from one call to the next, but
	// not the pointer Init saw.
	Info() *ConnInfo
}

// ContextConn is a [Conn] that says when its connection has ended. Its
// Context is done once the connection's end is decided: from then on Send
// returns ErrClosed, no callback but Terminate starts, and Terminate
// follows. Code that keeps a Conn outside the handler (a topic's
// subscriber list, a room) can use it to let go, with [context.AfterFunc]
// and no goroutine of its own. The engine's connections implement it; a
// Conn from elsewhere may not, so check with a type assertion.
type ContextConn interface {
	Conn
	Context() context.Context
}

// ConnInfo is what is known of a connection. Adapters copy it out of the
// upgrade request, so it stays valid for the connection's whole life. Do
// not modify it. After Init has returned, a connection may hand out an
// equal copy rather than the ConnInfo Init saw (see [Conn.Info]): a
// change made to it during Init is kept, one made later is not.
type ConnInfo struct {
	RemoteAddr  string      // the peer's address, as host:port
	URL         *url.URL    // the request URL: path and query
	Header      http.Header // the upgrade request's headers
	Subprotocol string      // the negotiated subprotocol, or ""
	Compressed  bool        // permessage-deflate was negotiated
	Adapter     string      // the adapter's name, such as "gorilla"
}
