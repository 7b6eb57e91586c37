package websock

import (
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

	// Info returns what is known of the connection.
	Info() *ConnInfo
}

// ConnInfo is what is known of a connection. Adapters copy it out of the
// upgrade request, so it stays valid for the connection's whole life. Do
// not modify it.
type ConnInfo struct {
	RemoteAddr  string      // the peer's address, as host:port
	URL         *url.URL    // the request URL: path and query
	Header      http.Header // the upgrade request's headers
	Subprotocol string      // the negotiated subprotocol, or ""
	Compressed  bool        // permessage-deflate was negotiated
	Adapter     string      // the adapter's name, such as "gorilla"
}
