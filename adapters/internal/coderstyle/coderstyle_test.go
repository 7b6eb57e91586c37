//lint:file-ignore SA1019 these tests cover nhooyr.io/websocket, deprecated in favour of its successor, beside coder/websocket

package coderstyle_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	coderws "github.com/coder/websocket"
	"github.com/gorilla/websocket"
	nhooyrws "nhooyr.io/websocket"

	"github.com/websock-go/websock/adapters"
	"github.com/websock-go/websock/adapters/coder"
	"github.com/websock-go/websock/adapters/nhooyr"
	"github.com/websock-go/websock/websock"
)

// The conformance suite runs on connections the adapters accept (New);
// these tests cover connections accepted by the caller (ServeConn), for
// both libraries, and that echoing allocates nothing.

// server is a test endpoint whose connections end up on reasons.
type server struct {
	url      string
	reasons  chan websock.Reason
	shutdown func(ctx context.Context) error
}

// library starts a server that accepts with the library itself and runs
// handlers with ServeConn.
type library struct {
	name  string
	serve func(t *testing.T, opts *adapters.Options) *server
	new   func(accept websock.AcceptFunc, opts *adapters.Options) (http.Handler, error)
}

var libraries = []library{
	{
		name: coder.Adapter.Name,
		serve: func(t *testing.T, opts *adapters.Options) *server {
			h, err := coder.New(nil, opts)
			if err != nil {
				t.Fatal(err)
			}
			return start(t, h.Shutdown, func(w http.ResponseWriter, r *http.Request) (websock.Reason, bool) {
				ws, err := coderws.Accept(w, r, nil)
				if err != nil {
					return websock.Reason{}, false
				}
				return h.ServeConn(ws, r, echo()), true
			})
		},
		new: func(accept websock.AcceptFunc, opts *adapters.Options) (http.Handler, error) {
			h, err := coder.New(accept, opts)
			return h, err
		},
	},
	{
		name: nhooyr.Adapter.Name,
		serve: func(t *testing.T, opts *adapters.Options) *server {
			h, err := nhooyr.New(nil, opts)
			if err != nil {
				t.Fatal(err)
			}
			return start(t, h.Shutdown, func(w http.ResponseWriter, r *http.Request) (websock.Reason, bool) {
				ws, err := nhooyrws.Accept(w, r, nil)
				if err != nil {
					return websock.Reason{}, false
				}
				return h.ServeConn(ws, r, echo()), true
			})
		},
		new: func(accept websock.AcceptFunc, opts *adapters.Options) (http.Handler, error) {
			h, err := nhooyr.New(accept, opts)
			return h, err
		},
	},
}

func start(t *testing.T, shutdown func(context.Context) error, serve func(http.ResponseWriter, *http.Request) (websock.Reason, bool)) *server {
	s := &server{reasons: make(chan websock.Reason, 4), shutdown: shutdown}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if reason, ok := serve(w, r); ok {
			s.reasons <- reason
		}
	}))
	t.Cleanup(hs.Close)
	s.url = "ws" + strings.TrimPrefix(hs.URL, "http")
	return s
}

// echo echoes messages, stops on "stop" and pushes a ping on "push ping".
func echo() websock.Handler {
	return websock.HandlerFunc(func(f websock.Frame) websock.Result {
		switch string(f.Data) {
		case "stop":
			return websock.StopCode(nil, 4000, "bye")
		case "push ping":
			return websock.Push(websock.Ping([]byte("x")))
		}
		return websock.Push(f)
	})
}

func dial(t *testing.T, s *server) *websocket.Conn {
	t.Helper()
	ws, _, err := websocket.DefaultDialer.Dial(s.url, nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { ws.Close() })
	ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	return ws
}

func (s *server) reason(t *testing.T) websock.Reason {
	t.Helper()
	select {
	case r := <-s.reasons:
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("ServeConn did not return within 10s")
	}
	return websock.Reason{}
}

// wantClose reads until the server's close frame, which gorilla answers.
func wantClose(t *testing.T, ws *websocket.Conn, code int) {
	t.Helper()
	_, _, err := ws.ReadMessage()
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != code {
		t.Fatalf("read %v; want close %d", err, code)
	}
}

func TestServeConn(t *testing.T) {
	for _, lib := range libraries {
		t.Run(lib.name, func(t *testing.T) {
			t.Run("EchoPingRemoteClose", func(t *testing.T) {
				s := lib.serve(t, nil)
				ws := dial(t, s)
				pongs := make(chan string, 1)
				ws.SetPongHandler(func(p string) error { pongs <- p; return nil })
				for _, m := range []struct {
					typ  int
					data string
				}{{websocket.TextMessage, "hello"}, {websocket.BinaryMessage, "\x00\xff"}, {websocket.TextMessage, strings.Repeat("y", 100000)}} {
					ws.WriteMessage(m.typ, []byte(m.data))
					typ, data, err := ws.ReadMessage()
					if err != nil || typ != m.typ || string(data) != m.data {
						t.Fatalf("echo of %d bytes: %v, %d bytes, %v", len(m.data), typ, len(data), err)
					}
				}
				ws.WriteControl(websocket.PingMessage, []byte("p1"), time.Time{})
				ws.WriteMessage(websocket.TextMessage, []byte("after"))
				if _, data, err := ws.ReadMessage(); err != nil || string(data) != "after" || len(pongs) != 1 || <-pongs != "p1" {
					t.Fatalf("ping then echo: %q %v, %d pongs", data, err, len(pongs))
				}
				ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(4001, "done"), time.Time{})
				wantClose(t, ws, 4001)
				if r := s.reason(t); r.Kind != websock.KindRemote || r.Code != 4001 || r.Text != "done" {
					t.Errorf("reason %v; want remote 4001 \"done\"", r)
				}
			})
			t.Run("Stop", func(t *testing.T) {
				s := lib.serve(t, nil)
				ws := dial(t, s)
				ws.WriteMessage(websocket.TextMessage, []byte("stop"))
				wantClose(t, ws, 4000)
				if r := s.reason(t); r.Kind != websock.KindNormal || r.Code != 4000 || r.Text != "bye" {
					t.Errorf("reason %v; want normal 4000 \"bye\"", r)
				}
			})
			t.Run("MessageTooBig", func(t *testing.T) {
				s := lib.serve(t, &adapters.Options{MaxMessageSize: 1024})
				ws := dial(t, s)
				ws.WriteMessage(websocket.BinaryMessage, make([]byte, 1024))
				if _, data, err := ws.ReadMessage(); err != nil || len(data) != 1024 {
					t.Fatalf("echo at the limit: %d bytes, %v", len(data), err)
				}
				ws.WriteMessage(websocket.BinaryMessage, make([]byte, 1025))
				wantClose(t, ws, 1009)
				if r := s.reason(t); !errors.Is(r, websock.ErrMessageTooBig) || r.Code != 1009 {
					t.Errorf("reason %v; want ErrMessageTooBig, 1009", r)
				}
			})
			t.Run("PushedPingRefused", func(t *testing.T) {
				s := lib.serve(t, nil)
				ws := dial(t, s)
				ws.WriteMessage(websocket.TextMessage, []byte("push ping"))
				if r := s.reason(t); !errors.Is(r, errors.ErrUnsupported) || !errors.Is(r, websock.ErrWriteFailed) {
					t.Errorf("reason %v; want ErrWriteFailed wrapping errors.ErrUnsupported", r)
				}
			})
			t.Run("Shutdown", func(t *testing.T) {
				s := lib.serve(t, nil)
				ws := dial(t, s)
				ws.WriteMessage(websocket.TextMessage, []byte("hi"))
				ws.ReadMessage()
				errc := make(chan error, 1)
				go func() {
					ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
					defer cancel()
					errc <- s.shutdown(ctx)
				}()
				wantClose(t, ws, 1001)
				if r := s.reason(t); r.Kind != websock.KindShutdown || r.Code != 1001 {
					t.Errorf("reason %v; want shutdown 1001", r)
				}
				if err := <-errc; err != nil {
					t.Errorf("Shutdown: %v", err)
				}
			})
			t.Run("Keepalive", func(t *testing.T) {
				// The library consumes pongs; keepalive pings through it
				// and waits for the pong itself.
				s := lib.serve(t, &adapters.Options{PingInterval: 50 * time.Millisecond, PongTimeout: 100 * time.Millisecond})
				ws := dial(t, s)
				ws.SetReadDeadline(time.Now().Add(400 * time.Millisecond))
				if _, _, err := ws.ReadMessage(); err == nil {
					t.Fatal("read a message; want none, only pings answered while reading")
				}
				select {
				case r := <-s.reasons:
					t.Fatalf("the connection ended (%v) although the client answered every ping", r)
				default:
				}
				// The client no longer reads, so no pong answers: the
				// pong timeout ends the connection.
				if r := s.reason(t); r.Kind != websock.KindTimeout || !errors.Is(r, websock.ErrPongTimeout) {
					t.Errorf("reason %v; want Timeout with ErrPongTimeout", r)
				}
			})
		})
	}
}

// TestEchoAllocs checks that echoing a message through a connection New
// accepted allocates nothing, in the server or in this raw client.
func TestEchoAllocs(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation counts need a quiet process")
	}
	for _, lib := range libraries {
		t.Run(lib.name, func(t *testing.T) {
			h, err := lib.new(func(*websock.Request) (websock.Handler, error) { return echo(), nil }, nil)
			if err != nil {
				t.Fatal(err)
			}
			hs := httptest.NewServer(h)
			defer hs.Close()
			nc, err := net.Dial("tcp", hs.Listener.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			io.WriteString(nc, "GET / HTTP/1.1\r\nHost: "+hs.Listener.Addr().String()+"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
				"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
			br := bufio.NewReader(nc)
			resp, err := http.ReadResponse(br, nil)
			if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
				t.Fatalf("handshake: %v %v", resp, err)
			}
			msg := []byte("hello, allocation-free world")
			in := append([]byte{0x81, 0x80 | byte(len(msg)), 0, 0, 0, 0}, msg...) // masked with a zero key
			out := make([]byte, 2+len(msg))
			echoOnce := func() {
				if _, err := nc.Write(in); err != nil {
					t.Fatal(err)
				}
				if _, err := io.ReadFull(br, out); err != nil {
					t.Fatal(err)
				}
			}
			for range 100 {
				echoOnce() // warm up buffers and pools
			}
			allocs := testing.AllocsPerRun(1000, echoOnce)
			t.Logf("%.3f allocs per echo", allocs)
			if allocs > 0.1 {
				t.Errorf("%.2f allocations per echoed message; want 0", allocs)
			}
			if string(out[2:]) != string(msg) {
				t.Errorf("echo %q; want %q", out[2:], msg)
			}
		})
	}
}
