package adapters

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha1"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/websock-go/websock/adapters/internal/pmdeflate"
	"github.com/websock-go/websock/websock"
)

// DialOptions configures a client ([Dial]). Every adapter's Dial takes
// the same DialOptions and applies them the same way; nil means all
// defaults, and Dial never modifies the value it is given.
//
// The embedded Options set the limits of each connection as on the
// server: MaxMessageSize, IdleTimeout, WriteTimeout, CloseTimeout,
// MailboxSize, PingInterval, PongTimeout, SkipUTF8Validation and Logger
// mean what they mean there, with the same defaults. On a client,
// Subprotocols are offered to the server in order of preference, and
// Compression offers permessage-deflate; AllowedOrigins, CheckOrigin and
// RequireSubprotocol do not apply.
type DialOptions struct {
	Options

	// Header holds extra headers for the opening handshake, such as
	// Authorization, Origin or Cookie. The WebSocket headers
	// (Sec-WebSocket-*, Upgrade, Connection) are the engine's and may not
	// be set here. Default none.
	Header http.Header

	// TLSConfig configures TLS for wss:// URLs. Default: a zero
	// tls.Config, with the server name taken from the URL.
	TLSConfig *tls.Config

	// DialTimeout bounds each dial: TCP connect, TLS and the opening
	// handshake. Default 30 s; a negative value means no limit beyond the
	// context given to Dial.
	DialTimeout time.Duration

	// RetryInitialDial passes a failure of the very first dial to the
	// handler's HandleDisconnect (see websock.Reconnector), as WebSockex's
	// handle_initial_conn_failure, instead of returning it from Dial.
	// Dial then returns once a connection is made or the handler stops.
	// Default false: Dial returns the first dial's error.
	RetryInitialDial bool
}

// DefaultDialTimeout is the default of DialOptions.DialTimeout.
const DefaultDialTimeout = 30 * time.Second

// deflateOffer is the permessage-deflate offer every client sends: without
// context takeover in either direction, which every library can compress
// and decompress, so that any answer RFC 7692 allows for it can be used.
const deflateOffer = "permessage-deflate; server_no_context_takeover; client_no_context_takeover"

// HandshakeError is the error of a dial whose server answered the opening
// handshake wrongly; it matches websock.ErrBadHandshake with errors.Is.
type HandshakeError struct {
	URL     string      // the URL dialed
	Status  int         // the status the server answered with
	Header  http.Header // the response headers
	Body    string      // the start of the response body, for a status other than 101
	Problem string      // what was wrong
}

func (e *HandshakeError) Error() string {
	s := fmt.Sprintf("websock: dial %s: bad opening handshake (HTTP %d): %s", e.URL, e.Status, e.Problem)
	if e.Body != "" {
		s += fmt.Sprintf("; body %q", e.Body)
	}
	return s + "; check that the URL is a WebSocket endpoint and that it accepts what the client offers"
}

// Is makes errors.Is(err, websock.ErrBadHandshake) hold.
func (e *HandshakeError) Is(target error) bool { return target == websock.ErrBadHandshake }

// Dialed is a client connection whose opening handshake the engine has
// done and validated, for an adapter to turn into its library's client
// connection (see [NewClientTransport]).
type Dialed struct {
	// Conn is the connection, TLS included for wss://, whose reads begin
	// with the first byte the server sent after its handshake response.
	Conn net.Conn

	URL         *url.URL // the URL dialed
	Subprotocol string   // the subprotocol the server chose, or ""
	Compressed  bool     // permessage-deflate without context takeover was negotiated
	Options     Options  // the options in force, defaults filled in
}

// Replay returns a net.Conn over d.Conn for a library that insists on
// doing the opening handshake itself: it takes the request the library
// writes, and answers it with a 101 response made for the library's key,
// with the subprotocol and extension the engine negotiated (for
// permessage-deflate, no context takeover either way, which a client may
// always use). What follows passes through. The library must offer the
// same subprotocol and compression.
func (d *Dialed) Replay() net.Conn {
	return &replayConn{Conn: d.Conn, d: d, ready: make(chan struct{}), closed: make(chan struct{})}
}

// NewClientTransport turns a dialed connection into the Transport of a
// client connection (frames masked), with the library of an adapter.
type NewClientTransport func(ctx context.Context, d *Dialed) (Transport, error)

// handshakeRequest is one opening handshake the engine sends.
type handshakeRequest struct {
	url       *url.URL
	key       string
	header    http.Header
	protocols []string
	compress  bool
}

// reservedHeaders may not be set through DialOptions.Header.
var reservedHeaders = []string{"Upgrade", "Connection", "Sec-Websocket-Key", "Sec-Websocket-Version",
	"Sec-Websocket-Extensions", "Sec-Websocket-Protocol", "Sec-Websocket-Accept"}

// ErrBadURL is matched (errors.Is) by the error of a Dial whose URL is not
// a WebSocket URL: one that does not parse, has no host, or whose scheme is
// not ws or wss. An http or https URL is refused too, rather than taken for
// ws or wss, so that a URL meant for another endpoint is not dialed by
// mistake; the message names the scheme to write instead.
var ErrBadURL = errors.New("websock: bad WebSocket URL")

// parseURL checks a client URL: ws or wss, with a host.
func parseURL(rawURL string) (*url.URL, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadURL, err)
	}
	switch u.Scheme {
	case "ws", "wss":
	case "http", "https":
		want := "ws"
		if u.Scheme == "https" {
			want = "wss"
		}
		return nil, fmt.Errorf("%w: dial %s: scheme %q is an HTTP scheme; a WebSocket URL starts with %s://", ErrBadURL, rawURL, u.Scheme, want)
	default:
		return nil, fmt.Errorf("%w: dial %s: scheme %q is not ws or wss", ErrBadURL, rawURL, u.Scheme)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("%w: dial %s: the URL has no host", ErrBadURL, rawURL)
	}
	return u, nil
}

func checkHeader(h http.Header) error {
	for _, k := range reservedHeaders {
		if _, ok := h[k]; ok {
			return fmt.Errorf("websock: DialOptions.Header sets %s, which the engine sends itself; remove it (use Subprotocols and Compression instead)", k)
		}
	}
	return nil
}

// dialConn opens a connection to u (TLS for wss) and does the opening
// handshake, within ctx.
// handshakeResult is what the server's answer to the opening handshake
// settled.
type handshakeResult struct {
	sub        string
	compressed bool
	header     http.Header
}

func dialConn(ctx context.Context, u *url.URL, header http.Header, o *DialOptions, opts *Options) (net.Conn, handshakeResult, error) {
	var res handshakeResult
	host := u.Host
	if u.Port() == "" {
		if u.Scheme == "wss" {
			host = net.JoinHostPort(u.Hostname(), "443")
		} else {
			host = net.JoinHostPort(u.Hostname(), "80")
		}
	}
	var nd net.Dialer
	nc, err := nd.DialContext(ctx, "tcp", host)
	if err != nil {
		return nil, res, fmt.Errorf("websock: dial %s: %w", u, err)
	}
	// ctx bounds the handshake too: closing the connection ends it.
	stop := context.AfterFunc(ctx, func() { nc.Close() })
	defer stop()
	if u.Scheme == "wss" {
		cfg := &tls.Config{}
		if o.TLSConfig != nil {
			cfg = o.TLSConfig.Clone()
		}
		if cfg.ServerName == "" {
			cfg.ServerName = u.Hostname()
		}
		tc := tls.Client(nc, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			nc.Close()
			return nil, res, fmt.Errorf("websock: dial %s: TLS: %w", u, err)
		}
		nc = tc
	}
	req := &handshakeRequest{url: u, key: newKey(), header: header, protocols: opts.Subprotocols, compress: opts.Compression}
	if _, err := nc.Write(req.bytes()); err != nil {
		nc.Close()
		return nil, res, fmt.Errorf("websock: dial %s: writing the handshake: %w", u, err)
	}
	br := bufio.NewReader(nc)
	resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodGet, URL: u})
	if err != nil {
		nc.Close()
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return nil, res, fmt.Errorf("websock: dial %s: reading the handshake response: %w", u, err)
	}
	sub, compressed, herr := req.check(resp)
	res = handshakeResult{sub: sub, compressed: compressed, header: resp.Header}
	if herr != nil {
		nc.Close()
		return nil, res, herr
	}
	if !stop() {
		nc.Close()
		return nil, res, fmt.Errorf("websock: dial %s: %w", u, ctx.Err())
	}
	if br.Buffered() > 0 {
		nc = &bufferedConn{Conn: nc, r: io.MultiReader(bytes.NewReader(peekAll(br)), nc)}
	}
	return nc, res, nil
}

func peekAll(br *bufio.Reader) []byte {
	b, _ := br.Peek(br.Buffered())
	return append([]byte(nil), b...)
}

// bufferedConn is a net.Conn whose reads begin with bytes read already.
type bufferedConn struct {
	net.Conn
	r io.Reader
}

func (c *bufferedConn) Read(p []byte) (int, error) { return c.r.Read(p) }

func newKey() string {
	var b [16]byte
	rand.Read(b[:])
	return base64.StdEncoding.EncodeToString(b[:])
}

// acceptKey is Sec-WebSocket-Accept for key (RFC 6455 section 4.2.2).
func acceptKey(key string) string {
	h := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	return base64.StdEncoding.EncodeToString(h[:])
}

// bytes returns the request as written on the wire.
func (r *handshakeRequest) bytes() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "GET %s HTTP/1.1\r\nHost: %s\r\n", r.url.RequestURI(), r.url.Host)
	b.WriteString("Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n")
	fmt.Fprintf(&b, "Sec-WebSocket-Key: %s\r\n", r.key)
	if len(r.protocols) > 0 {
		fmt.Fprintf(&b, "Sec-WebSocket-Protocol: %s\r\n", strings.Join(r.protocols, ", "))
	}
	if r.compress {
		fmt.Fprintf(&b, "Sec-WebSocket-Extensions: %s\r\n", deflateOffer)
	}
	r.header.Write(&b)
	b.WriteString("\r\n")
	return b.Bytes()
}

// check validates the server's answer to r (RFC 6455 section 4.1, RFC
// 7692 section 7.1) and returns the subprotocol chosen and whether
// compression was negotiated.
func (r *handshakeRequest) check(resp *http.Response) (sub string, compressed bool, err error) {
	fail := func(format string, args ...any) (string, bool, error) {
		he := &HandshakeError{URL: r.url.String(), Status: resp.StatusCode, Header: resp.Header,
			Problem: fmt.Sprintf(format, args...)}
		if resp.StatusCode != http.StatusSwitchingProtocols && resp.Body != nil {
			b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
			he.Body = string(b)
		}
		return "", false, he
	}
	h := resp.Header
	switch {
	case resp.StatusCode != http.StatusSwitchingProtocols:
		return fail("the server answered %d %s, not 101 Switching Protocols", resp.StatusCode, http.StatusText(resp.StatusCode))
	case !headerHasToken(h, "Upgrade", "websocket"):
		return fail("the response lacks \"Upgrade: websocket\"")
	case !headerHasToken(h, "Connection", "upgrade"):
		return fail("the response lacks \"Connection: Upgrade\"")
	case len(h.Values("Sec-WebSocket-Accept")) != 1 || h.Get("Sec-WebSocket-Accept") != acceptKey(r.key):
		return fail("Sec-WebSocket-Accept %q does not match the key sent (want %q)", h.Values("Sec-WebSocket-Accept"), acceptKey(r.key))
	}
	if ps := ParseSubprotocols(h.Values("Sec-WebSocket-Protocol")); len(ps) > 0 {
		if len(ps) > 1 {
			return fail("the server chose more than one subprotocol, %q", ps)
		}
		if !contains(r.protocols, ps[0]) {
			return fail("the server chose subprotocol %q, which was not offered (offered %q)", ps[0], r.protocols)
		}
		sub = ps[0]
	}
	offers, _ := pmdeflate.Parse(h)
	for i, o := range offers {
		switch {
		case !o.Deflate():
			return fail("the server answered with extension %q, which was not offered", o.Name)
		case !r.compress:
			return fail("the server answered with permessage-deflate, which was not offered")
		case i > 0:
			return fail("the server answered with permessage-deflate twice")
		case o.Err != nil:
			return fail("invalid permessage-deflate answer: %v", o.Err)
		case !o.ServerNoContextTakeover:
			return fail("the permessage-deflate answer lacks server_no_context_takeover, which was offered and must be acknowledged (RFC 7692 section 7.1.1.1)")
		case o.ClientMaxWindowBits != 0:
			return fail("the permessage-deflate answer has client_max_window_bits, which was not offered (RFC 7692 section 7.1.2.2)")
		}
		compressed = true
	}
	return sub, compressed, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// replayConn answers the opening handshake a library writes with the one
// the engine negotiated; see Dialed.Replay.
type replayConn struct {
	net.Conn
	d *Dialed

	mu    sync.Mutex
	req   []byte        // the library's request, until complete
	resp  []byte        // the response not yet read
	ready chan struct{} // closed once resp is made
	done  bool

	closed    chan struct{} // closed by Close
	closeOnce sync.Once
}

func (c *replayConn) Close() error {
	c.closeOnce.Do(func() { close(c.closed) })
	return c.Conn.Close()
}

func (c *replayConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	if c.done {
		c.mu.Unlock()
		return c.Conn.Write(p)
	}
	c.req = append(c.req, p...)
	end := bytes.Index(c.req, []byte("\r\n\r\n"))
	if end < 0 {
		c.mu.Unlock()
		return len(p), nil
	}
	rest := c.req[end+4:]
	c.resp = c.response(c.req[:end+4])
	c.done = true
	close(c.ready)
	c.mu.Unlock()
	if len(rest) > 0 {
		if _, err := c.Conn.Write(rest); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

func (c *replayConn) response(req []byte) []byte {
	var key string
	for _, line := range strings.Split(string(req), "\r\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.EqualFold(strings.TrimSpace(k), "Sec-WebSocket-Key") {
			key = strings.TrimSpace(v)
		}
	}
	var b bytes.Buffer
	b.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n")
	fmt.Fprintf(&b, "Sec-WebSocket-Accept: %s\r\n", acceptKey(key))
	if c.d.Subprotocol != "" {
		fmt.Fprintf(&b, "Sec-WebSocket-Protocol: %s\r\n", c.d.Subprotocol)
	}
	if c.d.Compressed {
		fmt.Fprintf(&b, "Sec-WebSocket-Extensions: %s\r\n", deflateOffer)
	}
	b.WriteString("\r\n")
	return b.Bytes()
}

func (c *replayConn) Read(p []byte) (int, error) {
	c.mu.Lock()
	if c.done && len(c.resp) == 0 {
		c.mu.Unlock()
		return c.Conn.Read(p)
	}
	c.mu.Unlock()
	select {
	case <-c.ready:
	case <-c.closed:
		return 0, net.ErrClosed
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	n := copy(p, c.resp)
	c.resp = c.resp[n:]
	return n, nil
}
