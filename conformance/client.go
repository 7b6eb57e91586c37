package conformance

import (
	"bufio"
	"bytes"
	"compress/flate"
	"context"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// The suite's own WebSocket client. It depends on no WebSocket library, so
// it can check every adapter, and it writes any frame, malformed ones
// included.

// frame is one frame as read or written by the client.
type frame struct {
	fin     bool
	rsv     byte // the three RSV bits, in the low bits
	op      byte
	payload []byte
}

// client is a WebSocket client connection.
type client struct {
	nc      net.Conn
	br      *bufio.Reader
	resp    *http.Response
	deflate bool   // permessage-deflate was negotiated
	history []byte // the server's last 32 KiB of decompressed output

	// Permessage-deflate: what was agreed, parsed from resp when first
	// needed, and the client's compressor when it keeps context.
	pmd        *agreement
	deflater   *flate.Writer
	deflateBuf *bytes.Buffer
}

// dial connects to rawURL and performs the opening handshake with extra
// request headers. A non-101 answer returns the response and an error.
func dial(rawURL string, header http.Header) (*client, *http.Response, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, nil, err
	}
	if overHTTP2(u.Host) {
		return dialHTTP2(u, header)
	}
	nc, err := dialHost(u.Host)
	if err != nil {
		return nil, nil, err
	}
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	keyBytes := make([]byte, 16)
	rand.Read(keyBytes)
	key := base64.StdEncoding.EncodeToString(keyBytes)
	var b strings.Builder
	path := u.RequestURI()
	fmt.Fprintf(&b, "GET %s HTTP/1.1\r\nHost: %s\r\n", path, u.Host)
	fmt.Fprintf(&b, "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n", key)
	for k, vs := range header {
		for _, v := range vs {
			fmt.Fprintf(&b, "%s: %s\r\n", k, v)
		}
	}
	b.WriteString("\r\n")
	if _, err := io.WriteString(nc, b.String()); err != nil {
		nc.Close()
		return nil, nil, err
	}
	br := bufio.NewReaderSize(nc, 64<<10)
	resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodGet})
	if err != nil {
		nc.Close()
		return nil, nil, fmt.Errorf("reading the handshake response: %w", err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		resp.Body.Close()
		resp.Body = io.NopCloser(strings.NewReader(string(body)))
		nc.Close()
		if len(body) > 0 {
			return nil, resp, fmt.Errorf("handshake answered %s (%.200q), want 101", resp.Status, body)
		}
		return nil, resp, fmt.Errorf("handshake answered %s, want 101", resp.Status)
	}
	sum := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	if got, want := resp.Header.Get("Sec-WebSocket-Accept"), base64.StdEncoding.EncodeToString(sum[:]); got != want {
		nc.Close()
		return nil, resp, fmt.Errorf("Sec-WebSocket-Accept is %q, want %q (RFC 6455 section 4.2.2)", got, want)
	}
	nc.SetDeadline(time.Time{})
	return &client{nc: nc, br: br, resp: resp, deflate: deflateAgreed(resp.Header.Get("Sec-WebSocket-Extensions"))}, resp, nil
}

// dialers maps the URL host of each running endpoint that has a
// Server.Dial to it.
var dialers = struct {
	sync.Mutex
	m map[string]func(ctx context.Context) (net.Conn, error)
}{m: make(map[string]func(ctx context.Context) (net.Conn, error))}

func addDialer(srv *Server) error {
	u, err := url.Parse(srv.URL)
	if err != nil {
		return err
	}
	dialers.Lock()
	defer dialers.Unlock()
	if _, ok := dialers.m[u.Host]; ok {
		return fmt.Errorf("conformance: two endpoints with a Dial serve at %s; give each a host of its own in Server.URL", u.Host)
	}
	dialers.m[u.Host] = srv.Dial
	return nil
}

func removeDialer(srv *Server) {
	u, _ := url.Parse(srv.URL)
	dialers.Lock()
	defer dialers.Unlock()
	delete(dialers.m, u.Host)
}

// dialHost connects to host: through its endpoint's Dial when it has
// one, over TCP otherwise.
func dialHost(host string) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	dialers.Lock()
	d := dialers.m[host]
	dialers.Unlock()
	if d != nil {
		return d(ctx)
	}
	var nd net.Dialer
	return nd.DialContext(ctx, "tcp", host)
}

// httpGet sends a plain HTTP GET to the endpoint at rawURL, a ws:// URL,
// through dialHost.
func httpGet(rawURL string) (*http.Response, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, err
	}
	tr := &http.Transport{
		DisableKeepAlives: true,
		DialContext:       func(context.Context, string, string) (net.Conn, error) { return dialHost(u.Host) },
	}
	defer tr.CloseIdleConnections()
	u.Scheme = "http"
	return (&http.Client{Transport: tr, Timeout: 10 * time.Second}).Get(u.String())
}

// writeFrame writes f, masked as a client must unless unmasked is set.
func (c *client) writeFrame(f frame, unmasked bool) error {
	hdr := make([]byte, 0, 14)
	b0 := f.op & 0x0f
	b0 |= (f.rsv & 0x7) << 4
	if f.fin {
		b0 |= 0x80
	}
	hdr = append(hdr, b0)
	var mask byte = 0x80
	if unmasked {
		mask = 0
	}
	n := len(f.payload)
	switch {
	case n <= 125:
		hdr = append(hdr, mask|byte(n))
	case n <= 0xffff:
		hdr = append(hdr, mask|126, byte(n>>8), byte(n))
	default:
		hdr = append(hdr, mask|127)
		hdr = binary.BigEndian.AppendUint64(hdr, uint64(n))
	}
	payload := f.payload
	if !unmasked {
		var key [4]byte
		rand.Read(key[:])
		hdr = append(hdr, key[:]...)
		payload = make([]byte, n)
		for i := range payload {
			payload[i] = f.payload[i] ^ key[i&3]
		}
	}
	c.nc.SetWriteDeadline(time.Now().Add(20 * time.Second))
	_, err := c.nc.Write(append(hdr, payload...))
	return err
}

// send writes a whole message in one frame.
func (c *client) send(op byte, payload []byte) error {
	return c.writeFrame(frame{fin: true, op: op, payload: payload}, false)
}

func (c *client) sendText(s string) error { return c.send(opText, []byte(s)) }

// sendClose writes a close frame with code and text; code 0 sends an empty
// payload.
func (c *client) sendClose(code uint16, text string) error {
	var p []byte
	if code != 0 {
		p = binary.BigEndian.AppendUint16(nil, code)
		p = append(p, text...)
	}
	return c.send(opClose, p)
}

// readFrame reads one frame, waiting at most d.
func (c *client) readFrame(d time.Duration) (frame, error) { return c.readFrameMasked(d, false) }

// readFrameMasked reads one frame, waiting at most d: unmasked, as a
// server sends them, or masked, as a client must, and then unmasked.
func (c *client) readFrameMasked(d time.Duration, masked bool) (frame, error) {
	c.nc.SetReadDeadline(time.Now().Add(d))
	var h [2]byte
	if _, err := io.ReadFull(c.br, h[:]); err != nil {
		return frame{}, err
	}
	f := frame{fin: h[0]&0x80 != 0, rsv: (h[0] >> 4) & 7, op: h[0] & 0x0f}
	switch {
	case h[1]&0x80 != 0 && !masked:
		return frame{}, errors.New("server sent a masked frame (RFC 6455 section 5.1 forbids it)")
	case h[1]&0x80 == 0 && masked:
		return frame{}, fmt.Errorf("the client sent an unmasked %s frame (RFC 6455 section 5.1: a client masks every frame)", opName(f.op))
	}
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		var ext [2]byte
		if _, err := io.ReadFull(c.br, ext[:]); err != nil {
			return frame{}, err
		}
		n = uint64(binary.BigEndian.Uint16(ext[:]))
	case 127:
		var ext [8]byte
		if _, err := io.ReadFull(c.br, ext[:]); err != nil {
			return frame{}, err
		}
		n = binary.BigEndian.Uint64(ext[:])
	}
	if n > 64<<20 {
		return frame{}, fmt.Errorf("the peer sent a frame of %d bytes, more than the suite accepts", n)
	}
	var key [4]byte
	if masked {
		if _, err := io.ReadFull(c.br, key[:]); err != nil {
			return frame{}, err
		}
	}
	f.payload = make([]byte, n)
	if _, err := io.ReadFull(c.br, f.payload); err != nil {
		return frame{}, err
	}
	if masked {
		for i := range f.payload {
			f.payload[i] ^= key[i&3]
		}
	}
	return f, nil
}

// readMessage reads the next data message, reassembling fragments, and
// returns its opcode and payload. Pings and pongs are skipped (after
// recording pongs in pongs, if non-nil). A close frame ends it with a
// *closeFrame error.
func (c *client) readMessage(d time.Duration, pongs *[]string) (byte, []byte, error) {
	var op byte
	var data []byte
	compressed := false
	deadline := time.Now().Add(d)
	for {
		f, err := c.readFrame(time.Until(deadline))
		if err != nil {
			return 0, nil, err
		}
		switch f.op {
		case opPing:
			continue
		case opPong:
			if pongs != nil {
				*pongs = append(*pongs, string(f.payload))
			}
			continue
		case opClose:
			return 0, nil, parseClose(f.payload)
		case opCont:
			if op == 0 {
				return 0, nil, errors.New("server sent a continuation frame with no message started")
			}
		default:
			if op != 0 {
				return 0, nil, errors.New("server started a new message inside a fragmented one")
			}
			op = f.op
			compressed = f.rsv&4 != 0
		}
		if f.rsv&^4 != 0 || (f.rsv&4 != 0 && (!c.deflate || f.op == opCont)) {
			return 0, nil, fmt.Errorf("server set RSV bits %03b that were not negotiated (RFC 6455 section 5.2)", f.rsv)
		}
		data = append(data, f.payload...)
		if f.fin {
			if compressed {
				out, err := c.inflateMessage(data)
				if err != nil {
					return 0, nil, fmt.Errorf("inflating the server's message: %w", err)
				}
				data = out
			}
			return op, data, nil
		}
	}
}

// closeFrame is a close frame the server sent.
type closeFrame struct {
	code  uint16 // 1005 when the payload was empty
	text  string
	empty bool
}

func (e *closeFrame) Error() string {
	return fmt.Sprintf("server sent close %d %q", e.code, e.text)
}

func parseClose(p []byte) error {
	if len(p) == 0 {
		return &closeFrame{code: 1005, empty: true}
	}
	if len(p) == 1 {
		return fmt.Errorf("server sent a close frame with a 1-byte payload (RFC 6455 section 5.5.1)")
	}
	return &closeFrame{code: binary.BigEndian.Uint16(p), text: string(p[2:])}
}

// expectClose reads until the server's close frame and returns it; data
// messages before it are discarded. An error says the connection ended
// without one.
func (c *client) expectClose(d time.Duration) (*closeFrame, error) {
	deadline := time.Now().Add(d)
	for {
		_, _, err := c.readMessage(time.Until(deadline), nil)
		var cf *closeFrame
		if errors.As(err, &cf) {
			return cf, nil
		}
		if err != nil {
			return nil, fmt.Errorf("connection ended without a close frame: %w", err)
		}
	}
}

// expectEOF waits for the server to close the TCP connection.
func (c *client) expectEOF(d time.Duration) error {
	c.nc.SetReadDeadline(time.Now().Add(d))
	_, err := io.Copy(io.Discard, c.br)
	if err == nil || errors.Is(err, net.ErrClosed) || isReset(err) {
		return nil
	}
	return fmt.Errorf("server did not close the TCP connection within %v: %w", d, err)
}

func isReset(err error) bool {
	return err != nil && (strings.Contains(err.Error(), "connection reset") || strings.Contains(err.Error(), "broken pipe"))
}

func (c *client) close() { c.nc.Close() }

// The opcodes the client uses.
const (
	opCont   byte = 0x0
	opText   byte = 0x1
	opBinary byte = 0x2
	opClose  byte = 0x8
	opPing   byte = 0x9
	opPong   byte = 0xA
)
