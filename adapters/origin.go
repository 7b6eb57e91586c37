package adapters

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/websock-go/websock/websock"
)

// checkOrigin applies the origin policy of o to req, as Phoenix's
// check_origin does. It returns nil when the request may proceed.
func checkOrigin(o *Options, req *websock.Request) *websock.HTTPError {
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
		u, err := url.Parse(origin)
		if err == nil && strings.EqualFold(u.Host, req.Host) {
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

// originMatches reports whether origin matches pattern: "*" matches every
// origin; "https://example.com" matches exactly (case-insensitively);
// "https://*.example.com" matches every subdomain of example.com, at any
// depth, but not example.com itself. A pattern without a scheme matches
// any scheme.
func originMatches(pattern, origin string) bool {
	if pattern == "*" {
		return true
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
