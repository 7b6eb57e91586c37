package slogobs_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	gorillaws "github.com/gorilla/websocket"
	"go.uber.org/goleak"

	"github.com/websock-go/websock/adapters/gorilla"
	"github.com/websock-go/websock/adapters/observe/internal/observetest"
	"github.com/websock-go/websock/adapters/observe/slogobs"
	"github.com/websock-go/websock/websock"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// lockedBuffer is a bytes.Buffer the connections' goroutines may write to
// at once.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// lines returns the JSON lines logged, each decoded.
func (l *lockedBuffer) lines(t *testing.T) []map[string]any {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(l.b.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("line %q is not JSON: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

// TestScenario checks the lines of the scenario: their messages, levels
// and keys.
func TestScenario(t *testing.T) {
	var buf lockedBuffer
	obs := slogobs.New(slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	observetest.Run(t, obs)

	var got []string
	var ends []map[string]any
	for _, m := range buf.lines(t) {
		if m["adapter"] != observetest.Adapter {
			t.Errorf("line %v: adapter %v; want %s", m, m["adapter"], observetest.Adapter)
		}
		key := m["level"].(string) + " " + m["msg"].(string)
		switch m["msg"] {
		case "websocket upgrade refused":
			key += " " + m["outcome"].(string)
			if m["status"] != 403.0 || m["path"] != "/echo" {
				t.Errorf("refusal %v; want status 403, path /echo", m)
			}
		case "websocket drain":
			key += " " + m["phase"].(string)
		case "websocket panic":
			if m["callback"] != "HandleIn" || m["panic"] != "boom" || !strings.Contains(m["stack"].(string), "goroutine") {
				t.Errorf("panic line %v; want callback HandleIn, panic boom and the stack", m)
			}
		case "websocket end":
			ends = append(ends, m)
		}
		got = append(got, key)
	}
	want := []string{
		"DEBUG websocket upgrade", "DEBUG websocket start", "INFO websocket end",
		"INFO websocket upgrade refused origin",
		"DEBUG websocket upgrade", "DEBUG websocket start", "ERROR websocket panic", "WARN websocket end",
		"INFO websocket drain begin", "INFO websocket drain done",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("lines:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	echo, boom := ends[0], ends[1]
	for k, v := range map[string]any{"kind": "remote", "code": 1000.0, "sent": 1000.0, "received": 1000.0, "path": "/echo"} {
		if echo[k] != v {
			t.Errorf("end of the echo connection: %s = %v; want %v (line %v)", k, echo[k], v, echo)
		}
	}
	in, out := echo["in"].(map[string]any), echo["out"].(map[string]any)
	for k, v := range map[string]float64{"text": 1, "text_bytes": float64(len(observetest.Text)), "binary": 1,
		"binary_bytes": float64(len(observetest.Binary)), "close": 1, "ping": 0} {
		if in[k] != v || out[k] != v {
			t.Errorf("in.%s = %v, out.%s = %v; want %v each", k, in[k], k, out[k], v)
		}
	}
	for k, v := range map[string]any{"kind": "error", "code": 1011.0, "sent": 1011.0, "received": 1011.0, "path": "/panic"} {
		if boom[k] != v {
			t.Errorf("end of the panicking connection: %s = %v; want %v (line %v)", k, boom[k], v, boom)
		}
	}
	if _, ok := boom["err"]; !ok {
		t.Errorf("end of the panicking connection has no err: %v", boom)
	}
}

// TestLevels checks that a logger at Info writes no Debug line, and
// that what it writes is the same.
func TestLevels(t *testing.T) {
	var buf lockedBuffer
	observetest.Run(t, slogobs.New(slog.New(slog.NewJSONHandler(&buf, nil))))
	for _, m := range buf.lines(t) {
		if m["level"] == "DEBUG" {
			t.Errorf("a Debug line at level Info: %v", m)
		}
	}
}

// TestOneLinePerFailure checks that with the engine's Logger and the
// Observer on one logger, an AcceptFunc that fails is logged once, at
// Error, as "accept_error", and a deliberate refusal at Info as
// "refused".
func TestOneLinePerFailure(t *testing.T) {
	var buf lockedBuffer
	l := slog.New(slog.NewJSONHandler(&buf, nil))
	accept := func(r *websock.Request) (websock.Handler, error) {
		if r.URL.Query().Has("refuse") {
			return nil, websock.Refuse(http.StatusUnauthorized, "no token\n")
		}
		return nil, errors.New("backend down")
	}
	h, err := gorilla.New(accept, &gorilla.Options{Observer: slogobs.New(l), Logger: l})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	url := "ws" + strings.TrimPrefix(srv.URL, "http")
	for q, status := range map[string]int{"?fail": http.StatusInternalServerError, "?refuse": http.StatusUnauthorized} {
		c, resp, err := gorillaws.DefaultDialer.Dial(url+q, nil)
		if err == nil {
			c.Close()
		}
		if resp == nil || resp.StatusCode != status {
			t.Fatalf("upgrade %s: %v; want %d", q, err, status)
		}
	}
	var errLines, got []string
	for _, m := range buf.lines(t) {
		got = append(got, fmt.Sprint(m["level"], " ", m["msg"], " ", m["outcome"]))
		if m["level"] == "ERROR" {
			errLines = append(errLines, fmt.Sprint(m))
		}
	}
	slices.Sort(got)
	if want := []string{"ERROR websocket upgrade refused accept_error", "INFO websocket upgrade refused refused"}; !slices.Equal(got, want) {
		t.Errorf("lines %q; want %q", got, want)
	}
	if len(errLines) != 1 {
		t.Errorf("a failing AcceptFunc logged %d ERROR lines with the Logger and the Observer on one logger; want 1:\n%s", len(errLines), strings.Join(errLines, "\n"))
	}
}
