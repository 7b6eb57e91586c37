package adapters

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/websock-go/websock/websock"
)

// checkOrigin applies the origin policy of o to req, as Phoenix's
// check_origin does. It returns nil when the request may proceed.
//
// A request with more than one Origin header is refused outright, whatever
// the policy: a browser sends exactly one (RFC 6454 section 7.3), so a
// second one comes from a client that is not a browser or from a proxy
// that added its own, and checking only one of them would let the other
// through unchecked. Refusing is also what keeps a CheckOrigin that reads
// Header.Get("Origin") sound.
func checkOrigin(o *Options, req *websock.Request) *websock.HTTPError {
	if vs := req.Header.Values("Origin"); len(vs) > 1 {
		return websock.Refuse(http.StatusForbidden, fmt.Sprintf("websocket: the request has %d Origin headers; a browser sends one, "+
			"so a request with several is refused whatever they say\n", len(vs)))
	}
	origin := req.Header.Get("Origin")
	if o.CheckOrigin != nil {
		if o.CheckOrigin(req) {
			return nil
		}
		return websock.Refuse(http.StatusForbidden, "websocket: origin "+quoteOrigin(origin)+" is not allowed by this server's CheckOrigin\n")
	}
	if origin == "" {
		return nil // not a browser: the Origin header is a browser's promise
	}
	if len(o.AllowedOrigins) == 0 {
		if sameOrigin(origin, req) {
			return nil
		}
		return websock.Refuse(http.StatusForbidden, "websocket: cross-origin request from "+quoteOrigin(origin)+
			" refused; only same-origin requests are allowed unless AllowedOrigins lists the origin\n")
	}
	for _, pattern := range o.AllowedOrigins {
		if originMatches(pattern, origin) {
			return nil
		}
	}
	return websock.Refuse(http.StatusForbidden, "websocket: origin "+quoteOrigin(origin)+" is not in this server's AllowedOrigins\n")
}

// sameOrigin reports whether origin, the Origin header of req, is the
// origin of the page req's server serves, by the rule of
// Options.AllowedOrigins: its host and port are those of the Host header,
// compared case-insensitively (hosts are, RFC 3986 section 3.2.2), and
// its scheme is https, or http when req did not come over TLS. An http
// page may not reach a TLS endpoint of the same host; an https page may
// reach a plain one, as it does through a proxy that ends TLS. "null" (a
// sandboxed page, a file, a redirect across origins) is no origin: it is
// never the same.
func sameOrigin(origin string, req *websock.Request) bool {
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" || !strings.EqualFold(u.Host, req.Host) {
		return false
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
		return true
	case "http":
		return !overTLS(req)
	}
	return false
}

// overTLS reports whether req came over TLS, when its server tells: a
// net/http request with its TLS state, or a server request with an
// IsTLS method (fasthttp's).
func overTLS(req *websock.Request) bool {
	if hr := req.HTTPRequest(); hr != nil {
		return hr.TLS != nil
	}
	if r, ok := req.Raw().(interface{ IsTLS() bool }); ok {
		return r.IsTLS()
	}
	return false
}

func quoteOrigin(s string) string {
	if len(s) > 200 {
		s = s[:200]
	}
	return "\"" + strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '?'
		}
		return r
	}, s) + "\""
}

// MatchOrigin reports whether origin, the value of an Origin header,
// matches pattern by the rule of Options.AllowedOrigins, for a CheckOrigin
// that admits listed origins besides origins of its own.
func MatchOrigin(pattern, origin string) bool { return originMatches(pattern, origin) }

// originMatches reports whether origin matches pattern: "*" matches every
// origin; "https://example.com" matches exactly (case-insensitively);
// "https://*.example.com" matches every subdomain of example.com, at any
// depth, but not example.com itself. A pattern without a scheme matches
// any scheme. The origin "null" matches "*" and "null" only.
func originMatches(pattern, origin string) bool {
	if pattern == "*" {
		return true
	}
	if strings.EqualFold(origin, "null") || strings.EqualFold(pattern, "null") {
		return strings.EqualFold(origin, pattern) // "null" only when listed as such
	}
	pattern, origin = strings.ToLower(pattern), strings.ToLower(origin)
	pScheme, pHost, ok := strings.Cut(pattern, "://")
	if !ok {
		pScheme, pHost = "", pattern
	}
	oScheme, oHost, ok := strings.Cut(origin, "://")
	if !ok {
		return false
	}
	if pScheme != "" && pScheme != oScheme {
		return false
	}
	if rest, ok := strings.CutPrefix(pHost, "*."); ok {
		return strings.HasSuffix(oHost, "."+rest)
	}
	return pHost == oHost
}
