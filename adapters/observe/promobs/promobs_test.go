package promobs_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/goleak"

	"github.com/websock-go/websock/adapters"
	"github.com/websock-go/websock/adapters/observe/internal/observetest"
	"github.com/websock-go/websock/adapters/observe/promobs"
	"github.com/websock-go/websock/websock"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestScenario checks the metrics the scenario must leave.
func TestScenario(t *testing.T) {
	reg := prometheus.NewRegistry()
	obs, err := promobs.New(reg)
	if err != nil {
		t.Fatal(err)
	}
	observetest.Run(t, obs)

	a := observetest.Adapter
	want := `
# HELP websock_connections WebSocket connections running now.
# TYPE websock_connections gauge
websock_connections{adapter="gorilla"} 0
# HELP websock_upgrades_total WebSocket upgrade requests, by outcome: accepted, or why they were refused.
# TYPE websock_upgrades_total counter
websock_upgrades_total{adapter="gorilla",outcome="accept_error"} 0
websock_upgrades_total{adapter="gorilla",outcome="accepted"} 2
websock_upgrades_total{adapter="gorilla",outcome="connection_cap"} 0
websock_upgrades_total{adapter="gorilla",outcome="handshake"} 0
websock_upgrades_total{adapter="gorilla",outcome="origin"} 1
websock_upgrades_total{adapter="gorilla",outcome="rate_limit"} 0
websock_upgrades_total{adapter="gorilla",outcome="refused"} 0
websock_upgrades_total{adapter="gorilla",outcome="shutdown"} 0
websock_upgrades_total{adapter="gorilla",outcome="subprotocol"} 0
websock_upgrades_total{adapter="gorilla",outcome="upgrade_failed"} 0
# HELP websock_closes_total WebSocket connections ended, by kind of ending and close code (sent, or received for kind remote).
# TYPE websock_closes_total counter
websock_closes_total{adapter="gorilla",code="1000",kind="remote"} 1
websock_closes_total{adapter="gorilla",code="1011",kind="error"} 1
# HELP websock_panics_total Handler panics recovered, by callback.
# TYPE websock_panics_total counter
websock_panics_total{adapter="gorilla",callback="HandleControl"} 0
websock_panics_total{adapter="gorilla",callback="HandleIn"} 1
websock_panics_total{adapter="gorilla",callback="HandleInfo"} 0
websock_panics_total{adapter="gorilla",callback="Init"} 0
websock_panics_total{adapter="gorilla",callback="Terminate"} 0
# HELP websock_drain_connections Connections left to close in a Shutdown or Restart; 0 when none is under way.
# TYPE websock_drain_connections gauge
websock_drain_connections{adapter="gorilla"} 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "websock_connections", "websock_upgrades_total",
		"websock_closes_total", "websock_panics_total", "websock_drain_connections"); err != nil {
		t.Error(err)
	}

	text, binary := float64(len(observetest.Text)), float64(len(observetest.Binary))
	for _, c := range []struct {
		dir, typ      string
		count, nbytes float64
	}{
		{"in", "text", 2, text + float64(len(observetest.Boom))}, {"out", "text", 1, text},
		{"in", "binary", 1, binary}, {"out", "binary", 1, binary},
		{"in", "close", 2, 2 + 2}, {"out", "close", 2, 2 + float64(2+len("internal error"))},
		{"in", "ping", 0, 0}, {"out", "pong", 0, 0},
	} {
		got := counter(t, reg, "websock_messages_total", a, c.dir, c.typ)
		gotBytes := counter(t, reg, "websock_message_bytes_total", a, c.dir, c.typ)
		if got != c.count || gotBytes != c.nbytes {
			t.Errorf("%s %s: %v messages, %v bytes; want %v and %v", c.dir, c.typ, got, gotBytes, c.count, c.nbytes)
		}
	}
	if n := testutil.CollectAndCount(obs, "websock_connection_duration_seconds"); n != 1 {
		t.Errorf("%d duration histograms; want 1, for gorilla", n)
	}
	if got := histogramCount(t, reg, "websock_connection_duration_seconds"); got != 2 {
		t.Errorf("duration histogram counts %d connections; want 2", got)
	}
}

// counter returns the value of the counter name with the label values
// labels, in the order of the label names.
func counter(t *testing.T, reg *prometheus.Registry, name string, labels ...string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			var vals []string
			for _, lp := range m.GetLabel() {
				vals = append(vals, lp.GetValue())
			}
			// Labels are sorted by name: adapter, direction, type.
			if strings.Join(vals, ",") == strings.Join(labels, ",") {
				return m.GetCounter().GetValue()
			}
		}
	}
	t.Fatalf("no series %s%q", name, labels)
	return 0
}

func histogramCount(t *testing.T, reg *prometheus.Registry, name string) uint64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.GetMetric()) == 1 {
			return mf.GetMetric()[0].GetHistogram().GetSampleCount()
		}
	}
	t.Fatalf("no histogram %s", name)
	return 0
}

// TestCodeLabel checks that close codes map to a bounded set of labels.
func TestCodeLabel(t *testing.T) {
	for code, want := range map[websock.CloseCode]string{1000: "1000", 1011: "1011", 1015: "1015", 1016: "other",
		999: "other", 3000: "3xxx", 3999: "3xxx", 4000: "4xxx", 4999: "4xxx", 5000: "other", 0: "other"} {
		if got := promobs.CodeLabel(code); got != want {
			t.Errorf("CodeLabel(%d) = %q; want %q", code, got, want)
		}
	}
}

// TestRegisterTwice checks that a second Observer on one registry is
// refused, not silently split.
func TestRegisterTwice(t *testing.T) {
	reg := prometheus.NewRegistry()
	if _, err := promobs.New(reg); err != nil {
		t.Fatal(err)
	}
	if _, err := promobs.New(reg); err == nil {
		t.Error("a second Observer registered on the same registry; want an error")
	}
}

// BenchmarkMessage is what a message costs the Prometheus Observer: two
// counters found without a lookup, and no allocation.
func BenchmarkMessage(b *testing.B) {
	obs, err := promobs.New(prometheus.NewRegistry())
	if err != nil {
		b.Fatal(err)
	}
	ev := adapters.MessageEvent{Adapter: "bench", Direction: adapters.In, Op: websock.OpText, Bytes: 1024}
	b.ReportAllocs()
	for b.Loop() {
		obs.Message(ev)
	}
}

// TestSeriesFromTheStart checks that an engine made with the Observer
// makes its adapter's series exist at zero before any event, so that
// alerts need no "or vector(0)".
func TestSeriesFromTheStart(t *testing.T) {
	reg := prometheus.NewRegistry()
	obs, err := promobs.New(reg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := adapters.NewEngine(adapters.Adapter{Name: "fresh"}, nil, &adapters.Options{Observer: obs}); err != nil {
		t.Fatal(err)
	}
	for _, series := range []string{
		`websock_connections{adapter="fresh"}`,
		`websock_drain_connections{adapter="fresh"}`,
		`websock_upgrades_total{adapter="fresh",outcome="accepted"}`,
		`websock_upgrades_total{adapter="fresh",outcome="accept_error"}`,
		`websock_upgrades_total{adapter="fresh",outcome="connection_cap"}`,
		`websock_panics_total{adapter="fresh",callback="HandleIn"}`,
		`websock_timeouts_total{adapter="fresh",timeout="idle"}`,
		`websock_mailbox_full_total{adapter="fresh"}`,
		`websock_slow_consumer_disconnects_total{adapter="fresh"}`,
		`websock_messages_total{adapter="fresh",direction="in",type="text"}`,
		`websock_connection_duration_seconds_count{adapter="fresh"}`,
	} {
		name, labels, _ := strings.Cut(strings.TrimSuffix(series, "}"), "{")
		if got := seriesValue(t, reg, name, labels); got != "0" {
			t.Errorf("%s = %s before any event; want 0", series, got)
		}
	}
}

// seriesValue returns the value of the series of metric name with labels
// (as `a="b",c="d"`, sorted), or "absent".
func seriesValue(t *testing.T, reg *prometheus.Registry, name, labels string) string {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	base, suffix := name, ""
	if b, ok := strings.CutSuffix(name, "_count"); ok {
		base, suffix = b, "_count"
	}
	for _, f := range families {
		if f.GetName() != base {
			continue
		}
		for _, m := range f.GetMetric() {
			var ls []string
			for _, l := range m.GetLabel() {
				ls = append(ls, l.GetName()+`="`+l.GetValue()+`"`)
			}
			if strings.Join(ls, ",") != labels {
				continue
			}
			switch {
			case suffix == "_count" && m.GetHistogram() != nil:
				return fmt.Sprint(m.GetHistogram().GetSampleCount())
			case m.GetCounter() != nil:
				return fmt.Sprint(m.GetCounter().GetValue())
			case m.GetGauge() != nil:
				return fmt.Sprint(m.GetGauge().GetValue())
			}
		}
	}
	return "absent"
}
