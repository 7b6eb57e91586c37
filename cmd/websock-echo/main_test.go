package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/websock-go/websock/cmd/internal/builtin"
	"github.com/websock-go/websock/conformance"
)

// syncBuffer is a bytes.Buffer safe for the server goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestEchoEveryAdapter(t *testing.T) {
	for _, name := range builtin.Names() {
		t.Run(name, func(t *testing.T) {
			out := &syncBuffer{}
			stop := make(chan struct{})
			done := make(chan error, 1)
			go func() {
				done <- run([]string{"-adapter", name, "-addr", "127.0.0.1:0", "-debug", "127.0.0.1:0"}, out, io.Discard, stop)
			}()
			urlRE := regexp.MustCompile(`listening on ((?:ws|http)://\S+)`)
			dbgRE := regexp.MustCompile(`on (http://\S+/debug/)`)
			var url, dbg string
			for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
				if m, d := urlRE.FindStringSubmatch(out.String()), dbgRE.FindStringSubmatch(out.String()); m != nil && d != nil {
					url, dbg = m[1], d[1]
					break
				}
			}
			if url == "" {
				t.Fatalf("no URL printed; output: %q", out.String())
			}
			// A browser on the server's own origin is let in by default.
			hdr := http.Header{"Origin": {"http://" + strings.TrimSuffix(url[strings.Index(url, "://")+3:], "/")}}
			dialer := websocket.DefaultDialer
			if strings.HasPrefix(url, "http://") {
				// Long-poll: the conformance suite's long-poll client
				// carries the WebSocket client's connection.
				longPoll := conformance.LongPollDial(url)
				dialer = &websocket.Dialer{NetDialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
					return longPoll(ctx)
				}}
				url = "ws" + strings.TrimPrefix(url, "http")
			}
			c, _, err := dialer.Dial(url, hdr)
			if err != nil {
				t.Fatalf("dial %s: %v", url, err)
			}
			defer c.Close()
			for _, m := range []struct {
				typ  int
				data string
			}{{websocket.TextMessage, "hello"}, {websocket.BinaryMessage, "\x00\x01"}} {
				c.WriteMessage(m.typ, []byte(m.data))
				typ, got, err := c.ReadMessage()
				if err != nil || typ != m.typ || string(got) != m.data {
					t.Fatalf("echo: %v %q %v; want %v %q", typ, got, err, m.typ, m.data)
				}
			}
			resp, err := http.Get(dbg + "vars")
			if err != nil {
				t.Fatalf("expvar: %v", err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if !strings.Contains(string(body), `"websock_live_connections": 1`) {
				t.Errorf("expvar does not show one live connection: %s", body)
			}
			metrics := get(t, strings.TrimSuffix(dbg, "debug/")+"metrics")
			for _, want := range []string{
				`websock_connections{adapter="` + name + `"} 1`,
				`websock_upgrades_total{adapter="` + name + `",outcome="accepted"} 1`,
				`websock_messages_total{adapter="` + name + `",direction="in",type="text"} 1`,
				// A message is counted as it arrives, before HandleIn runs
				// (the echo's count comes once written: the client may read
				// it first).
				`websock_messages_total{adapter="` + name + `",direction="in",type="binary"} 1`,
				`websock_message_bytes_total{adapter="` + name + `",direction="in",type="text"} 5`,
				"go_goroutines ",
			} {
				if !strings.Contains(metrics, want) {
					t.Errorf("/metrics lacks %s", want)
				}
			}

			close(stop)
			_, _, err = c.ReadMessage()
			if !websocket.IsCloseError(err, websocket.CloseGoingAway) {
				t.Errorf("after shutdown the client got %v; want close 1001", err)
			}
			if err := <-done; err != nil {
				t.Errorf("run: %v", err)
			}
		})
	}
}

// serveEcho runs websock-echo with args on gorilla until the test ends and
// returns its URL.
func serveEcho(t *testing.T, args ...string) string {
	t.Helper()
	out := &syncBuffer{}
	stop := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- run(append([]string{"-adapter", "gorilla", "-addr", "127.0.0.1:0"}, args...), out, io.Discard, stop)
	}()
	t.Cleanup(func() {
		close(stop)
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	})
	urlRE := regexp.MustCompile(`listening on (ws://\S+)`)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if m := urlRE.FindStringSubmatch(out.String()); m != nil {
			return m[1]
		}
	}
	t.Fatalf("no URL printed; output: %q", out.String())
	return ""
}

// TestOriginPolicy checks that websock-echo keeps the library's origin
// policy, same origin only, unless -origin widens it, and that an empty
// -origin is that default, not "any".
func TestOriginPolicy(t *testing.T) {
	for _, tc := range []struct {
		args []string
		evil bool // whether https://evil.example may connect
	}{
		{nil, false},
		{[]string{"-origin", ""}, false},
		{[]string{"-origin", " , "}, false},
		{[]string{"-origin", "https://app.example"}, false},
		{[]string{"-origin", "https://app.example,https://evil.example"}, true},
		{[]string{"-origin", "*"}, true},
	} {
		t.Run(strings.Join(append([]string{"args"}, tc.args...), " "), func(t *testing.T) {
			url := serveEcho(t, tc.args...)
			c, resp, err := websocket.DefaultDialer.Dial(url, http.Header{"Origin": {"https://evil.example"}})
			if err == nil {
				c.Close()
			}
			switch {
			case tc.evil && err != nil:
				t.Errorf("Origin https://evil.example refused (%v); want it let in", err)
			case !tc.evil && (resp == nil || resp.StatusCode != http.StatusForbidden):
				t.Errorf("Origin https://evil.example: %v; want 403", err)
			}
			if len(tc.args) == 0 {
				// No Origin: not a browser, always let in.
				c, _, err := websocket.DefaultDialer.Dial(url, nil)
				if err != nil {
					t.Fatalf("a client with no Origin refused: %v", err)
				}
				c.Close()
			}
		})
	}
}

// get returns the body of a GET of url.
func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	return string(body)
}

func TestUnknownAdapter(t *testing.T) {
	err := run([]string{"-adapter", "nope"}, io.Discard, io.Discard, nil)
	if err == nil || !strings.Contains(err.Error(), "gorilla") {
		t.Fatalf("unknown adapter: %v; want an error listing the valid names", err)
	}
}

// With -restart, stopping closes with 1012; -drain-batch paces it.
func TestRestartDrain(t *testing.T) {
	out := &syncBuffer{}
	stop := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- run([]string{"-addr", "127.0.0.1:0", "-restart", "-drain-batch", "1", "-drain-interval", "10ms"}, out, io.Discard, stop)
	}()
	urlRE := regexp.MustCompile(`listening on (ws://\S+)`)
	var url string
	for deadline := time.Now().Add(10 * time.Second); url == "" && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if m := urlRE.FindStringSubmatch(out.String()); m != nil {
			url = m[1]
		}
	}
	if url == "" {
		t.Fatalf("no URL printed; output: %q", out.String())
	}
	var clients []*websocket.Conn
	for range 2 {
		c, _, err := websocket.DefaultDialer.Dial(url, nil)
		if err != nil {
			t.Fatalf("dial %s: %v", url, err)
		}
		defer c.Close()
		c.WriteMessage(websocket.TextMessage, []byte("hi"))
		if _, _, err := c.ReadMessage(); err != nil {
			t.Fatal(err)
		}
		clients = append(clients, c)
	}
	close(stop)
	for _, c := range clients {
		if _, _, err := c.ReadMessage(); !websocket.IsCloseError(err, websocket.CloseServiceRestart) {
			t.Errorf("after a -restart stop the client got %v; want close 1012", err)
		}
	}
	if err := <-done; err != nil {
		t.Errorf("run: %v", err)
	}
	if !strings.Contains(out.String(), "draining 2 connections with 1012") {
		t.Errorf("output does not say how it drains: %q", out.String())
	}
}
