package adapters

import (
	"net/http"
	"net/textproto"
	"strings"

	"github.com/websock-go/websock/websock"
)

// Helpers for adapters whose server is net/http. Adapters on other servers
// build the same values from their own request type.

// NewRequest returns the server-agnostic view of r for an AcceptFunc.
func NewRequest(r *http.Request) *websock.Request {
	u := *r.URL
	return &websock.Request{
		URL:          &u,
		Host:         r.Host,
		Header:       r.Header,
		RemoteAddr:   r.RemoteAddr,
		Subprotocols: ParseSubprotocols(r.Header.Values("Sec-WebSocket-Protocol")),
	}
}

// ParseSubprotocols splits the values of Sec-WebSocket-Protocol headers
// into the subprotocols a client offers, in order.
func ParseSubprotocols(values []string) []string {
	var out []string
	for _, v := range values {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

// CheckUpgrade refuses, with 400 (or 426 for an unsupported protocol
// version), a request that is not a WebSocket upgrade (RFC 6455, section
// 4.2.1). It returns nil for a valid one, before the upgrade hook runs.
func CheckUpgrade(method string, header http.Header) *websock.HTTPError {
	switch {
	case method != http.MethodGet:
		return websock.Refuse(http.StatusMethodNotAllowed, "websocket: the upgrade request must use GET\n")
	case !headerHasToken(header, "Connection", "upgrade"):
		return websock.Refuse(http.StatusBadRequest, "websocket: this endpoint speaks WebSocket only; the request lacks \"Connection: Upgrade\"\n")
	case !headerHasToken(header, "Upgrade", "websocket"):
		return websock.Refuse(http.StatusBadRequest, "websocket: this endpoint speaks WebSocket only; the request lacks \"Upgrade: websocket\"\n")
	case header.Get("Sec-WebSocket-Key") == "":
		return websock.Refuse(http.StatusBadRequest, "websocket: the upgrade request lacks Sec-WebSocket-Key\n")
	case header.Get("Sec-WebSocket-Version") != "13":
		e := websock.Refuse(http.StatusUpgradeRequired, "websocket: unsupported Sec-WebSocket-Version; this server speaks version 13\n")
		e.Header = map[string][]string{"Sec-WebSocket-Version": {"13"}}
		return e
	}
	return nil
}

func headerHasToken(h http.Header, name, token string) bool {
	for _, v := range h[textproto.CanonicalMIMEHeaderKey(name)] {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// OffersCompression reports whether the client offered permessage-deflate.
func OffersCompression(header http.Header) bool {
	for _, v := range header.Values("Sec-WebSocket-Extensions") {
		for _, ext := range strings.Split(v, ",") {
			name, _, _ := strings.Cut(ext, ";")
			if strings.EqualFold(strings.TrimSpace(name), "permessage-deflate") {
				return true
			}
		}
	}
	return false
}

// WriteRefusal answers w with e's headers, status and body.
func WriteRefusal(w http.ResponseWriter, e *websock.HTTPError) {
	for k, vs := range e.Header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(e.Status)
	w.Write([]byte(e.Body))
}

// NewInfo returns the ConnInfo of a connection upgraded from req.
func NewInfo(req *websock.Request, subprotocol string, compressed bool) *websock.ConnInfo {
	return &websock.ConnInfo{
		RemoteAddr:  req.RemoteAddr,
		URL:         req.URL,
		Header:      req.Header,
		Subprotocol: subprotocol,
		Compressed:  compressed,
	}
}
