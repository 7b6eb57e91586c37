package adapters

import (
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/textproto"
	"strings"

	"github.com/websock-go/websock/adapters/internal/peerlog"
	"github.com/websock-go/websock/adapters/internal/pmdeflate"
	"github.com/websock-go/websock/websock"
)

// Handshake is the HTTP side of one upgrade, as an adapter's server sees
// it. The engine drives it (see [Engine.Serve]): it reads the request,
// validates it, runs the AcceptFunc, and then either refuses the request or
// upgrades it, exactly once. Adapters on net/http need not implement it:
// [Engine.ServeHTTP] does, around the library's upgrade call.
type Handshake interface {
	// Method returns the request method.
	Method() string

	// Request returns the server-agnostic view of the request, made with
	// websock.NewRequest. The engine calls it once.
	Request() *websock.Request

	// Refuse answers the request with e's status, headers and body
	// instead of upgrading.
	Refuse(e *websock.HTTPError)

	// Upgrade answers the request with 101 Switching Protocols (200 for an
	// extended CONNECT over HTTP/2, RFC 8441), with the subprotocol and
	// compression of u, and then calls serve with the
	// connection, on the goroutine that is to run it: serve returns when
	// the connection has ended, or, for an [EventTransport], once it runs
	// on its readiness events (so a server that closes the connection
	// when serve returns must not hand over an EventTransport). Upgrade
	// may return before serve is called
	// (a server that runs upgraded connections after the request handler
	// returns) or after it returned. When the upgrade fails, Upgrade
	// answers the request if it still can and returns the error, and serve
	// is never called.
	Upgrade(u Upgrade, serve func(Upgraded)) error
}

// Upgrade is what the engine decided about a connection, for the library
// to answer the handshake with.
type Upgrade struct {
	// Subprotocol is the subprotocol to answer with, chosen from those the
	// client offered; "" means none.
	Subprotocol string

	// Compression: the client offered permessage-deflate and the server
	// allows it; negotiate it if the library can serve the offer. Agree
	// only to parameters the library honours (RFC 7692 section 7.1):
	// decline an offer with an unknown, repeated or malformed parameter;
	// answer server_max_window_bits with the same value or a smaller one,
	// or decline the offer when the library cannot compress with that
	// window; and answer server_no_context_takeover only if the library
	// resets its compressor for every message. An adapter that writes
	// uncompressed and inflates each message on its own answers with
	// [DeflateResponse].
	Compression bool
}

// Upgraded is the connection a library has upgraded.
type Upgraded struct {
	Transport  Writer // a Transport, an EventTransport or a PushTransport
	Compressed bool   // permessage-deflate was negotiated
	Status     int    // the status the request was answered with; 0 means 101
}

// HTTPUpgradeFunc upgrades a net/http request with a library: it answers
// with 101 and u's subprotocol and compression, and returns the
// connection. On failure it answers the request if it still can (the
// library usually does) and returns the error.
type HTTPUpgradeFunc func(w http.ResponseWriter, r *http.Request, u Upgrade) (Upgraded, error)

// ServeHTTP runs the whole upgrade of a net/http request with up, the
// library's upgrade call, and returns once it is done: the connection then
// runs on a goroutine of its own until it ends, so that the request's
// goroutine and buffers are freed. [Engine.Shutdown] waits for it.
func (e *Engine) ServeHTTP(w http.ResponseWriter, r *http.Request, up HTTPUpgradeFunc) {
	e.Serve(&httpHandshake{w: w, r: r, up: up, detach: true})
}

// httpHandshake is the Handshake of a net/http request.
type httpHandshake struct {
	w      http.ResponseWriter
	r      *http.Request
	up     HTTPUpgradeFunc
	stream StreamUpgradeFunc // nil when the library cannot run over an HTTP/2 stream
	detach bool              // a WebSocket upgrade: Read may run apart from Init (see Engine.run)
}

func (h *httpHandshake) Method() string { return h.r.Method }

func (h *httpHandshake) Request() *websock.Request {
	u := *h.r.URL
	req := websock.NewRequest(h.r.Context(), h.r)
	req.URL = &u
	req.Host = h.r.Host
	req.Header = h.r.Header
	req.RemoteAddr = h.r.RemoteAddr
	req.Subprotocols = ParseSubprotocols(h.r.Header.Values("Sec-WebSocket-Protocol"))
	return req
}

func (h *httpHandshake) Refuse(e *websock.HTTPError) {
	hdr := h.w.Header()
	for k, vs := range e.Header {
		for _, v := range vs {
			hdr.Add(k, v)
		}
	}
	hdr.Set("Content-Type", "text/plain; charset=utf-8")
	hdr.Set("X-Content-Type-Options", "nosniff")
	h.w.WriteHeader(e.Status)
	h.w.Write([]byte(e.Body))
}

func (h *httpHandshake) Upgrade(u Upgrade, serve func(Upgraded)) error {
	if h.r.Method == http.MethodConnect {
		return h.upgradeStream(u, serve)
	}
	up, err := h.up(h.w, h.r, u)
	if err != nil {
		return err
	}
	go serve(up)
	return nil
}

// Serve runs the whole upgrade of one request through hs: it validates
// the handshake (RFC 6455, section 4.2.1) before any user code runs,
// refuses new connections while shutting down, applies the origin policy
// and the subprotocol options, runs the AcceptFunc, upgrades, and then
// runs the connection until it ends. The limits of Options.MaxConnections
// and Options.UpgradeRate apply before the origin policy and the
// AcceptFunc. An adapter whose server is not
// net/http calls it from its request handler with a Handshake of its own.
//
// A CONNECT request whose :protocol pseudo-header is websocket asks for a
// WebSocket over an HTTP/2 stream (RFC 8441): it is validated as section
// 5 of that RFC says (no Upgrade, Connection or Sec-WebSocket-Key), and
// refused with 501 when the adapter declares Lacks.HTTP2.
func (e *Engine) Serve(hs Handshake) {
	method := hs.Method()
	stream := method == http.MethodConnect
	if he := checkMethod(method); he != nil && !stream {
		e.refuse(hs, nil, RefusedHandshake, he, nil)
		return
	}
	req := hs.Request()
	check := checkHandshake
	if stream {
		check = e.checkStream
	}
	if he := check(req.Header); he != nil {
		e.refuse(hs, req, RefusedHandshake, he, nil)
		return
	}
	e.open(hs, req)
}

// open runs the rest of the upgrade of req, whose request was checked:
// limits, origin, AcceptFunc, upgrade, and the connection.
func (e *Engine) open(hs Handshake, req *websock.Request) {
	if he, why := e.admit(); he != nil {
		e.refuse(hs, req, why, he, nil)
		return
	}
	h, no := e.accept(req)
	if no != nil {
		e.admitted()
		e.refuse(hs, req, no.why, no.he, no.err)
		return
	}
	res := e.reserve()
	if res == nil {
		e.refuse(hs, req, RefusedShutdown, refuseShutdown(), nil)
		abandon(h, websock.ErrShutdown)
		return
	}
	u := Upgrade{
		Subprotocol: e.chooseSubprotocol(req.Subprotocols),
		Compression: e.opts.Compression && offersCompression(req.Header),
	}
	err := hs.Upgrade(u, func(up Upgraded) {
		info := &websock.ConnInfo{
			RemoteAddr:  req.RemoteAddr,
			URL:         req.URL,
			Header:      req.Header,
			Subprotocol: u.Subprotocol,
			Compressed:  up.Compressed,
		}
		if e.obs != nil {
			status := up.Status
			switch {
			case status != 0:
			case hs.Method() == http.MethodConnect:
				status = http.StatusOK // RFC 8441 section 5
			default:
				status = http.StatusSwitchingProtocols
			}
			e.obs.Upgrade(UpgradeEvent{Adapter: e.ad.Name, Outcome: UpgradeAccepted, Status: status, Request: req})
		}
		var done func(websock.Reason)
		var ended chan struct{}
		if hs.Method() == http.MethodConnect && runsOnEvents(up.Transport) {
			// The stream ends when the request's handler returns: it
			// waits for the connection's end.
			ended = make(chan struct{})
			done = func(websock.Reason) { close(ended) }
		}
		// ServeHTTP runs this on a goroutine of its own, which may return
		// at any time: a Transport's Read then runs on a fresh goroutine
		// once Init has returned, as a library's own server would start
		// it, so that an idle connection's stack holds the read loop only.
		hh, detach := hs.(*httpHandshake)
		detach = detach && hh.detach && hs.Method() != http.MethodConnect
		if _, started := e.run(up.Transport, h, info, res, done, detach); started && ended != nil {
			<-ended
		}
	})
	if err != nil {
		res.cancel()
		err = fmt.Errorf("websock: upgrade failed: %w", err)
		if e.obs != nil {
			e.obs.Upgrade(UpgradeEvent{Adapter: e.ad.Name, Outcome: UpgradeFailed, Request: req, Err: err})
		}
		abandon(h, err)
	}
}

// abandon tells h, if it wants to know, that it will never start.
func abandon(h websock.Handler, err error) {
	if a, ok := h.(websock.Abandoner); ok {
		defer func() { recover() }() // like a panic in Terminate: dropped
		a.Abandon(err)
	}
}

func refuseShutdown() *websock.HTTPError {
	he := websock.Refuse(http.StatusServiceUnavailable, "websocket: the server is shutting down; reconnect later\n")
	he.Header = http.Header{"Retry-After": {"5"}}
	return he
}

// accept applies the origin policy and the subprotocol options to req and
// runs the AcceptFunc. It returns the Handler to run, or the refusal to
// answer with: 503 while shutting down, 403 when the origin policy refuses
// the request, 400 when a required subprotocol is missing, the hook's own
// refusal, or 500 when the hook failed, panicked or returned no Handler.
func (e *Engine) accept(req *websock.Request) (websock.Handler, *refusal) {
	e.mu.Lock()
	closing := e.shutdown
	e.mu.Unlock()
	if closing {
		return nil, &refusal{why: RefusedShutdown, he: refuseShutdown()}
	}
	if he := checkOrigin(&e.opts, req); he != nil {
		return nil, &refusal{why: RefusedOrigin, he: he}
	}
	if e.opts.RequireSubprotocol && e.chooseSubprotocol(req.Subprotocols) == "" {
		return nil, &refusal{why: RefusedSubprotocol, he: websock.Refuse(http.StatusBadRequest, fmt.Sprintf(
			"websocket: none of the offered subprotocols %q is spoken here; offer one of %q in Sec-WebSocket-Protocol\n",
			req.Subprotocols, e.opts.Subprotocols))}
	}
	h, err := callAccept(req, e.acceptFunc)
	if err != nil {
		var he *websock.HTTPError
		if errors.As(err, &he) {
			return nil, &refusal{why: RefusedAcceptFunc, he: he}
		}
		if !e.observerLogs {
			e.opts.Logger.Error("websock: the AcceptFunc failed; the client got 500", "adapter", e.ad.Name, "url", peerlog.Bound(req.URL.String(), peerlog.MaxLine), "err", err)
		}
		return nil, &refusal{why: AcceptFuncFailed, he: websock.Refuse(http.StatusInternalServerError, "websocket upgrade failed\n"), err: err}
	}
	if h == nil {
		if !e.observerLogs {
			e.opts.Logger.Error("websock: the AcceptFunc returned neither a Handler nor an error; the client got 500", "adapter", e.ad.Name, "url", peerlog.Bound(req.URL.String(), peerlog.MaxLine))
		}
		return nil, &refusal{why: AcceptFuncFailed, he: websock.Refuse(http.StatusInternalServerError, "websocket upgrade failed\n"), err: errNoHandler}
	}
	return h, nil
}

func callAccept(req *websock.Request, accept websock.AcceptFunc) (h websock.Handler, err error) {
	defer func() {
		if v := recover(); v != nil {
			h, err = nil, fmt.Errorf("the AcceptFunc panicked: %v", v)
		}
	}()
	if accept == nil {
		return nil, errors.New("no AcceptFunc given to the adapter")
	}
	return accept(req)
}

// chooseSubprotocol returns the first of the server's subprotocols (from
// Options.Subprotocols, in preference order) that the client offered, or
// "".
func (e *Engine) chooseSubprotocol(offered []string) string {
	for _, s := range e.opts.Subprotocols {
		for _, o := range offered {
			if o == s {
				return s
			}
		}
	}
	return ""
}

// checkMethod refuses, with 405, an upgrade request that is not a GET.
func checkMethod(method string) *websock.HTTPError {
	if method != http.MethodGet {
		he := websock.Refuse(http.StatusMethodNotAllowed, "websocket: the upgrade request must use GET\n")
		he.Header = http.Header{"Allow": {http.MethodGet}}
		return he
	}
	return nil
}

// checkHandshake refuses, with 400 (or 426 for an unsupported protocol
// version), a request that is not a valid WebSocket upgrade (RFC 6455,
// section 4.2.1).
func checkHandshake(header http.Header) *websock.HTTPError {
	switch {
	case !headerHasToken(header, "Connection", "upgrade"):
		return websock.Refuse(http.StatusBadRequest, "websocket: this endpoint speaks WebSocket only; the request lacks \"Connection: Upgrade\"\n")
	case !headerHasToken(header, "Upgrade", "websocket"):
		return websock.Refuse(http.StatusBadRequest, "websocket: this endpoint speaks WebSocket only; the request lacks \"Upgrade: websocket\"\n")
	}
	if he := checkVersion(header); he != nil {
		return he
	}
	if !validKey(header.Values("Sec-WebSocket-Key")) {
		return websock.Refuse(http.StatusBadRequest, "websocket: Sec-WebSocket-Key must be one value, 16 bytes in base64 (RFC 6455, section 4.1)\n")
	}
	return nil
}

// checkVersion refuses, with 426 and the version spoken, a request for a
// WebSocket version other than 13 (RFC 6455, section 4.4).
func checkVersion(header http.Header) *websock.HTTPError {
	if header.Get("Sec-WebSocket-Version") != "13" {
		e := websock.Refuse(http.StatusUpgradeRequired, "websocket: unsupported Sec-WebSocket-Version; this server speaks version 13\n")
		e.Header = http.Header{"Sec-Websocket-Version": {"13"}}
		return e
	}
	return nil
}

// validKey reports whether values hold one Sec-WebSocket-Key that is 16
// bytes in base64.
func validKey(values []string) bool {
	if len(values) != 1 || len(values[0]) != 24 {
		return false
	}
	var b [18]byte
	n, err := base64.StdEncoding.Decode(b[:], []byte(values[0]))
	return err == nil && n == 16
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

// offersCompression reports whether the client offered permessage-deflate.
func offersCompression(header http.Header) bool {
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

// ParseSubprotocols splits the values of Sec-WebSocket-Protocol headers
// into the subprotocols a client offers, in order. Adapters whose server
// is not net/http use it to fill websock.Request.Subprotocols.
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

// AcceptKey returns the Sec-WebSocket-Accept value that answers the
// Sec-WebSocket-Key key (RFC 6455 section 4.2.2): an adapter that writes
// the 101 response itself needs it. The engine has checked the key before
// any Upgrade runs.
func AcceptKey(key string) string {
	sum := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// DeflateResponse returns the Sec-WebSocket-Extensions answer of a server
// that inflates each message the client sends on its own and compresses
// nothing it writes (RFC 7692 allows both), to the offers in header: the
// first valid permessage-deflate offer, accepted with no context
// takeover either way and with the server_max_window_bits it asks for
// (which a server that writes uncompressed honours at any size). ok is
// false when no offer is valid: the connection is then uncompressed.
func DeflateResponse(header http.Header) (response string, ok bool) {
	offers, _ := pmdeflate.Parse(header)
	o := pmdeflate.FirstValid(offers)
	if o == nil {
		return "", false
	}
	return o.Response(), true
}
