//lint:file-ignore SA1019 net/http's own client refuses the :protocol pseudo-header of RFC 8441, which golang.org/x/net/http2's sends

package conformance

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/http2"

	"github.com/websock-go/websock/adapters"
	"github.com/websock-go/websock/internal/xconnect"
	"github.com/websock-go/websock/websock"
)

// WebSockets over HTTP/2 (RFC 8441). The cases of feature HTTP2 run cases
// of the table again with the suite's client opening its WebSocket as an
// HTTP/2 stream: an extended CONNECT request with :protocol websocket, on
// an HTTP/2 connection of its own, without TLS (prior knowledge, RFC 9113
// section 3.3), as [ServeHTTP] serves. The frames are those of RFC 6455;
// the handshake is RFC 8441's (200, no Sec-WebSocket-Key or Accept), and
// the client's "TCP connection" is its stream: closing it resets the
// stream.

// http2Cases are the names of the cases run again over HTTP/2: every case
// of the core that speaks to the adapter through the suite's client and
// not through raw HTTP/1.1 requests.
var http2Cases = []string{
	"EchoText", "EchoBinary", "EchoEmpty", "InitPush", "PushSeveral", "ConnInfo",
	"StopNormal", "StopError", "StopCode", "StopAfterFrames", "StopFromInfo", "PanicInHandleIn",
	"UpgradeRefused", "OriginSameOriginByDefault", "OriginAllowedList", "SubprotocolRequired", "SubprotocolOptional",
	"RemoteClose", "RemoteCloseNoStatus", "ProtocolCloseCodeInvalid", "ConnectionDropped", "ConnectionDroppedMidMessage",
	"PingAnswered", "Fragmented", "LargeMessage", "InvalidUTF8", "UTF8SplitAcrossFragments", "MessageTooBig",
	"SendFromGoroutines", "SendInterleavedWithHandleIn", "MailboxFullCloses", "SlowConsumer", "BadInputIsolated",
	"Shutdown", "ShutdownDeadline", "Restart", "IdleTimeout",
}

// withHTTP2 returns table followed by a case of feature HTTP2 for each of
// http2Cases, named HTTP2 and the name of the case it runs again, and then
// by the cases of HTTP/2 alone.
func withHTTP2(table []Case) []Case {
	out := append([]Case(nil), table...)
	for _, name := range http2Cases {
		i := indexCase(table, name)
		if i < 0 {
			panic("conformance: http2Cases names " + name + ", which is not a case")
		}
		c := table[i]
		run := c.run
		c.Name = "HTTP2" + c.Name
		c.Feature = adapters.FeatureHTTP2
		c.Source += "; RFC 8441"
		c.Rule += ", over an HTTP/2 stream"
		c.Description += ", over HTTP/2"
		c.run = func(e *env) { e.overHTTP2(); run(e) }
		out = append(out, c)
	}
	return append(out, http2Only...)
}

func indexCase(table []Case, name string) int {
	for i, c := range table {
		if c.Name == name {
			return i
		}
	}
	return -1
}

// overHTTP2 makes the suite's client reach every endpoint the case starts
// over HTTP/2.
func (e *env) overHTTP2() {
	serve := e.adapter.Serve
	e.adapter.Serve = func(accept websock.AcceptFunc, opts *adapters.Options) (*Server, error) {
		srv, err := serve(accept, opts)
		if err != nil {
			return nil, err
		}
		u, err := url.Parse(srv.URL)
		if err != nil {
			return nil, err
		}
		http2Hosts.Lock()
		http2Hosts.m[u.Host] = true
		http2Hosts.Unlock()
		e.Cleanup(func() {
			// A case that starts its endpoint itself shuts it down when it
			// passes; a case failing over HTTP/2 may not get there.
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			srv.Shutdown(ctx)
			http2Hosts.Lock()
			delete(http2Hosts.m, u.Host)
			http2Hosts.Unlock()
		})
		return srv, nil
	}
}

// http2Hosts holds the URL hosts of the endpoints reached over HTTP/2.
var http2Hosts = struct {
	sync.Mutex
	m map[string]bool
}{m: make(map[string]bool)}

func overHTTP2(host string) bool {
	http2Hosts.Lock()
	defer http2Hosts.Unlock()
	return http2Hosts.m[host]
}

// errNoExtendedConnect explains what to do when the server did not offer
// extended CONNECT.
const errNoExtendedConnect = "the server does not accept extended CONNECT (it sent no SETTINGS_ENABLE_CONNECT_PROTOCOL): " +
	"Go's HTTP/2 server offers it only with GODEBUG=http2xconnect=1 in the environment as the program starts; " +
	"a test binary runs itself again with it through conformance.MainHTTP2"

// dialHTTP2 opens a WebSocket to u over an HTTP/2 connection of its own
// (RFC 8441), with extra request headers. An answer other than 200
// returns the response and an error.
func dialHTTP2(u *url.URL, header http.Header) (*client, *http.Response, error) {
	cc, tcp, err := dialHTTP2Conn(u.Host)
	if err != nil {
		return nil, nil, err
	}
	c, resp, err := openStream(cc, tcp, u, header, true)
	if err != nil {
		tcp.Close()
	}
	return c, resp, err
}

// dialHTTP2Conn opens an HTTP/2 connection to host, without TLS.
func dialHTTP2Conn(host string) (*http2.ClientConn, net.Conn, error) {
	tcp, err := dialHost(host)
	if err != nil {
		return nil, nil, err
	}
	tr := &http2.Transport{AllowHTTP: true, DisableCompression: true}
	cc, err := tr.NewClientConn(tcp)
	if err != nil {
		tcp.Close()
		return nil, nil, fmt.Errorf("HTTP/2 connection: %w (the endpoint must speak HTTP/2 without TLS, as conformance.ServeHTTP's does)", err)
	}
	return cc, tcp, nil
}

// openStream opens a WebSocket to u as a new stream of cc, the HTTP/2
// connection over tcp; closing the WebSocket closes tcp when ownTCP is
// set, and resets the stream otherwise.
func openStream(cc *http2.ClientConn, tcp net.Conn, u *url.URL, header http.Header, ownTCP bool) (*client, *http.Response, error) {
	pr, pw := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodConnect, "http://"+u.Host+u.RequestURI(), pr)
	if err != nil {
		cancel()
		return nil, nil, err
	}
	req.Header = http.Header{"Sec-Websocket-Version": {"13"}, ":protocol": {"websocket"}}
	for k, vs := range header {
		if !strings.HasPrefix(k, ":") {
			k = http.CanonicalHeaderKey(k)
		}
		req.Header[k] = vs
	}
	handshake := time.AfterFunc(10*time.Second, cancel)
	resp, err := cc.RoundTrip(req)
	if err != nil {
		cancel()
		if strings.Contains(err.Error(), "extended connect not supported") {
			return nil, nil, errors.New(errNoExtendedConnect)
		}
		return nil, nil, fmt.Errorf("extended CONNECT: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		handshake.Stop()
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		resp.Body = io.NopCloser(strings.NewReader(string(body)))
		cancel()
		return nil, resp, fmt.Errorf("extended CONNECT answered %s, want 200 (RFC 8441 section 5)", resp.Status)
	}
	if !handshake.Stop() {
		return nil, resp, errors.New("extended CONNECT: no answer within 10s")
	}
	sc := &streamConn{tcp: tcp, ownTCP: ownTCP, pw: pw, cancel: cancel,
		data: make(chan []byte), eof: make(chan struct{}), done: make(chan struct{})}
	go sc.pump(resp.Body)
	return &client{nc: sc, br: bufio.NewReaderSize(sc, 64<<10), resp: resp,
		deflate: deflateAgreed(resp.Header.Get("Sec-WebSocket-Extensions"))}, resp, nil
}

// streamConn is the client's side of an HTTP/2 stream as a net.Conn: it
// writes into the request's body and reads the response's. Its deadlines
// behave as a TCP connection's: a read that times out leaves the stream
// usable; a write that times out closes it. Close drops the HTTP/2
// connection, as dropping TCP does, when the stream has it to itself, and
// resets the stream otherwise.
type streamConn struct {
	tcp    net.Conn
	ownTCP bool
	pw     *io.PipeWriter
	cancel context.CancelFunc

	data chan []byte   // what the response's body read, handed to Read
	eof  chan struct{} // closed once the body ended; rerr says why
	rerr error
	done chan struct{} // closed by Close
	once sync.Once

	rest []byte // of the last chunk, not read yet

	mu  sync.Mutex
	rdl time.Time // read deadline
	wdl time.Time // write deadline
}

// pump reads the response's body and hands it to Read, until it ends or
// the connection is closed.
func (c *streamConn) pump(body io.ReadCloser) {
	defer body.Close()
	for {
		b := make([]byte, 32<<10)
		n, err := body.Read(b)
		if n > 0 {
			select {
			case c.data <- b[:n]:
			case <-c.done:
				return
			}
		}
		if err != nil {
			var se http2.StreamError
			if errors.As(err, &se) {
				// RST_STREAM is to a stream what a reset is to TCP.
				err = fmt.Errorf("stream reset by the server: connection reset (%w)", err)
			}
			c.rerr = err
			close(c.eof)
			return
		}
	}
}

func (c *streamConn) Read(p []byte) (int, error) {
	if len(c.rest) > 0 {
		n := copy(p, c.rest)
		c.rest = c.rest[n:]
		return n, nil
	}
	c.mu.Lock()
	dl := c.rdl
	c.mu.Unlock()
	var timeout <-chan time.Time
	if !dl.IsZero() {
		t := time.NewTimer(time.Until(dl))
		defer t.Stop()
		timeout = t.C
	}
	select {
	case b := <-c.data:
		n := copy(p, b)
		c.rest = b[n:]
		return n, nil
	case <-c.eof:
		return 0, c.rerr
	case <-c.done:
		return 0, net.ErrClosed
	case <-timeout:
		return 0, os.ErrDeadlineExceeded
	}
}

func (c *streamConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	var t *time.Timer
	if !c.wdl.IsZero() {
		t = time.AfterFunc(time.Until(c.wdl), func() { c.Close() })
	}
	c.mu.Unlock()
	n, err := c.pw.Write(p)
	if t != nil && !t.Stop() {
		return n, os.ErrDeadlineExceeded
	}
	if err != nil {
		return n, net.ErrClosed
	}
	return n, nil
}

func (c *streamConn) Close() error {
	c.once.Do(func() {
		close(c.done)
		c.pw.CloseWithError(net.ErrClosed)
		c.cancel()
		if c.ownTCP {
			c.tcp.Close()
		}
	})
	return nil
}

func (c *streamConn) LocalAddr() net.Addr  { return c.tcp.LocalAddr() }
func (c *streamConn) RemoteAddr() net.Addr { return c.tcp.RemoteAddr() }

func (c *streamConn) SetDeadline(t time.Time) error {
	c.SetReadDeadline(t)
	return c.SetWriteDeadline(t)
}

func (c *streamConn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	c.rdl = t
	c.mu.Unlock()
	return nil
}

func (c *streamConn) SetWriteDeadline(t time.Time) error {
	c.mu.Lock()
	c.wdl = t
	c.mu.Unlock()
	return nil
}

// MainHTTP2 runs the tests of a package, m, with Go's HTTP/2 server
// accepting extended CONNECT (RFC 8441), which the cases of feature HTTP2
// need: when the environment's GODEBUG lacks http2xconnect=1, it runs the
// test binary again with it added and exits with its status. Call it from
// TestMain:
//
//	func TestMain(m *testing.M) { conformance.MainHTTP2(m) }
func MainHTTP2(m *testing.M) {
	if xconnect.Enabled() {
		os.Exit(m.Run())
	}
	code, err := xconnect.Rerun()
	if err != nil {
		fmt.Fprintf(os.Stderr, "conformance: running the tests again with GODEBUG=%s: %v\n", xconnect.Setting, err)
		os.Exit(2)
	}
	os.Exit(code)
}
