package fasthttp_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	fws "github.com/fasthttp/websocket"
	"github.com/gorilla/websocket"
	"github.com/valyala/fasthttp"

	"github.com/websock-go/websock/adapters"
	wsfasthttp "github.com/websock-go/websock/adapters/fasthttp"
	"github.com/websock-go/websock/websock"
)

// Cases particular to this adapter; the conformance suite covers the rest.

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// serve runs serve on a fasthttp server on 127.0.0.1 and returns its
// ws:// URL; the server stops when the test ends, after stop (which may be
// nil) has closed the WebSocket connections.
func serve(t testing.TB, handler fasthttp.RequestHandler, stop func(context.Context) error) string {
	t.Helper()
	startDateUpdater()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &fasthttp.Server{Handler: handler, MaxIdleWorkerDuration: 50 * time.Millisecond}
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.Serve(ln)
	}()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if stop != nil {
			if err := stop(ctx); err != nil {
				t.Errorf("stopping the WebSocket connections: %v", err)
			}
		}
		if err := srv.ShutdownWithContext(ctx); err != nil {
			t.Errorf("fasthttp Shutdown: %v", err)
		}
		ln.Close() // Shutdown returns at once if Serve has not registered ln yet
		<-done
	})
	return "ws://" + ln.Addr().String()
}

func dial(t *testing.T, d *websocket.Dialer, url string, h http.Header) *websocket.Conn {
	t.Helper()
	ws, resp, err := d.Dial(url, h)
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	resp.Body.Close()
	t.Cleanup(func() { ws.Close() })
	ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	return ws
}

// echo answers every message with itself and reports its ConnInfo and
// Terminate reason.
type echo struct {
	infos   chan *websock.ConnInfo
	reasons chan websock.Reason
}

func newEcho() *echo {
	return &echo{infos: make(chan *websock.ConnInfo, 1), reasons: make(chan websock.Reason, 1)}
}

func (e *echo) accept(*websock.Request) (websock.Handler, error) { return e, nil }

func (e *echo) Init(c websock.Conn) websock.Result {
	e.infos <- c.Info()
	return websock.OK()
}
func (e *echo) HandleIn(f websock.Frame) websock.Result { return websock.Push(f) }
func (e *echo) HandleInfo(any) websock.Result           { return websock.OK() }
func (e *echo) Terminate(r websock.Reason)              { e.reasons <- r }

func (e *echo) reason(t *testing.T) websock.Reason {
	t.Helper()
	select {
	case r := <-e.reasons:
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("Terminate was not called within 10s")
	}
	return websock.Reason{}
}

func wantClose(t *testing.T, ws *websocket.Conn, code int) {
	t.Helper()
	for i := 0; i < 100; i++ {
		_, _, err := ws.ReadMessage()
		if err == nil {
			continue
		}
		var ce *websocket.CloseError
		if !errors.As(err, &ce) || ce.Code != code {
			t.Fatalf("read: %v; want close %d", err, code)
		}
		return
	}
	t.Fatalf("no close %d after 100 messages", code)
}

func TestCompression(t *testing.T) {
	e := newEcho()
	h, err := wsfasthttp.New(e.accept, &adapters.Options{Compression: true, MaxMessageSize: 1024, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	url := serve(t, h.ServeFastHTTP, h.Shutdown)
	ws := dial(t, &websocket.Dialer{EnableCompression: true}, url+"/", nil)
	if info := <-e.infos; !info.Compressed {
		t.Errorf("ConnInfo.Compressed = false; want true when the client offers permessage-deflate")
	}
	msg := []byte(strings.Repeat("compressible ", 50))
	if err := ws.WriteMessage(websocket.TextMessage, msg); err != nil {
		t.Fatal(err)
	}
	if _, got, err := ws.ReadMessage(); err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("echo: %q, %v; want the message back", got, err)
	}
	// Far fewer bytes than the limit on the wire, far more once inflated.
	if err := ws.WriteMessage(websocket.BinaryMessage, make([]byte, 64<<10)); err != nil {
		t.Fatal(err)
	}
	wantClose(t, ws, websocket.CloseMessageTooBig)
	ws.Close()
	if r := e.reason(t); !errors.Is(r.Err, websock.ErrMessageTooBig) || r.Code != websock.CloseMessageTooBig {
		t.Errorf("Terminate(%v); want ErrMessageTooBig with 1009", r)
	}
}

func TestNoCompressionUnlessEnabled(t *testing.T) {
	e := newEcho()
	h, err := wsfasthttp.New(e.accept, &adapters.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	url := serve(t, h.ServeFastHTTP, h.Shutdown)
	ws, resp, err := (&websocket.Dialer{EnableCompression: true}).Dial(url+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	if ext := resp.Header.Get("Sec-WebSocket-Extensions"); ext != "" {
		t.Errorf("Sec-WebSocket-Extensions = %q; want none when Options.Compression is off", ext)
	}
	if info := <-e.infos; info.Compressed {
		t.Errorf("ConnInfo.Compressed = true; want false")
	}
}

func TestRequest(t *testing.T) {
	reqs := make(chan *websock.Request, 1)
	e := newEcho()
	accept := func(r *websock.Request) (websock.Handler, error) { reqs <- r; return e, nil }
	h, err := wsfasthttp.New(accept, &adapters.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	url := serve(t, h.ServeFastHTTP, h.Shutdown)
	ws := dial(t, websocket.DefaultDialer, url+"/a%20b/c?x=1&x=2", http.Header{"X-Multi": {"one", "two"}})
	r := <-reqs
	info := <-e.infos
	if r.URL.Path != "/a b/c" || r.URL.RawQuery != "x=1&x=2" {
		t.Errorf("URL = %#v; want path \"/a b/c\" and query x=1&x=2", r.URL)
	}
	if want := strings.TrimPrefix(url, "ws://"); r.Host != want {
		t.Errorf("Host = %q; want %q", r.Host, want)
	}
	if _, ok := r.Header["Host"]; ok {
		t.Errorf("Header holds Host; want it only in Request.Host, as net/http does")
	}
	if got := r.Header.Values("X-Multi"); strings.Join(got, ",") != "one,two" {
		t.Errorf("Header X-Multi = %q; want both values", got)
	}
	if info.Adapter != wsfasthttp.Adapter.Name || info.URL.Path != "/a b/c" {
		t.Errorf("ConnInfo = %+v", info)
	}
	// The ConnInfo outlives the RequestCtx, which fasthttp reuses.
	if err := ws.WriteMessage(websocket.TextMessage, []byte("hi")); err != nil {
		t.Fatal(err)
	}
	ws.ReadMessage()
	if info.Header.Get("X-Multi") != "one" || info.URL.RawQuery != "x=1&x=2" || info.RemoteAddr == "" {
		t.Errorf("ConnInfo changed after the request handler returned: %+v", info)
	}
}

func TestRefusal(t *testing.T) {
	refuse := func(*websock.Request) (websock.Handler, error) {
		he := websock.Refuse(http.StatusUnauthorized, "who are you?\n")
		he.Header = map[string][]string{"Www-Authenticate": {"Bearer"}}
		return nil, he
	}
	h, err := wsfasthttp.New(refuse, &adapters.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	url := serve(t, h.ServeFastHTTP, h.Shutdown)
	_, resp, err := websocket.DefaultDialer.Dial(url+"/", nil)
	if err == nil || resp == nil {
		t.Fatalf("dial: %v; want a refusal", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || string(body) != "who are you?\n" || resp.Header.Get("Www-Authenticate") != "Bearer" {
		t.Errorf("refusal = %d %q %v; want 401 with the hook's body and headers", resp.StatusCode, body, resp.Header)
	}

	// Not an upgrade at all, and an unsupported version.
	hurl := "http" + strings.TrimPrefix(url, "ws")
	resp, err = http.Get(hurl + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("plain GET: %d; want 400", resp.StatusCode)
	}
	req, _ := http.NewRequest(http.MethodGet, hurl+"/", nil)
	req.Header = http.Header{"Connection": {"Upgrade"}, "Upgrade": {"websocket"},
		"Sec-Websocket-Key": {"dGhlIHNhbXBsZSBub25jZQ=="}, "Sec-Websocket-Version": {"8"}}
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUpgradeRequired || resp.Header.Get("Sec-WebSocket-Version") != "13" {
		t.Errorf("version 8: %d %v; want 426 with Sec-WebSocket-Version: 13", resp.StatusCode, resp.Header)
	}
}

func TestServeConn(t *testing.T) {
	e := newEcho()
	h, err := wsfasthttp.New(nil, &adapters.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	up := fws.FastHTTPUpgrader{Subprotocols: []string{"v1"}}
	reasons := make(chan websock.Reason, 1)
	handler := func(ctx *fasthttp.RequestCtx) {
		req := wsfasthttp.NewRequest(ctx)
		up.Upgrade(ctx, func(ws *fws.Conn) { reasons <- h.ServeConn(ws, req, e) })
	}
	url := serve(t, handler, nil)
	ws := dial(t, &websocket.Dialer{Subprotocols: []string{"v1"}}, url+"/own?k=v", nil)
	info := <-e.infos
	if info.URL.RawQuery != "k=v" || info.Subprotocol != "v1" || info.Adapter != wsfasthttp.Adapter.Name {
		t.Errorf("ConnInfo = %+v; want the request's URL, subprotocol v1 and adapter %q", info, wsfasthttp.Adapter.Name)
	}
	if err := ws.WriteMessage(websocket.BinaryMessage, []byte{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	if _, got, err := ws.ReadMessage(); err != nil || !bytes.Equal(got, []byte{1, 2, 3}) {
		t.Fatalf("echo: %v, %v", got, err)
	}
	if h.Live() != 1 {
		t.Errorf("Live = %d; want 1: ServeConn connections are tracked", h.Live())
	}
	go h.Shutdown(context.Background())
	wantClose(t, ws, websocket.CloseGoingAway)
	ws.Close()
	if r := <-reasons; r.Kind != websock.KindShutdown {
		t.Errorf("ServeConn returned %v; want a shutdown reason", r)
	}
}

// TestShutdownWhilePeersLeave shuts down just as the peers drop their
// connections, so that the engine writes close frames to connections that
// are ending: no write may reach the connection after fasthttp took it
// back once its hijack handler returned (run with -race).
func TestShutdownWhilePeersLeave(t *testing.T) {
	for round := 0; round < 50; round++ {
		e := &echo{infos: make(chan *websock.ConnInfo, 2), reasons: make(chan websock.Reason, 2)}
		h, err := wsfasthttp.New(e.accept, &adapters.Options{Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		url := serve(t, h.ServeFastHTTP, nil)
		var conns []*websocket.Conn
		for i := 0; i < 2; i++ {
			conns = append(conns, dial(t, websocket.DefaultDialer, url+"/", nil))
			<-e.infos
		}
		for _, ws := range conns {
			ws.NetConn().Close()
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if err := h.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		cancel()
		if n := len(e.reasons); n != len(conns) {
			t.Fatalf("round %d: %d Terminates after Shutdown; want %d", round, n, len(conns))
		}
	}
}

// flooder pushes a message larger than the socket buffers as soon as the
// connection is live, from the mailbox goroutine.
type flooder struct{ reasons chan websock.Reason }

func (f *flooder) Init(c websock.Conn) websock.Result    { c.Send(nil); return websock.OK() }
func (f *flooder) HandleIn(websock.Frame) websock.Result { return websock.OK() }
func (f *flooder) HandleInfo(any) websock.Result {
	return websock.Push(websock.Binary(make([]byte, 8<<20)))
}
func (f *flooder) Terminate(r websock.Reason) { f.reasons <- r }

// TestShutdownDuringBlockedWrite shuts down while a write is blocked on a
// peer that does not read, then drops the peer: the close frame Shutdown
// queued behind the blocked write must not reach the connection after
// fasthttp took it back (run with -race).
func TestShutdownDuringBlockedWrite(t *testing.T) {
	f := &flooder{reasons: make(chan websock.Reason, 1)}
	h, err := wsfasthttp.New(func(*websock.Request) (websock.Handler, error) { return f, nil },
		&adapters.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	url := serve(t, h.ServeFastHTTP, nil)
	d := &websocket.Dialer{NetDial: func(network, addr string) (net.Conn, error) {
		nc, err := net.Dial(network, addr)
		if err == nil {
			nc.(*net.TCPConn).SetReadBuffer(4096)
		}
		return nc, err
	}}
	ws := dial(t, d, url+"/", nil)
	time.Sleep(100 * time.Millisecond) // the push fills the buffers and blocks
	shut := make(chan error, 1)
	go func() { shut <- h.Shutdown(context.Background()) }()
	time.Sleep(100 * time.Millisecond) // Shutdown decides and waits to write its close frame
	ws.NetConn().Close()
	if err := <-shut; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if r := <-f.reasons; r.Kind != websock.KindShutdown {
		t.Errorf("Terminate(%v); want the shutdown reason decided first", r)
	}
}

// lockedBuffer collects log lines from the server's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestHostileBytesLogBounded sends 40 requests fasthttp cannot parse, each
// 3 KB of bytes that are not HTTP (fasthttp quotes up to 400 of them per
// line, escaped), and checks that Serve's server logs
// them bounded (no line quotes more than a few hundred bytes of them) and
// rate-limited (10 at once, then one a second).
func TestHostileBytesLogBounded(t *testing.T) {
	var logs lockedBuffer
	h, err := wsfasthttp.New(func(*websock.Request) (websock.Handler, error) {
		return nil, websock.Refuse(http.StatusForbidden, "no")
	},
		&wsfasthttp.Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	shutdown := wsfasthttp.Serve(ln, h)
	defer shutdown(context.Background())
	hostile := bytes.Repeat([]byte("\x16\x03\x01\x02\x00 \x80GARBAGE"), 3000/16)
	start := time.Now()
	const requests = 40
	for range requests {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(10 * time.Second))
		c.Write(append(hostile, "\r\n\r\n"...))
		io.Copy(io.Discard, c) // fasthttp answers 400 and closes
		c.Close()
	}
	elapsed := time.Since(start)
	shutdown(context.Background())
	out := logs.String()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if out == "" {
		t.Fatalf("%d requests fasthttp cannot parse logged nothing; want them logged, bounded", requests)
	}
	if max := 10 + int(elapsed.Seconds()) + 1; len(lines) > max {
		t.Errorf("%d hostile requests in %v logged %d lines; want at most %d (10, then one a second)", requests, elapsed, len(lines), max)
	}
	for _, l := range lines {
		if len(l) > 600 || strings.Contains(l, "GARBAGE\x16") {
			t.Errorf("a line of %d bytes quotes the peer's bytes unbounded or unescaped: %.200q", len(l), l)
		}
	}
	if len(out) > 20*600 {
		t.Errorf("the log holds %d bytes after %d hostile requests of %d bytes", len(out), requests, len(hostile))
	}
}
