package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"go.uber.org/goleak"
)

// dial connects to one of the demo's chat servers as a browser on the
// page's origin would.
func dial(t *testing.T, d *demo, s server, name string) *websocket.Conn {
	t.Helper()
	h := http.Header{"Origin": {strings.TrimSuffix(d.pageURL, "/")}}
	ws, resp, err := websocket.DefaultDialer.Dial(s.URL+"?name="+name, h)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("dialling %s as %s: %v (HTTP %d)", s.Name, name, err, status)
	}
	ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	return ws
}

// next reads events until one of type typ arrives.
func next(t *testing.T, ws *websocket.Conn, typ string) event {
	t.Helper()
	for {
		_, data, err := ws.ReadMessage()
		if err != nil {
			t.Fatalf("waiting for a %q event: %v", typ, err)
		}
		var ev event
		if err := json.Unmarshal(data, &ev); err != nil {
			t.Fatalf("event %q is not JSON: %v", data, err)
		}
		if ev.Type == typ {
			return ev
		}
	}
}

// TestChatOnEveryAdapter connects one client through every adapter: each
// is welcomed by its own server, a message from one reaches all of them
// marked with the server it came through, and shutdown closes every
// client with 1001 and leaves no goroutine behind.
func TestChatOnEveryAdapter(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent(), fasthttpDate)
	d, err := start(config{pageAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.servers) < 5 {
		t.Fatalf("the demo serves %d adapters, want every built-in one: %v", len(d.servers), d.servers)
	}
	clients := map[string]*websocket.Conn{}
	for _, s := range d.servers {
		ws := dial(t, d, s, "u-"+s.Name)
		defer ws.Close()
		if ev := next(t, ws, "welcome"); ev.Server != s.Name || ev.Name != "u-"+s.Name {
			t.Fatalf("welcome on %s = %+v, want server %s and name u-%s", s.Name, ev, s.Name, s.Name)
		}
		clients[s.Name] = ws
	}

	from := d.servers[0]
	say, _ := json.Marshal(command{Type: "say", Text: "hello, every server"})
	if err := clients[from.Name].WriteMessage(websocket.TextMessage, say); err != nil {
		t.Fatal(err)
	}
	for name, ws := range clients {
		ev := next(t, ws, "message")
		if ev.Text != "hello, every server" || ev.Name != "u-"+from.Name || ev.Server != from.Name {
			t.Errorf("client on %s got %+v, want the message from u-%s via %s", name, ev, from.Name, from.Name)
		}
	}

	// Shut down while the clients read, so that they answer the close
	// handshake as browsers do.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- d.shutdown(ctx) }()
	for name, ws := range clients {
		if code := closeCode(t, ws); code != websocket.CloseGoingAway {
			t.Errorf("client on %s got close %d, want 1001 on shutdown", name, code)
		}
	}
	if err := <-done; err != nil {
		t.Fatalf("shutdown: %v", err)
	}
}

// closeCode reads until the server's close frame and returns its code.
// fasthttpDate is the goroutine fasthttp starts, once per process and for
// the life of the process, to keep the Date response header current.
var fasthttpDate = goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.updateServerDate.func1")

func closeCode(t *testing.T, ws *websocket.Conn) int {
	t.Helper()
	for {
		_, _, err := ws.ReadMessage()
		var ce *websocket.CloseError
		if errors.As(err, &ce) {
			return ce.Code
		}
		if err != nil {
			t.Fatalf("reading until the close frame: %v", err)
		}
	}
}

// TestChatRefusesAndCloses checks the AcceptFunc's refusals and the
// close a client gets for a message that is not a chat command.
func TestChatRefusesAndCloses(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent(), fasthttpDate)
	d, err := start(config{pageAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer d.shutdown(context.Background())
	s := d.servers[0]

	for _, tc := range []struct {
		what, url, origin string
		status            int
	}{
		{"no name", s.URL, d.pageURL, http.StatusBadRequest},
		{"a name too long", s.URL + "?name=" + strings.Repeat("x", maxNameLen+1), d.pageURL, http.StatusBadRequest},
		{"another site's page", s.URL + "?name=eve", "http://elsewhere.test", http.StatusForbidden},
	} {
		h := http.Header{"Origin": {strings.TrimSuffix(tc.origin, "/")}}
		ws, resp, err := websocket.DefaultDialer.Dial(tc.url, h)
		if err == nil {
			ws.Close()
			t.Errorf("%s: upgrade accepted, want HTTP %d", tc.what, tc.status)
			continue
		}
		if resp == nil || resp.StatusCode != tc.status {
			t.Errorf("%s: %v, want HTTP %d", tc.what, err, tc.status)
		}
	}

	ws := dial(t, d, s, "bin")
	defer ws.Close()
	if err := ws.WriteMessage(websocket.BinaryMessage, []byte{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	if code := closeCode(t, ws); code != websocket.CloseUnsupportedData {
		t.Errorf("binary message: close %d, want 1003", code)
	}
}

// TestCounters checks that /counters and /metrics count, per adapter, what
// one client did: a connection, a message in, and the close once it left.
func TestCounters(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent(), fasthttpDate)
	d, err := start(config{pageAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer d.shutdown(context.Background())
	s := d.servers[len(d.servers)-1]
	ws := dial(t, d, s, "counted")
	defer ws.Close()
	next(t, ws, "welcome")
	say, _ := json.Marshal(command{Type: "say", Text: "count me"})
	if err := ws.WriteMessage(websocket.TextMessage, say); err != nil {
		t.Fatal(err)
	}
	next(t, ws, "message")

	rows := getCounters(t, d)
	if len(rows) != len(d.servers)+1 {
		t.Fatalf("/counters has %d rows; want one per adapter and one for the long-poll fallback, %d", len(rows), len(d.servers)+1)
	}
	for _, r := range rows {
		want := counters{Adapter: r.Adapter}
		if r.Adapter == s.Name {
			want.Live, want.In = 1, 1
			// A frame is counted once written, and the client may read it
			// first: of the welcome, the presence and the message, only the
			// welcome, pushed by Init before the say was read, is surely
			// counted.
			want.Out = r.Out
			if r.Out < 1 {
				t.Errorf("%s: %v messages out; want at least 1, the welcome", r.Adapter, r.Out)
			}
		}
		if r != want {
			t.Errorf("/counters row %+v; want %+v", r, want)
		}
	}
	metrics := httpGet(t, d.pageURL+"metrics")
	if want := `websock_messages_total{adapter="` + s.Name + `",direction="in",type="text"} 1`; !strings.Contains(metrics, want) {
		t.Errorf("/metrics lacks %s", want)
	}

	ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""))
	if code := closeCode(t, ws); code != websocket.CloseNormalClosure {
		t.Fatalf("close answered with %d; want 1000", code)
	}
	// The server counts the close once the connection's Terminate ran;
	// Shutdown returns only after that.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, srv := range d.running {
		if err := srv.Shutdown(ctx); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range getCounters(t, d) {
		if r.Adapter == s.Name && (r.Live != 0 || r.Closes != 1) {
			t.Errorf("after the client left: %+v; want no live connection and one close", r)
		}
	}
}

func getCounters(t *testing.T, d *demo) []counters {
	t.Helper()
	var rows []counters
	if err := json.Unmarshal([]byte(httpGet(t, d.pageURL+"counters")), &rows); err != nil {
		t.Fatal(err)
	}
	return rows
}

func httpGet(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	return string(body)
}

// TestLimitFlags checks that -origin lets in the origins it lists besides
// the page's own, and that -max-connections caps every adapter: one
// connection over the cap gets 503.
func TestLimitFlags(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent(), fasthttpDate)
	cfg := config{pageAddr: "127.0.0.1:0"}
	cfg.limits.Origins, cfg.limits.MaxConnections = []string{"https://*.partner.example"}, 1
	d, err := start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer d.shutdown(context.Background())
	s := d.servers[0]
	ws, _, err := websocket.DefaultDialer.Dial(s.URL+"?name=ann", http.Header{"Origin": {"https://app.partner.example"}})
	if err != nil {
		t.Fatalf("an origin -origin lists was refused: %v", err)
	}
	defer ws.Close()
	next(t, ws, "welcome")
	h := http.Header{"Origin": {strings.TrimSuffix(d.pageURL, "/")}}
	ws2, resp, err := websocket.DefaultDialer.Dial(s.URL+"?name=bob", h)
	if err == nil {
		ws2.Close()
		t.Fatal("a second connection under -max-connections 1 was accepted")
	}
	if resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("a second connection under -max-connections 1: %v; want 503", err)
	}
}
