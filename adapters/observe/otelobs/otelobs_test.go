package otelobs_test

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.uber.org/goleak"

	"github.com/websock-go/websock/adapters"
	"github.com/websock-go/websock/adapters/observe/internal/observetest"
	"github.com/websock-go/websock/adapters/observe/otelobs"
	"github.com/websock-go/websock/websock"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// newObserver returns an Observer on a real MeterProvider, shut down when
// the test ends, and the reader that collects from it.
func newObserver(t *testing.T) (*otelobs.Observer, *sdkmetric.ManualReader) {
	t.Helper()
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { mp.Shutdown(context.Background()) })
	obs, err := otelobs.New(mp)
	if err != nil {
		t.Fatal(err)
	}
	return obs, reader
}

// TestScenario checks the measurements the scenario must leave.
func TestScenario(t *testing.T) {
	obs, reader := newObserver(t)
	observetest.Run(t, obs)

	got := collect(t, reader)
	text, binary := len(observetest.Text), len(observetest.Binary)
	want := map[string]string{
		"websock.connections{adapter=gorilla}":                             "0",
		"websock.upgrades{adapter=gorilla,outcome=accepted}":               "2",
		"websock.upgrades{adapter=gorilla,outcome=origin}":                 "1",
		"websock.closes{adapter=gorilla,code=1000,kind=remote}":            "1",
		"websock.closes{adapter=gorilla,code=1011,kind=error}":             "1",
		"websock.panics{adapter=gorilla,callback=HandleIn}":                "1",
		"websock.drain.connections{adapter=gorilla}":                       "0",
		"websock.connection.duration{adapter=gorilla}":                     "count 2",
		"websock.mailbox.peak_depth{adapter=gorilla}":                      "count 2, max {0 true}",
		"websock.messages{adapter=gorilla,direction=in,type=text}":         "2",
		"websock.messages{adapter=gorilla,direction=out,type=text}":        "1",
		"websock.messages{adapter=gorilla,direction=in,type=binary}":       "1",
		"websock.messages{adapter=gorilla,direction=out,type=binary}":      "1",
		"websock.messages{adapter=gorilla,direction=in,type=close}":        "2",
		"websock.messages{adapter=gorilla,direction=out,type=close}":       "2",
		"websock.message.bytes{adapter=gorilla,direction=in,type=text}":    fmt.Sprint(text + len(observetest.Boom)),
		"websock.message.bytes{adapter=gorilla,direction=out,type=text}":   fmt.Sprint(text),
		"websock.message.bytes{adapter=gorilla,direction=in,type=binary}":  fmt.Sprint(binary),
		"websock.message.bytes{adapter=gorilla,direction=out,type=binary}": fmt.Sprint(binary),
		"websock.message.bytes{adapter=gorilla,direction=in,type=close}":   "4",
		"websock.message.bytes{adapter=gorilla,direction=out,type=close}":  fmt.Sprint(2 + 2 + len("internal error")),
	}
	var keys []string
	for k := range want {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if got[k] != want[k] {
			t.Errorf("%s = %q; want %q", k, got[k], want[k])
		}
	}
	zero := map[string]bool{}
	for _, s := range observetest.Known(observetest.Adapter) {
		zero[names[s.Family]+"{"+s.Labels+"}"] = true
	}
	for k := range got {
		if _, ok := want[k]; !ok && !(zero[k] && got[k] == "0") {
			t.Errorf("unexpected measurement %s = %s", k, got[k])
		}
	}
}

// collect collects reader's measurements, as "instrument{attrs}" ->
// value.
func collect(t *testing.T, reader sdkmetric.Reader) map[string]string {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, sm := range rm.ScopeMetrics {
		if sm.Scope.Name != otelobs.ScopeName {
			t.Errorf("scope %q; want %q", sm.Scope.Name, otelobs.ScopeName)
		}
		for _, m := range sm.Metrics {
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, p := range d.DataPoints {
					got[m.Name+attrs(p.Attributes)] = fmt.Sprint(p.Value)
				}
			case metricdata.Gauge[int64]:
				for _, p := range d.DataPoints {
					got[m.Name+attrs(p.Attributes)] = fmt.Sprint(p.Value)
				}
			case metricdata.Histogram[float64]:
				for _, p := range d.DataPoints {
					got[m.Name+attrs(p.Attributes)] = fmt.Sprintf("count %d", p.Count)
				}
			case metricdata.Histogram[int64]:
				for _, p := range d.DataPoints {
					got[m.Name+attrs(p.Attributes)] = fmt.Sprintf("count %d, max %v", p.Count, p.Max)
				}
			default:
				t.Errorf("instrument %s has data %T", m.Name, m.Data)
			}
		}
	}
	return got
}

// names maps the families of observetest to the instruments' names.
var names = map[string]string{
	"connections":               "websock.connections",
	"upgrades":                  "websock.upgrades",
	"closes":                    "websock.closes",
	"messages":                  "websock.messages",
	"message_bytes":             "websock.message.bytes",
	"mailbox_full":              "websock.mailbox.full",
	"slow_consumer_disconnects": "websock.slow_consumer.disconnects",
	"panics":                    "websock.panics",
	"timeouts":                  "websock.timeouts",
	"drain_connections":         "websock.drain.connections",
	"connection_duration":       "websock.connection.duration",
	"mailbox_peak_depth":        "websock.mailbox.peak_depth",
}

// TestSeriesFromTheStart checks that an engine made with the Observer
// makes every counter and gauge report 0, for every attribute set its
// adapter can be known to have, in a collection before any event, so
// that alerts need no "or vector(0)". The histograms have no series until
// a connection ends.
func TestSeriesFromTheStart(t *testing.T) {
	obs, reader := newObserver(t)
	if _, err := adapters.NewEngine(adapters.Adapter{Name: "fresh"}, nil, &adapters.Options{Observer: obs}); err != nil {
		t.Fatal(err)
	}
	got := collect(t, reader)
	families := map[string]bool{}
	for k, v := range got {
		name, _, _ := strings.Cut(k, "{")
		families[name] = true
		if v != "0" {
			t.Errorf("%s = %s before any event; want 0", k, v)
		}
	}
	for _, f := range observetest.Families {
		if !families[names[f]] {
			t.Errorf("%s absent before any event; want it at zero", names[f])
		}
	}
	for _, f := range observetest.Histograms {
		if families[names[f]] {
			t.Errorf("%s reported before any connection ended", names[f])
		}
	}
	for _, s := range observetest.Known("fresh") {
		if slices.Contains(observetest.Histograms, s.Family) {
			continue
		}
		if _, ok := got[names[s.Family]+"{"+s.Labels+"}"]; !ok {
			t.Errorf("%s{%s} absent before any event; want 0", names[s.Family], s.Labels)
		}
	}
}

// TestSeriesFromAnEvent checks that an adapter the Observer first hears
// of in an event, with no Attach, gets every series too, and that a
// second Attach leaves the values as they are (the drain gauge is not set
// back to 0).
func TestSeriesFromAnEvent(t *testing.T) {
	obs, reader := newObserver(t)
	obs.Drain(adapters.DrainEvent{Adapter: "late", Left: 3})
	obs.Attach("late")
	got := collect(t, reader)
	for _, s := range observetest.Known("late") {
		if slices.Contains(observetest.Histograms, s.Family) {
			continue
		}
		want := "0"
		if s.Family == "drain_connections" {
			want = "3"
		}
		k := names[s.Family] + "{" + s.Labels + "}"
		if v, ok := got[k]; !ok || v != want {
			t.Errorf("%s = %q after a Drain event; want %s", k, v, want)
		}
	}
}

// attrs formats a set of attributes as {k=v,...}, sorted by key.
func attrs(s attribute.Set) string {
	var kv []string
	for _, a := range s.ToSlice() {
		kv = append(kv, string(a.Key)+"="+a.Value.String())
	}
	return "{" + strings.Join(kv, ",") + "}"
}

// BenchmarkMessage is what a message costs the OpenTelemetry Observer with
// the SDK: two instruments, attribute sets made once per adapter, no
// allocation.
func BenchmarkMessage(b *testing.B) {
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	defer mp.Shutdown(context.Background())
	obs, err := otelobs.New(mp)
	if err != nil {
		b.Fatal(err)
	}
	ev := adapters.MessageEvent{Adapter: "bench", Direction: adapters.In, Op: websock.OpText, Bytes: 1024}
	b.ReportAllocs()
	for b.Loop() {
		obs.Message(ev)
	}
}
