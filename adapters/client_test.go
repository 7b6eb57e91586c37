package adapters_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/websock-go/websock/adapters"
	"github.com/websock-go/websock/adapters/gorilla"
	"github.com/websock-go/websock/websock"
)

// The client's own rules, beyond the conformance suite's client mode.

type echoServer struct {
	h   *gorilla.Handler
	srv *httptest.Server
	url string
}

func startEcho(t *testing.T) *echoServer {
	t.Helper()
	h, err := gorilla.New(func(*websock.Request) (websock.Handler, error) {
		return websock.HandlerFunc(func(f websock.Frame) websock.Result { return websock.Push(f) }), nil
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := &echoServer{h: h, srv: httptest.NewServer(h)}
	s.url = "ws" + strings.TrimPrefix(s.srv.URL, "http") + "/"
	t.Cleanup(s.stop)
	return s
}

func (s *echoServer) stop() {
	s.h.Shutdown(context.Background())
	s.srv.Close()
}

// feed records Inits and reconnects as told.
type feed struct {
	inits chan *websock.ConnInfo
	discs chan websock.Disconnect
	next  func(d websock.Disconnect) websock.Reconnect
}

func newFeed(next func(websock.Disconnect) websock.Reconnect) *feed {
	return &feed{inits: make(chan *websock.ConnInfo, 4), discs: make(chan websock.Disconnect, 4), next: next}
}

func (f *feed) Init(c websock.Conn) websock.Result    { f.inits <- c.Info(); return websock.Result{} }
func (f *feed) HandleIn(websock.Frame) websock.Result { return websock.Result{} }
func (f *feed) HandleInfo(any) websock.Result         { return websock.Result{} }
func (f *feed) Terminate(websock.Reason)              {}
func (f *feed) HandleDisconnect(d websock.Disconnect) websock.Reconnect {
	f.discs <- d
	return f.next(d)
}

func TestClientQueuesWhileDisconnected(t *testing.T) {
	s := startEcho(t)
	f := newFeed(func(websock.Disconnect) websock.Reconnect { return websock.Reconnect{Delay: time.Hour} })
	c, err := gorilla.Dial(context.Background(), s.url, f, &gorilla.DialOptions{Options: adapters.Options{MailboxSize: 2}})
	if err != nil {
		t.Fatal(err)
	}
	<-f.inits
	s.stop() // close 1001; the client waits an hour before it dials again
	<-f.discs
	if c.Connected() {
		t.Error("Connected() is true between connections")
	}
	for i := range 2 {
		if err := c.Send(i); err != nil {
			t.Fatalf("Send %d while disconnected: %v, want it queued", i, err)
		}
	}
	if err := c.Send(2); !errors.Is(err, websock.ErrMailboxFull) {
		t.Fatalf("Send beyond MailboxSize while disconnected: %v, want ErrMailboxFull", err)
	}
	if err := c.Close(websock.CloseCode(1005), ""); !errors.Is(err, websock.ErrInvalidCloseCode) {
		t.Errorf("Close(1005) = %v, want ErrInvalidCloseCode", err)
	}
	if err := c.Close(4005, "enough"); err != nil {
		t.Fatal(err)
	}
	r := c.Wait() // the backoff is cut short
	if r.Kind != websock.KindNormal || r.Code != 4005 {
		t.Errorf("Wait() = %v, want Close's Normal 4005", r)
	}
	if err := c.Send(3); !errors.Is(err, websock.ErrClosed) {
		t.Errorf("Send after Close = %v, want ErrClosed", err)
	}
}

func TestClientReconnectsElsewhere(t *testing.T) {
	a, b := startEcho(t), startEcho(t)
	f := newFeed(func(d websock.Disconnect) websock.Reconnect {
		return websock.Reconnect{URL: b.url, Header: http.Header{"X-Second": {"1"}}, Delay: -1}
	})
	c, err := gorilla.Dial(context.Background(), a.url, f, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Wait()
	defer c.Close(0, "")
	if info := <-f.inits; info.URL.Host != strings.TrimPrefix(a.url[:len(a.url)-1], "ws://") {
		t.Errorf("first connection to %v, want %s", info.URL, a.url)
	}
	a.stop()
	if d := <-f.discs; d.Reason.Kind != websock.KindRemote || d.Reason.Code != websock.CloseGoingAway || d.URL != a.url {
		t.Errorf("HandleDisconnect got %+v, want Remote 1001 (the server shut down), from %s", d, a.url)
	}
	if info := <-f.inits; "ws://"+info.URL.Host+"/" != b.url {
		t.Errorf("reconnected to %v, want %s", info.URL, b.url)
	}
}

func TestDialRefuses(t *testing.T) {
	h := websock.HandlerFunc(func(websock.Frame) websock.Result { return websock.Result{} })
	for _, tc := range []struct {
		url  string
		opts *gorilla.DialOptions
		want string
	}{
		{"ftp://127.0.0.1:1/", nil, "not ws or wss"},
		{"http://127.0.0.1:1/", nil, `scheme "http" is an HTTP scheme; a WebSocket URL starts with ws://`},
		{"https://127.0.0.1:1/", nil, "starts with wss://"},
		{"ws:///path", nil, "no host"},
		{"ws://127.0.0.1:1/", &gorilla.DialOptions{Header: http.Header{"Sec-Websocket-Protocol": {"x"}}}, "Sec-Websocket-Protocol"},
	} {
		_, err := gorilla.Dial(context.Background(), tc.url, h, tc.opts)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Dial(%q) = %v, want an error saying %q", tc.url, err, tc.want)
		}
		if tc.opts == nil && !errors.Is(err, adapters.ErrBadURL) {
			t.Errorf("Dial(%q) = %v, want an error matching adapters.ErrBadURL", tc.url, err)
		}
	}
}

func TestDialTimeout(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		nc, err := ln.Accept() // and never answer the handshake
		if err == nil {
			accepted <- nc
		}
	}()
	h := websock.HandlerFunc(func(websock.Frame) websock.Result { return websock.Result{} })
	_, err = gorilla.Dial(context.Background(), "ws://"+ln.Addr().String()+"/", h, &gorilla.DialOptions{DialTimeout: 50 * time.Millisecond})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Dial to a server that never answers = %v, want an error wrapping context.DeadlineExceeded", err)
	}
	(<-accepted).Close()
}
