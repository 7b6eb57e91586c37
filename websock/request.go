package websock

import (
	"net/http"
	"net/url"
)

// Request is a server-agnostic view of a WebSocket upgrade request, built by
// each adapter from its own server's request type.
type Request struct {
	URL          *url.URL    // path and query
	Host         string      // the Host header
	Header       http.Header // all request headers
	RemoteAddr   string      // the peer's address, as host:port
	Subprotocols []string    // from Sec-WebSocket-Protocol, in the client's order
}

// AcceptFunc decides whether to accept an upgrade request, as Phoenix's
// connect/1 does. It returns the connection's Handler to accept it, or an
// error to refuse it: an [*HTTPError] (see [Refuse]) is answered with its
// status, headers and body; any other error with 500 and a generic body,
// so that internal details do not leak to clients.
//
// The same AcceptFunc value works on every adapter. It runs on the
// request's goroutine before the upgrade and may be called concurrently
// for different requests.
type AcceptFunc func(r *Request) (Handler, error)
