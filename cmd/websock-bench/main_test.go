package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/websock-go/websock/cmd/internal/builtin"
)

// TestMain lets the test binary act as the benchmark's server and client
// processes: the benchmark re-executes its own executable, which under go
// test is this binary, with childEnv set.
func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" && len(os.Args) > 1 {
		os.Exit(childMain(os.Args[1:]))
	}
	os.Exit(m.Run())
}

// TestSmoke runs every workload for every adapter with tiny sizes. It
// checks only that the command ran and printed a table: the figures of so
// short a run mean nothing, and benchmarks are not timed assertions.
func TestSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two processes per run")
	}
	var out, errOut bytes.Buffer
	dir := t.TempDir()
	readme := filepath.Join(dir, "README.md")
	if err := os.WriteFile(readme, []byte("# x\n"+readmeBegin+"\nold\n"+readmeEnd+"\nafter\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	saved, svgFile := filepath.Join(dir, "bench.json"), filepath.Join(dir, "bench.svg")
	err := run([]string{"-duration", "200ms", "-warmup", "20ms", "-reps", "1", "-conns", "2",
		"-idle-conns", "10", "-fanout-conns", "10", "-fanout-reps", "2", "-settle", "10ms",
		"-broadcast-conns", "10", "-broadcast-reps", "2",
		"-save", saved, "-readme", readme, "-svg", svgFile}, &out, &errOut)
	if err != nil {
		t.Fatalf("run: %v\nstderr:\n%s", err, errOut.String())
	}
	checkOutputs(t, saved, readme, svgFile)
	table := out.String()
	if !strings.Contains(table, "| adapter | figure | raw | adapter | adapter/raw | target |") {
		t.Fatalf("no table printed:\n%s", table)
	}
	for _, name := range builtin.WebSocketNames() {
		if !strings.Contains(table, "| "+name+" | round trips/s") || !strings.Contains(table, "| "+name+" | goroutines per idle conn") ||
			!strings.Contains(table, "| "+name+" | broadcast 1 KiB to 10 conns, deflate: prepared (raw column: raw gws Broadcaster)") {
			t.Errorf("the table has no rows for %s:\n%s", name, table)
		}
	}
	if strings.Contains(table, "n/a") {
		t.Errorf("the table has empty cells (an adapter with no raw server in raw.go, or a failed run):\n%s", table)
	}
}

func TestBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-adapters", "nope"},
		{"-workloads", "nope"},
		{"-conns", "0"},
		{"-duration", "0s"},
		{"extra"},
	} {
		if err := run(args, &bytes.Buffer{}, &bytes.Buffer{}); err == nil {
			t.Errorf("run(%q) succeeded; want an error", args)
		}
	}
}

// TestNodesSmoke runs `websock-bench nodes` with tiny sizes: fan-out through
// both brokers and a paced drain. Only the drain's pacing is checked,
// because the engine guarantees it: no batch starts before its interval,
// so the reconnects are never ahead of the policy (they may lag it).
func TestNodesSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("starts node processes, and waits out presence's TTL three times")
	}
	var out, errOut bytes.Buffer
	err := runNodes([]string{"-conns", "20", "-publishes", "2", "-drain-batch", "5", "-drain-interval", "100ms"}, &out, &errOut)
	if err != nil {
		t.Fatalf("runNodes: %v\nstderr:\n%s", err, errOut.String())
	}
	table := out.String()
	// Redis's rows are there even without redis-server: they then say
	// it was skipped, and why.
	for _, want := range []string{"| in-process |", "| NATS |", "| Redis |", "Presence of 20 connections", "all 20 reconnected"} {
		if !strings.Contains(table, want) {
			t.Errorf("no %q in the output:\n%s", want, table)
		}
	}
	if strings.Count(table, "| Redis |") != 2 {
		t.Errorf("want a Redis row in the fan-out and the presence tables:\n%s", table)
	}
	if !strings.Contains(table, "never ahead of the policy") {
		t.Errorf("the drain let clients reconnect faster than its batches allow:\n%s", table)
	}
}

// TestVsSmoke runs `websock-bench vs` with tiny sizes, an adapter against
// a raw server: both sides ran, in pairs, and the ratio was printed.
func TestVsSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two processes per run")
	}
	var out, errOut bytes.Buffer
	err := runVs([]string{"-reps", "2", "-conns", "2", "-duration", "200ms", "-warmup", "20ms", "gobws", "raw:gws"}, &out, &errOut)
	if err != nil {
		t.Fatalf("runVs: %v\nstderr:\n%s", err, errOut.String())
	}
	table := out.String()
	for _, want := range []string{"| gobws | ", "| raw gws | ", "gobws / raw gws: ", "of 2 pairs ≥ 1"} {
		if !strings.Contains(table, want) {
			t.Errorf("no %q in the output:\n%s", want, table)
		}
	}
	if n := strings.Count(errOut.String(), "pair "); n != 4 {
		t.Errorf("%d runs logged; want 4 (2 pairs of 2):\n%s", n, errOut.String())
	}
}

func TestVsBadArgs(t *testing.T) {
	for _, args := range [][]string{
		{"gobws"},
		{"gobws", "raw:nope"},
		{"nope", "gobws"},
		{"-workload", "idle", "gobws", "raw:gws"},
		{"-reps", "0", "gobws", "raw:gws"},
	} {
		if err := runVs(args, &bytes.Buffer{}, &bytes.Buffer{}); err == nil {
			t.Errorf("runVs(%q) succeeded; want an error", args)
		}
	}
}
