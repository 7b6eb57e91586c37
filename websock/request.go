package websock

import (
	"context"
	"net/http"
	"net/url"
)

// Request is a server-agnostic view of a WebSocket upgrade request, built by
// each adapter from its own server's request type. Make one with
// [NewRequest]; the engine validates the handshake before any AcceptFunc
// sees it.
type Request struct {
	URL          *url.URL    // path and query
	Host         string      // the Host header
	Header       http.Header // all request headers
	RemoteAddr   string      // the peer's address, as host:port
	Subprotocols []string    // from Sec-WebSocket-Protocol, in the client's order

	ctx context.Context
	raw any
}

// NewRequest returns a Request carrying ctx, the request's context, and
// raw, the server's own request value (an *http.Request on net/http
// servers); the adapter fills in the exported fields. A nil ctx means
// context.Background().
func NewRequest(ctx context.Context, raw any) *Request {
	if ctx == nil {
		ctx = context.Background()
	}
	return &Request{ctx: ctx, raw: raw}
}

// Context returns the request's context: the values HTTP middleware put
// there (an authenticated user, a request ID) and its deadline. It is
// never nil. It belongs to the HTTP request, not to the connection: the
// server may cancel it once the upgrade is done, so a Handler must not
// keep it for the connection's life.
func (r *Request) Context() context.Context {
	if r.ctx == nil {
		return context.Background()
	}
	return r.ctx
}

// HTTPRequest returns the original *http.Request on adapters whose server
// is net/http (its TLS state, cookies, form values), or nil on other
// servers: those adapters offer a typed accessor of their own, such as
// the fasthttp adapter's RequestCtx. It is valid only while the
// AcceptFunc runs.
func (r *Request) HTTPRequest() *http.Request {
	hr, _ := r.raw.(*http.Request)
	return hr
}

// Raw returns the server's own request value as the adapter gave it to
// [NewRequest], or nil. Prefer [Request.HTTPRequest] or the adapter's typed
// accessor.
func (r *Request) Raw() any { return r.raw }

// AcceptFunc decides whether to accept an upgrade request, as Phoenix's
// connect/1 does. It returns the connection's Handler to accept it, or an
// error to refuse it: an [*HTTPError] (see [Refuse]) is answered with its
// status, headers and body; any other error with 500 and a generic body,
// so that internal details do not leak to clients.
//
// The same AcceptFunc value works on every adapter. It runs on the
// request's goroutine before the upgrade, after the engine has checked the
// handshake, the origin and the subprotocol, and may be called
// concurrently for different requests.
//
// A Handler it returns may still never start: the upgrade can fail, or
// the server can begin shutting down, after it returned. Init and
// Terminate then never run; see [Abandoner] to release what the
// AcceptFunc reserved.
type AcceptFunc func(r *Request) (Handler, error)
