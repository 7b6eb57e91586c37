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
websock_closes_total{adapter="gorilla",code="1000",kind="normal"} 0
websock_closes_total{adapter="gorilla",code="1000",kind="remote"} 1
websock_closes_total{adapter="gorilla",code="1001",kind="remote"} 0
websock_closes_total{adapter="gorilla",code="1001",kind="shutdown"} 0
websock_closes_total{adapter="gorilla",code="1001",kind="timeout"} 0
websock_closes_total{adapter="gorilla",code="1002",kind="error"} 0
websock_closes_total{adapter="gorilla",code="1005",kind="remote"} 0
websock_closes_total{adapter="gorilla",code="1006",kind="error"} 0
websock_closes_total{adapter="gorilla",code="1006",kind="timeout"} 0
websock_closes_total{adapter="gorilla",code="1007",kind="error"} 0
websock_closes_total{adapter="gorilla",code="1009",kind="error"} 0
websock_closes_total{adapter="gorilla",code="1011",kind="error"} 1
websock_closes_total{adapter="gorilla",code="1012",kind="shutdown"} 0
websock_closes_total{adapter="gorilla",code="1013",kind="error"} 0
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

// names maps the families of observetest to the metrics' names.
var names = map[string]string{
	"connections":               "websock_connections",
	"upgrades":                  "websock_upgrades_total",
	"closes":                    "websock_closes_total",
	"messages":                  "websock_messages_total",
	"message_bytes":             "websock_message_bytes_total",
	"mailbox_full":              "websock_mailbox_full_total",
	"slow_consumer_disconnects": "websock_slow_consumer_disconnects_total",
	"panics":                    "websock_panics_total",
	"timeouts":                  "websock_timeouts_total",
	"drain_connections":         "websock_drain_connections",
	"connection_duration":       "websock_connection_duration_seconds",
	"mailbox_peak_depth":        "websock_mailbox_peak_depth",
}

// TestSeriesFromTheStart checks that an engine made with the Observer
// makes every family exist, with every series its adapter can be known
// to have at zero, before any event, so that alerts need no
// "or vector(0)".
func TestSeriesFromTheStart(t *testing.T) {
	reg := prometheus.NewRegistry()
	obs, err := promobs.New(reg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := adapters.NewEngine(adapters.Adapter{Name: "fresh"}, nil, &adapters.Options{Observer: obs}); err != nil {
		t.Fatal(err)
	}
	got := gather(t, reg)
	for _, f := range append(observetest.Families, observetest.Histograms...) {
		name := names[f]
		series, ok := got[name]
		if !ok {
			t.Errorf("%s absent before any event; want it at zero", name)
			continue
		}
		for labels, v := range series {
			if v != "0" {
				t.Errorf("%s{%s} = %s before any event; want 0", name, labels, v)
			}
		}
	}
	for _, s := range observetest.Known("fresh") {
		if _, ok := got[names[s.Family]][s.Labels]; !ok {
			t.Errorf("%s{%s} absent before any event; want 0", names[s.Family], s.Labels)
		}
	}
}

// TestSeriesFromAnEvent checks that an adapter the Observer first hears
// of in an event, with no Attach, gets every series too, and that a
// second Attach leaves the values as they are.
func TestSeriesFromAnEvent(t *testing.T) {
	reg := prometheus.NewRegistry()
	obs, err := promobs.New(reg)
	if err != nil {
		t.Fatal(err)
	}
	obs.Drain(adapters.DrainEvent{Adapter: "late", Left: 3})
	obs.Attach("late")
	got := gather(t, reg)
	for _, s := range observetest.Known("late") {
		want := "0"
		if s.Family == "drain_connections" {
			want = "3"
		}
		if v, ok := got[names[s.Family]][s.Labels]; !ok || v != want {
			t.Errorf("%s{%s} = %q after a Drain event; want %s", names[s.Family], s.Labels, v, want)
		}
	}
}

// gather returns every series of reg, by metric name and then labels (as
// "k=v,..." sorted by name), with its value: a histogram's is its count.
func gather(t *testing.T, reg *prometheus.Registry) map[string]map[string]string {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]map[string]string{}
	for _, f := range families {
		series := map[string]string{}
		for _, m := range f.GetMetric() {
			var ls []string
			for _, l := range m.GetLabel() {
				ls = append(ls, l.GetName()+"="+l.GetValue())
			}
			var v string
			switch {
			case m.GetHistogram() != nil:
				v = fmt.Sprint(m.GetHistogram().GetSampleCount())
			case m.GetCounter() != nil:
				v = fmt.Sprint(m.GetCounter().GetValue())
			case m.GetGauge() != nil:
				v = fmt.Sprint(m.GetGauge().GetValue())
			default:
				t.Errorf("%s has a metric of type %v", f.GetName(), f.GetType())
			}
			series[strings.Join(ls, ",")] = v
		}
		got[f.GetName()] = series
	}
	return got
}
