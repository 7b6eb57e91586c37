package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/websock-go/websock/cmd/internal/builtin"
)

func TestMain(m *testing.M) {
	// fasthttp keeps the Date header current with one goroutine for the
	// life of the process.
	goleak.VerifyTestMain(m, goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.updateServerDate.func1"))
}

// TestSoakBriefly soaks every adapter for a second with a few connections:
// every fault is injected, and every invariant must hold.
func TestSoakBriefly(t *testing.T) {
	var out bytes.Buffer
	args := []string{"-duration", "1s", "-conns", "24", "-senders", "2", "-broker-restart", "300ms"}
	names := builtin.WebSocketNames()
	if testing.Short() {
		// make check soaks one adapter; make test soaks them all.
		names = names[:1]
		args = append(args, "-adapters", names[0])
	}
	err := run(args, &out)
	t.Log(out.String())
	if err != nil {
		t.Fatalf("soak: %v", err)
	}
	for _, name := range names {
		if !strings.Contains(out.String(), "| "+name+" |") {
			t.Errorf("no result for adapter %s", name)
		}
	}
	if strings.Contains(out.String(), "FAIL") {
		t.Error("an invariant broke")
	}
	checkRestarts(t, out.String(), len(names))
}

// checkRestarts checks that the broker fault restarted the NATS server at
// least once in each of the want reports of out.
func checkRestarts(t *testing.T, out string, want int) {
	t.Helper()
	got := 0
	for _, line := range strings.Split(out, "\n") {
		if _, rest, ok := strings.Cut(line, "broker: "); ok {
			if n, _, _ := strings.Cut(rest, " "); n == "0" {
				t.Errorf("the broker was never restarted: %s", line)
			}
			got++
		}
	}
	if got != want {
		t.Errorf("%d broker reports, want %d", got, want)
	}
}

func TestBadFlags(t *testing.T) {
	for _, args := range [][]string{{"-adapters", "nosuch"}, {"-conns", "0"}, {"-duration", "-1s"}, {"-conns", "100000"}, {"-broker-restart", "-1s"}} {
		if err := run(args, new(bytes.Buffer)); err == nil {
			t.Errorf("run %q succeeded; want an error", args)
		}
	}
}

// TestSoakTogetherBriefly serves every adapter at once for two seconds,
// with two connections each, and checks the report, the CSV and the SVG.
// Two seconds hold only the ramp up, so the trends are reported but not
// judged (TestTrend tests the judgement), and a sample may take longer
// than its interval when the machine is busy.
func TestSoakTogetherBriefly(t *testing.T) {
	dir := t.TempDir()
	csv, svg := filepath.Join(dir, "soak.csv"), filepath.Join(dir, "soak.svg")
	var out bytes.Buffer
	n := len(builtin.WebSocketNames())
	err := run([]string{"-together", "-duration", "2s", "-conns", strconv.Itoa(2 * n), "-senders", strconv.Itoa(n),
		"-sample", "200ms", "-csv", csv, "-svg", svg, "-broker-restart", "500ms", "-trend=false"}, &out)
	t.Log(out.String())
	if err != nil {
		t.Fatalf("soak: %v", err)
	}
	for _, name := range builtin.WebSocketNames() {
		if !strings.Contains(out.String(), "| "+name+" |") {
			t.Errorf("no result for adapter %s", name)
		}
	}
	checkRestarts(t, out.String(), 1)
	rows, err := os.ReadFile(csv)
	if err != nil {
		t.Fatal(err)
	}
	if lines := strings.Count(string(rows), "\n"); lines < 3 || !strings.HasPrefix(string(rows), "seconds,rss_bytes,live_heap_bytes,goroutines,open_files,live_connections\n") {
		t.Errorf("the CSV has %d lines, want a header and samples every 200ms for 2s:\n%s", lines, rows)
	}
	pic, err := os.ReadFile(svg)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(pic), "<svg") || strings.Count(string(pic), "<polyline") != len(metrics)+1 {
		t.Errorf("the SVG does not draw the %d series:\n%s", len(metrics)+1, pic)
	}
}

// TestTrend: a series that climbs through the last half trends up; one
// that wanders around a level, or climbs by less than its floor, does not.
func TestTrend(t *testing.T) {
	m := metric{name: "goroutines", value: func(s sample) float64 { return float64(s.snap.goroutines) }, floor: 100}
	series := func(f func(i int) int) []sample {
		var ss []sample
		for i := range 40 {
			ss = append(ss, sample{at: time.Duration(i) * time.Second, snap: snapshot{goroutines: f(i)}})
		}
		return ss
	}
	for _, c := range []struct {
		name string
		f    func(i int) int
		up   bool
	}{
		{"leak", func(i int) int { return 1000 + 20*i }, true},
		{"level", func(i int) int { return 1000 + 50*(i%2) }, false},
		{"under the floor", func(i int) int { return 100 + 4*i }, false},
		{"ramp then level", func(i int) int { return 50 * min(i, 15) }, false},
	} {
		if _, _, up := trend(series(c.f), m); up != c.up {
			t.Errorf("%s: trends up %v, want %v", c.name, up, c.up)
		}
	}
}
