package reference

import (
	"bufio"
	"io"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/websock-go/websock/adapters"
	"github.com/websock-go/websock/websock"
)

// handshakeTimeout bounds the whole upgrade: reading the request, the
// AcceptFunc, and writing the answer.
const handshakeTimeout = 10 * time.Second

// headerTimeout bounds reading the upgrade request, as an HTTP server's
// read-header timeout does, and maxHeaderBytes its size, as
// http.DefaultMaxHeaderBytes does: a client that dribbles its headers, or
// sends too many, is refused before anything else runs.
const (
	headerTimeout  = 2 * time.Second
	maxHeaderBytes = 1 << 20
)

// serve reads the upgrade request from nc and hands it to the engine,
// which validates it, runs the AcceptFunc and then calls the handshake's
// Refuse or Upgrade. An upgraded connection runs on this goroutine until
// it ends.
func (h *Handler) serve(nc net.Conn) {
	upgraded := false // a push-style connection runs on after serve returns
	defer func() {
		if !upgraded {
			nc.Close()
		}
	}()
	start := time.Now()
	nc.SetDeadline(start.Add(headerTimeout))
	lr := &io.LimitedReader{R: nc, N: maxHeaderBytes}
	br := bufio.NewReader(lr)
	if isHTTP2(br) {
		lr.N = math.MaxInt64
		h.serveHTTP2(nc, br)
		return
	}
	req, err := http.ReadRequest(br)
	if err != nil {
		if lr.N == 0 {
			writeResponse(nc, http.StatusRequestHeaderFieldsTooLarge, nil, "request headers over 1 MiB\n")
			return
		}
		writeResponse(nc, http.StatusBadRequest, nil, "malformed HTTP request\n")
		return
	}
	lr.N = math.MaxInt64 // the headers are read: frames follow, unbounded
	nc.SetDeadline(start.Add(handshakeTimeout))
	hs := &handshake{h: h, nc: nc, br: br, req: req}
	h.e.Serve(hs)
	upgraded = hs.pushed
}

// handshake is the adapters.Handshake of one upgrade request.
type handshake struct {
	h   *Handler
	nc  net.Conn
	br  *bufio.Reader // reads nc; it may hold the first frames already
	req *http.Request

	pushed bool // upgraded to a push-style connection, which closes nc itself
}

func (hs *handshake) Method() string { return hs.req.Method }

// Request is the server-agnostic view of the request. Its raw value is
// the *http.Request that http.ReadRequest made.
func (hs *handshake) Request() *websock.Request {
	r := websock.NewRequest(hs.req.Context(), hs.req)
	r.URL = hs.req.URL
	r.Host = hs.req.Host
	r.Header = hs.req.Header
	r.RemoteAddr = hs.nc.RemoteAddr().String()
	r.Subprotocols = adapters.ParseSubprotocols(hs.req.Header.Values("Sec-WebSocket-Protocol"))
	return r
}

// Refuse answers with the refusal's status, headers and body, and the
// connection is closed.
func (hs *handshake) Refuse(e *websock.HTTPError) {
	writeResponse(hs.nc, e.Status, e.Header, e.Body)
}

// Upgrade answers 101 (RFC 6455 section 4.2.2), then runs the connection.
func (hs *handshake) Upgrade(u adapters.Upgrade, serve func(adapters.Upgraded)) error {
	var b strings.Builder
	b.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n")
	b.WriteString("Sec-WebSocket-Accept: " + adapters.AcceptKey(hs.req.Header.Get("Sec-WebSocket-Key")) + "\r\n")
	if u.Subprotocol != "" {
		b.WriteString("Sec-WebSocket-Protocol: " + u.Subprotocol + "\r\n")
	}
	var d deflate
	if u.Compression {
		d = negotiateDeflate(hs.req.Header.Values("Sec-WebSocket-Extensions"))
		if d.on {
			b.WriteString("Sec-WebSocket-Extensions: " + d.response + "\r\n")
		}
	}
	b.WriteString("\r\n")
	if _, err := io.WriteString(hs.nc, b.String()); err != nil {
		return err // the engine calls the Handler's Abandon
	}
	hs.nc.SetDeadline(time.Time{})
	t := newTransport(hs.nc, hs.br, hs.h.e.Options(), d, hs.h.faults)
	if hs.h.push {
		hs.pushed = true
		serve(adapters.Upgraded{Transport: newPushed(t, hs.br, hs.h.e.Options(), d), Compressed: d.on})
		return nil
	}
	serve(adapters.Upgraded{Transport: t.wrapped(), Compressed: d.on})
	return nil
}

// writeResponse writes an HTTP response that refuses the upgrade.
func writeResponse(w io.Writer, status int, header http.Header, body string) {
	var b strings.Builder
	b.WriteString("HTTP/1.1 " + strconv.Itoa(status) + " " + http.StatusText(status) + "\r\n")
	header.Write(&b)
	b.WriteString("Content-Type: text/plain; charset=utf-8\r\nX-Content-Type-Options: nosniff\r\n")
	b.WriteString("Connection: close\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n")
	b.WriteString(body)
	io.WriteString(w, b.String())
}

// deflate is what was agreed about permessage-deflate (RFC 7692).
type deflate struct {
	on       bool
	response string // the Sec-WebSocket-Extensions answer
	// takeover: the client compresses each message with the ones before
	// it as context, so the server inflates each with the last 32 KiB of
	// the ones before as its dictionary.
	takeover bool
}

// negotiateDeflate accepts the first valid permessage-deflate offer
// (RFC 7692 section 7.1). The server never compresses what it writes
// (RFC 7692 allows it), so it can promise server_no_context_takeover, and
// honour any server_max_window_bits by echoing it; client_max_window_bits
// is a hint about what the server may ask, which it does not use. An
// offer with an unknown or repeated parameter, or a value where none or
// another is allowed, is declined.
func negotiateDeflate(offers []string) deflate {
	for _, v := range offers {
		for _, ext := range strings.Split(v, ",") {
			if d, ok := deflateOffer(strings.Split(ext, ";")); ok {
				return d
			}
		}
	}
	return deflate{}
}

// deflateOffer answers one offer, split at its semicolons.
func deflateOffer(params []string) (deflate, bool) {
	if !strings.EqualFold(strings.TrimSpace(params[0]), "permessage-deflate") {
		return deflate{}, false
	}
	d := deflate{on: true, response: "permessage-deflate; server_no_context_takeover", takeover: true}
	seen := map[string]bool{}
	for _, p := range params[1:] {
		name, value, hasValue := strings.Cut(p, "=")
		name, value = strings.ToLower(strings.TrimSpace(name)), strings.TrimSpace(value)
		if unquoted, err := strconv.Unquote(value); err == nil && strings.HasPrefix(value, `"`) {
			value = unquoted
		}
		if seen[name] {
			return deflate{}, false
		}
		seen[name] = true
		switch name {
		case "server_no_context_takeover":
			if hasValue {
				return deflate{}, false
			}
		case "client_no_context_takeover":
			if hasValue {
				return deflate{}, false
			}
			d.takeover = false
			d.response += "; client_no_context_takeover"
		case "server_max_window_bits":
			if !windowBits(value) {
				return deflate{}, false
			}
			d.response += "; server_max_window_bits=" + value
		case "client_max_window_bits":
			if hasValue && !windowBits(value) {
				return deflate{}, false
			}
		default:
			return deflate{}, false
		}
	}
	return d, true
}

// windowBits reports whether v is a window size RFC 7692 allows: 8 to 15,
// in decimal without a leading zero.
func windowBits(v string) bool {
	n, err := strconv.Atoi(v)
	return err == nil && n >= 8 && n <= 15 && v == strconv.Itoa(n)
}
