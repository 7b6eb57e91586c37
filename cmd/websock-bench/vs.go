package main

import (
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/websock-go/websock/cmd/internal/builtin"
)

// runVs is `websock-bench vs` (see the package documentation): two
// servers on one workload, alternating pair by pair (A B, B A, A B, ...)
// so that machine noise hits both alike.

// side is one server of a vs comparison.
type side struct {
	lib, mode string // websock-bench server -lib lib -mode mode
}

func (s side) String() string {
	if s.mode == modeRaw {
		return "raw " + s.lib
	}
	return s.lib
}

func parseSide(arg string) (side, error) {
	if name, ok := strings.CutPrefix(arg, "raw:"); ok {
		if _, ok := rawServers[name]; !ok {
			return side{}, fmt.Errorf("no raw server for %q; raw servers are: %s", name, rawNames())
		}
		return side{lib: name, mode: modeRaw}, nil
	}
	a, err := builtin.Lookup(arg)
	if err != nil {
		return side{}, err
	}
	if !a.WebSocket() {
		return side{}, fmt.Errorf("adapter %s serves no WebSocket connections, which the benchmarks measure; choose among %s", arg, strings.Join(builtin.WebSocketNames(), ", "))
	}
	return side{lib: arg, mode: modeAdapter}, nil
}

// vsWorkloads are the workloads vs runs, and the figure it compares.
var vsWorkloads = map[string]struct {
	name  string
	value func(*clientResult) float64
}{
	"rtt":  {"round trips/s", func(r *clientResult) float64 { return r.PerSecond }},
	"tput": {"MB/s", func(r *clientResult) float64 { return r.MBps }},
}

func runVs(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("websock-bench vs", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg := &config{}
	workload := fs.String("workload", "rtt", "rtt or tput")
	cfg.loadFlags(fs, 6, "pairs of runs")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: websock-bench vs [flags] A B\n\n"+
			"Runs servers A and B in turn, pair by pair, and prints each one's median and the ratio A/B.\n"+
			"A and B are adapter names, or raw:NAME for the raw server of adapter NAME's library.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		fs.Usage()
		return fmt.Errorf("want two servers to compare, got %d arguments", fs.NArg())
	}
	wl, ok := vsWorkloads[*workload]
	if !ok {
		return fmt.Errorf("-workload must be rtt or tput, got %q", *workload)
	}
	if err := cfg.checkLoad(); err != nil {
		return err
	}
	var sides [2]side
	for i := range sides {
		s, err := parseSide(fs.Arg(i))
		if err != nil {
			return err
		}
		sides[i] = s
	}
	exe, env, err := childSetup()
	if err != nil {
		return err
	}
	b := &bench{cfg: cfg, exe: exe, env: env, log: stderr, pin: newPinning(cfg.pin)}
	m := newMeta()
	m.Placement = b.pin.note
	var runs [2][]*clientResult
	var ratios, cpuRatios []float64
	for rep := range cfg.reps {
		order := []int{0, 1}
		if rep%2 == 1 {
			order = []int{1, 0}
		}
		var pair [2]*clientResult
		for _, i := range order {
			s := sides[i]
			r, err := b.run(s.lib, s.mode, *workload)
			if err != nil {
				return fmt.Errorf("%s, pair %d: %w", s, rep+1, err)
			}
			fmt.Fprintf(stderr, "websock-bench vs: %-18s pair %d/%d: %s\n", s, rep+1, cfg.reps, summary(*workload, r))
			runs[i] = append(runs[i], r)
			pair[i] = r
		}
		ratios = append(ratios, wl.value(pair[0])/wl.value(pair[1]))
		if pair[0].ServerCPU > 0 && pair[1].ServerCPU > 0 {
			cpuRatios = append(cpuRatios, pair[0].ServerCPU/pair[1].ServerCPU)
		}
	}
	m.LoadEnd = loadAverage()
	printVs(stdout, cfg, *workload, sides, runs, ratios, cpuRatios, m)
	return nil
}

// printVs prints the comparison as Markdown.
func printVs(w io.Writer, cfg *config, workload string, sides [2]side, runs [2][]*clientResult, ratios, cpuRatios []float64, m meta) {
	wl := vsWorkloads[workload]
	what := fmt.Sprintf("%s, %d conns × %s", wl.name, cfg.conns, fmtSize(cfg.size))
	if workload == "tput" {
		what = fmt.Sprintf("%s, 1 conn × %s, %d in flight", wl.name, fmtSize(cfg.tputSize), cfg.window)
	}
	fmt.Fprintf(w, "websock-bench vs, %s, %d × %s, %s %s/%s, load average %s at start, %s at end\n\n",
		m.Date, m.CPUs, m.CPU, m.Go, m.OS, m.Arch, m.LoadStart, m.LoadEnd)
	placement := ""
	if m.Placement != "" {
		placement = "; " + m.Placement
	}
	fmt.Fprintf(w, "%s: %d pairs of %s runs after %s warm-up, alternating%s; median shown.\n\n", what, cfg.reps, cfg.duration, cfg.warmup, placement)
	fmt.Fprintf(w, "| server | %s | server CPU per round trip | p50 | p99 |\n|---|---:|---:|---:|---:|\n", wl.name)
	cpu := func(r *clientResult) float64 { return nanOrValue(r.ServerCPU) }
	for i, s := range sides {
		v := median(valuesOf(runs[i], wl.value))
		if workload == "rtt" {
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", s, fmtThousands(v),
				cell(median(valuesOf(runs[i], cpu)), fmtDur),
				fmtDur(median(valuesOf(runs[i], func(r *clientResult) float64 { return r.P50 }))),
				fmtDur(median(valuesOf(runs[i], func(r *clientResult) float64 { return r.P99 }))))
		} else {
			fmt.Fprintf(w, "| %s | %.1f | | | |\n", s, v)
		}
	}
	lo, hi := slices.Min(ratios), slices.Max(ratios)
	above := 0
	for _, r := range ratios {
		if r >= 1 {
			above++
		}
	}
	fmt.Fprintf(w, "\n%s / %s: %.3f (median of pair ratios; lowest %.3f, highest %.3f; %d of %d pairs ≥ 1)\n",
		sides[0], sides[1], median(ratios), lo, hi, above, len(ratios))
	if workload == "rtt" && len(cpuRatios) > 0 {
		fmt.Fprintf(w, "%s / %s, server CPU per round trip: %.3f (median of pair ratios; lowest %.3f, highest %.3f; below 1 is cheaper)\n",
			sides[0], sides[1], median(cpuRatios), slices.Min(cpuRatios), slices.Max(cpuRatios))
	}
}

func valuesOf(rs []*clientResult, f func(*clientResult) float64) []float64 {
	vs := make([]float64, len(rs))
	for i, r := range rs {
		vs[i] = f(r)
	}
	return vs
}
