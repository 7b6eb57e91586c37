package longpoll_test

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"net"
	"net/url"
	"strconv"
	"testing"

	"github.com/websock-go/websock/adapters/longpoll"
	"github.com/websock-go/websock/websock"
)

// BenchmarkRoundTrip measures one message's round trip over a session on
// loopback: a POST of the message, then the poll that brings its echo back.
//
// It measures the server. Its client is a lean HTTP/1.1 client of its own
// over one kept-alive connection, which reuses its request and response
// buffers and allocates nothing in the loop: net/http's client alone
// costs about 120 allocations for these two requests (its Transport's
// request copies, contexts, header maps, body wrappers), more than the
// server's whole round trip. The allocations reported are the server's:
// net/http's server reading and answering the two requests, the handler,
// and the engine taking the message and queueing its echo.
func BenchmarkRoundTrip(b *testing.B) {
	_, srv := serve(b, newRecorder(), nil)
	s, resp := open(b, srv.URL, nil)
	if s == nil {
		b.Fatalf("open answered %s", resp.Status)
	}
	c := dialLean(b, srv.URL, s.token)
	m := []byte("0123456789abcdef")
	var seq, ack uint64 = 1, 0
	b.ReportAllocs()
	for b.Loop() {
		if st := c.send(seq, websock.OpText, m); st != 204 {
			b.Fatalf("send answered %d", st)
		}
		seq++
		// The echo may not be queued yet when the poll comes: a poll held
		// open answers it as soon as it is.
		st, first, op, data := c.poll(ack)
		if st != 200 || op != websock.OpText || !bytes.Equal(data, m) {
			b.Fatalf("poll answered %d, %v %q; want 200, text %q", st, op, data, m)
		}
		ack = first
	}
}

// leanClient is a minimal HTTP/1.1 client of one session over one
// kept-alive connection, for benchmarks: it writes its requests from one
// reused buffer and reads the answers into another, and understands only
// what the Handler answers (a status, Content-Length, a body of one
// message).
type leanClient struct {
	tb   testing.TB
	conn net.Conn
	br   *bufio.Reader
	head []byte // "<path> HTTP/1.1\r\nHost: ...\r\nWebsock-Session: ...\r\n"
	req  []byte // the request being written
	body []byte // the last answer's body
}

func dialLean(tb testing.TB, rawURL, token string) *leanClient {
	tb.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		tb.Fatal(err)
	}
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { conn.Close() })
	path := u.RequestURI()
	head := []byte(path + " HTTP/1.1\r\nHost: " + u.Host + "\r\n" + longpoll.HeaderSession + ": " + token + "\r\n")
	return &leanClient{tb: tb, conn: conn, br: bufio.NewReader(conn), head: head}
}

// send POSTs one message with sequence number seq, and returns the
// status.
func (c *leanClient) send(seq uint64, op websock.Opcode, data []byte) int {
	var n [2 * binary.MaxVarintLen64]byte
	body := binary.AppendUvarint(n[:0], seq)
	body = append(body, byte(op))
	body = binary.AppendUvarint(body, uint64(len(data)))
	c.req = append(c.req[:0], "POST "...)
	c.req = append(c.req, c.head...)
	c.req = append(c.req, "Content-Length: "...)
	c.req = strconv.AppendInt(c.req, int64(len(body)+len(data)), 10)
	c.req = append(c.req, "\r\n\r\n"...)
	c.req = append(c.req, body...)
	c.req = append(c.req, data...)
	return c.roundTrip()
}

// poll GETs acknowledging ack, and returns the status and, for a 200, the
// sequence number, type and bytes of the one message answered.
func (c *leanClient) poll(ack uint64) (status int, seq uint64, op websock.Opcode, data []byte) {
	c.req = append(c.req[:0], "GET "...)
	c.req = append(c.req, c.head...)
	c.req = append(c.req, longpoll.HeaderAck+": "...)
	c.req = strconv.AppendUint(c.req, ack, 10)
	c.req = append(c.req, "\r\n\r\n"...)
	status = c.roundTrip()
	if status != 200 {
		return status, 0, 0, nil
	}
	b := c.body
	seq, k := binary.Uvarint(b)
	if k <= 0 || len(b) < k+1 {
		c.tb.Fatalf("poll answered %q", b)
	}
	op, b = websock.Opcode(b[k]), b[k+1:]
	n, k := binary.Uvarint(b)
	if k <= 0 || uint64(len(b)-k) != n {
		c.tb.Fatalf("poll answered %q: not one message", c.body)
	}
	return status, seq, op, b[k:]
}

// roundTrip writes c.req and reads the answer's status and body.
func (c *leanClient) roundTrip() int {
	c.tb.Helper()
	if _, err := c.conn.Write(c.req); err != nil {
		c.tb.Fatal(err)
	}
	line := c.line()
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.1 ")) {
		c.tb.Fatalf("answered %q", line)
	}
	status := atoi(c.tb, line[9:12])
	length := 0
	for {
		line := c.line()
		if len(line) == 0 {
			break
		}
		k, v, _ := bytes.Cut(line, []byte(":"))
		switch {
		case asciiEqualFold(k, "Content-Length"):
			length = atoi(c.tb, bytes.TrimSpace(v))
		case asciiEqualFold(k, "Transfer-Encoding"):
			c.tb.Fatalf("answered with Transfer-Encoding %q", v)
		}
	}
	if cap(c.body) < length {
		c.body = make([]byte, length)
	}
	c.body = c.body[:length]
	if _, err := readFull(c.br, c.body); err != nil {
		c.tb.Fatal(err)
	}
	return status
}

// line reads one line of the answer's head, without its CRLF.
func (c *leanClient) line() []byte {
	l, err := c.br.ReadSlice('\n')
	if err != nil {
		c.tb.Fatal(err)
	}
	return bytes.TrimSuffix(bytes.TrimSuffix(l, []byte("\n")), []byte("\r"))
}

func readFull(br *bufio.Reader, p []byte) (int, error) {
	n := 0
	for n < len(p) {
		k, err := br.Read(p[n:])
		n += k
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

func atoi(tb testing.TB, b []byte) int {
	n := 0
	if len(b) == 0 {
		tb.Fatalf("%q is not a number", b)
	}
	for _, d := range b {
		if d < '0' || d > '9' {
			tb.Fatalf("%q is not a number", b)
		}
		n = n*10 + int(d-'0')
	}
	return n
}

func asciiEqualFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range b {
		x, y := b[i]|0x20, s[i]|0x20
		if x != y {
			return false
		}
	}
	return true
}
