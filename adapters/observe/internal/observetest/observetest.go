// Package observetest runs one scenario over a real loopback server, so
// that the tests of every Observer in adapters/observe check the same
// events.
package observetest

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	gorillaws "github.com/gorilla/websocket"

	"github.com/websock-go/websock/adapters"
	"github.com/websock-go/websock/adapters/gorilla"
	"github.com/websock-go/websock/websock"
)

// Adapter is the name the scenario's events carry.
const Adapter = "gorilla"

// What the scenario does, for the tests to assert on. Two connections are
// accepted: the first sends Text and Binary, which are echoed, and
// closes with 1000; the second sends Boom, whose HandleIn panics, and
// answers the server's 1011. One upgrade is refused for its origin (403).
// Then the server shuts down, with no connection left.
const (
	Text   = "hello"
	Boom   = "x"
	Binary = "\x01\x02\x03"
)

// Run runs the scenario on the gorilla adapter with obs as its Observer,
// and returns once the server has shut down: every event has been
// reported by then.
func Run(t *testing.T, obs adapters.Observer) {
	t.Helper()
	accept := func(r *websock.Request) (websock.Handler, error) {
		if r.URL.Path == "/panic" {
			return websock.HandlerFunc(func(websock.Frame) websock.Result { panic("boom") }), nil
		}
		return websock.HandlerFunc(func(f websock.Frame) websock.Result { return websock.Push(f) }), nil
	}
	h, err := gorilla.New(accept, &gorilla.Options{Observer: obs, Logger: quiet(), CloseTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	url := "ws" + strings.TrimPrefix(srv.URL, "http")

	c, _, err := gorillaws.DefaultDialer.Dial(url+"/echo", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	roundTrip(t, c, gorillaws.TextMessage, Text)
	roundTrip(t, c, gorillaws.BinaryMessage, Binary)
	c.WriteMessage(gorillaws.CloseMessage, gorillaws.FormatCloseMessage(1000, ""))
	if _, _, err := c.ReadMessage(); !gorillaws.IsCloseError(err, 1000) {
		t.Fatalf("reading the close echo: %v; want close 1000", err)
	}
	waitEnded(t, h)

	_, resp, err := gorillaws.DefaultDialer.Dial(url+"/echo", http.Header{"Origin": {"https://evil.example"}})
	if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-origin dial: %v; want 403", err)
	}

	p, _, err := gorillaws.DefaultDialer.Dial(url+"/panic", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	p.WriteMessage(gorillaws.TextMessage, []byte(Boom))
	if _, _, err := p.ReadMessage(); !gorillaws.IsCloseError(err, 1011) { // gorilla answers the close itself
		t.Fatalf("reading after the panic: %v; want close 1011", err)
	}
	waitEnded(t, h)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := h.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
}

// waitEnded waits until h runs no connection, so that the events come in
// the order the scenario says: the engine reports End before it forgets
// a connection.
func waitEnded(t *testing.T, h *gorilla.Handler) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); h.Live() > 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("a connection was still running 10s after its client closed")
		}
	}
}

func roundTrip(t *testing.T, c *gorillaws.Conn, typ int, msg string) {
	t.Helper()
	if err := c.WriteMessage(typ, []byte(msg)); err != nil {
		t.Fatal(err)
	}
	gotType, got, err := c.ReadMessage()
	if err != nil || gotType != typ || string(got) != msg {
		t.Fatalf("echo: %d %q %v; want %d %q", gotType, got, err, typ, msg)
	}
}

// quiet is a logger for the panic the scenario provokes on purpose.
func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

// Families are the metric families every metrics Observer exports, by a
// name of its own that each package maps to its metric's name. The
// histograms are apart: OpenTelemetry has no way to make a histogram's
// series exist without recording a value.
var (
	Families   = []string{"connections", "upgrades", "closes", "messages", "message_bytes", "mailbox_full", "slow_consumer_disconnects", "panics", "timeouts", "drain_connections"}
	Histograms = []string{"connection_duration", "mailbox_peak_depth"}
)

// Series is one series an Observer must make exist, at zero, for an
// adapter before any event: its family (as in Families and Histograms)
// and its labels, as "k=v,..." sorted by name.
type Series struct{ Family, Labels string }

// Known returns every series that an Observer must make exist for
// adapter once it knows of the adapter, each label value written out
// here rather than taken from the Observers' own lists.
func Known(adapter string) []Series {
	a := "adapter=" + adapter
	ss := []Series{{"connections", a}, {"drain_connections", a}, {"mailbox_full", a}, {"slow_consumer_disconnects", a},
		{"connection_duration", a}, {"mailbox_peak_depth", a}}
	for _, out := range []string{"accepted", "handshake", "origin", "subprotocol", "refused", "accept_error",
		"shutdown", "connection_cap", "rate_limit", "upgrade_failed"} {
		ss = append(ss, Series{"upgrades", a + ",outcome=" + out})
	}
	for _, c := range []string{"1000,kind=normal", "1000,kind=remote", "1001,kind=remote", "1005,kind=remote",
		"1001,kind=shutdown", "1012,kind=shutdown", "1001,kind=timeout", "1006,kind=timeout", "1002,kind=error",
		"1006,kind=error", "1007,kind=error", "1009,kind=error", "1011,kind=error", "1013,kind=error"} {
		ss = append(ss, Series{"closes", a + ",code=" + c})
	}
	for _, dir := range []string{"in", "out"} {
		for _, typ := range []string{"text", "binary", "ping", "pong", "close"} {
			ss = append(ss, Series{"messages", a + ",direction=" + dir + ",type=" + typ},
				Series{"message_bytes", a + ",direction=" + dir + ",type=" + typ})
		}
	}
	for _, cb := range []string{"Init", "HandleIn", "HandleInfo", "HandleControl", "Terminate"} {
		ss = append(ss, Series{"panics", a + ",callback=" + cb})
	}
	for _, to := range []string{"idle", "pong", "write"} {
		ss = append(ss, Series{"timeouts", a + ",timeout=" + to})
	}
	return ss
}
