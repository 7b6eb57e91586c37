package main

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
)

// checkSVG checks that b is well-formed XML with an svg root, and returns
// its character data.
func checkSVG(t *testing.T, b []byte) string {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(b))
	var text strings.Builder
	root := ""
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("the chart is not well-formed XML: %v", err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			if root == "" {
				root = tok.Name.Local
			}
		case xml.CharData:
			text.Write(tok)
			text.WriteByte('\n')
		}
	}
	if root != "svg" {
		t.Fatalf("the chart's root element is %q; want svg", root)
	}
	return text.String()
}

// syntheticResults returns a run of every workload for adapters, with
// made-up figures: the raw side at 100, the adapter's at 100 + 10i.
func syntheticResults(adapters []string) (*config, *results) {
	cfg, _, err := parseFlags([]string{"-adapters", "gobws"}, io.Discard)
	if err != nil {
		panic(err)
	}
	cfg.adapters = adapters
	res := &results{runs: map[string]map[string]map[string][]*clientResult{}, meta: meta{Date: "2026-12-03", CPUs: 2, CPU: "test <cpu> & co", Go: "go1.26", OS: "linux", Arch: "amd64", LoadStart: "0.1", LoadEnd: "0.2"}}
	r := func(v float64) *clientResult {
		return &clientResult{PerSecond: v, P50: v, P99: v, MBps: v, Fanout: []float64{v * 1e6}, ServerCPU: v * 1e5,
			RSSPerConn: v * 100, HeapPerConn: v * 50, StacksPerConn: v * 40, GoroutinesPerC: v / 100}
	}
	for i, a := range adapters {
		for _, w := range allWorkloads {
			res.add(a, modeRaw, w, r(100))
			res.add(a, modeAdapter, w, r(100+10*float64(i)))
			res.add(a, modeObserved, w, r(95))
			for _, m := range []string{modePlain, modePlainDeflate} {
				res.add(a, m, w, r(120))
			}
			for _, m := range []string{modePrepared, modePreparedDeflate} {
				res.add(a, m, w, r(80))
			}
		}
	}
	for _, m := range []string{modeBroadcaster, modeBroadcasterDeflate} {
		res.add(broadcasterAdapter, m, "broadcast", r(90))
	}
	return cfg, res
}

// TestChartWellFormed checks that the chart is well-formed XML and names
// every adapter of its input, whatever the adapters are called.
func TestChartWellFormed(t *testing.T) {
	adapters := []string{"gobws", "gobws-netpoll", "gws", "a<b&c>"}
	cfg, res := syntheticResults(adapters)
	var b bytes.Buffer
	if err := writeChart(&b, cfg, res); err != nil {
		t.Fatal(err)
	}
	text := checkSVG(t, b.Bytes())
	for _, a := range adapters {
		if !strings.Contains(text, a+"\n") {
			t.Errorf("the chart does not name adapter %q", a)
		}
	}
	for _, want := range []string{"1.0 = baseline", "round trips/s (higher is better)", "broadcast, deflate, prepared / plain: server CPU (lower is better)",
		"resident KiB per connection", "goroutines per connection", "2026-12-03"} {
		if !strings.Contains(text, want) {
			t.Errorf("the chart lacks %q", want)
		}
	}
}

// checkOutputs checks the files a run wrote: the saved results render to
// the Performance section and the chart that were written with them.
func checkOutputs(t *testing.T, saved, readme, svgFile string) {
	t.Helper()
	cfg, res, err := loadRecord(saved)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile(readme)
	if err != nil {
		t.Fatal(err)
	}
	got, err := currentSection(doc)
	if err != nil {
		t.Fatalf("%s: %v", readme, err)
	}
	if want := readmeSection(cfg, res); !bytes.Equal(got, want) {
		t.Errorf("%s's table is not that of %s; run `make bench`, or `go run ./cmd/websock-bench render -from docs/bench.json -readme docs/performance.md -svg docs/bench.svg`.\nwant:\n%s\ngot:\n%s", readme, saved, want, got)
	}
	chart, err := os.ReadFile(svgFile)
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	if err := writeChart(&want, cfg, res); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(chart, want.Bytes()) {
		t.Errorf("%s is not the chart of %s; make it again with `go run ./cmd/websock-bench render -from docs/bench.json -svg docs/bench.svg`", svgFile, saved)
	}
	text := checkSVG(t, chart)
	for _, a := range cfg.adapters {
		if !strings.Contains(text, a+"\n") {
			t.Errorf("%s does not name adapter %q", svgFile, a)
		}
	}
}

// TestDocsCurrent checks that the Performance guide.s table and
// docs/bench.svg are those of the run saved in docs/bench.json, the way
// TestReadmeCurrent keeps the capability matrix current.
func TestDocsCurrent(t *testing.T) {
	checkOutputs(t, "../../docs/bench.json", "../../docs/performance.md", "../../docs/bench.svg")
}

func TestReplaceSection(t *testing.T) {
	doc := []byte("a\n" + readmeBegin + "\nold\n" + readmeEnd + "\nb\n")
	out, err := replaceSection(doc, []byte("new\n"))
	if err != nil {
		t.Fatal(err)
	}
	if want := "a\n" + readmeBegin + "\nnew\n" + readmeEnd + "\nb\n"; string(out) != want {
		t.Errorf("replaceSection = %q; want %q", out, want)
	}
	if _, err := replaceSection([]byte("no markers"), nil); err == nil {
		t.Error("replaceSection succeeded on a document without markers")
	}
}
