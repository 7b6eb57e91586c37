package main

import (
	"cmp"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
)

// The targets the adapters are held to.
const (
	targetRatio          = 0.95 // round trips/s and throughput, adapter/raw
	targetObserverRatio  = 0.97 // round trips/s, with a no-op Observer/without
	targetExtraBytes     = 4096 // resident bytes per idle connection over raw
	targetExtraGoroutine = 1    // goroutines per idle connection over raw
)

// figure is one row of the table for an adapter.
type figure struct {
	name     string
	workload string
	// base and mode are the runs compared, in the raw and adapter
	// columns; "" means modeRaw and modeAdapter. baseAdapter, when set,
	// takes the base runs from that adapter's results instead.
	base, mode  string
	baseAdapter string
	value       func(rs []*clientResult) float64 // NaN when there is none
	format      func(float64) string
	target      func(raw, adapter float64) string // "" when the row has no target

	// chart is the figure's label in the chart, where it is drawn as a
	// ratio; "" leaves it to the table.
	chart string
}

func figures(cfg *config) []figure {
	ms := func(v float64) string { return fmtDur(v) }
	kib := func(v float64) string { return fmt.Sprintf("%.2f KiB", v/1024) }
	ratioAtLeast := func(raw, ad float64) string {
		return verdict(ad/raw >= targetRatio, fmt.Sprintf("≥ %.2f× raw", targetRatio))
	}
	figs := []figure{
		{
			name:     fmt.Sprintf("round trips/s (%d conns × %s)", cfg.conns, fmtSize(cfg.size)),
			workload: "rtt",
			value:    medianOf(func(r *clientResult) float64 { return r.PerSecond }),
			format:   func(v float64) string { return fmtThousands(v) },
			target:   ratioAtLeast,
			chart:    "round trips/s",
		},
		{
			name:     "round trips/s with a no-op Observer (raw column: without)",
			workload: "rtt", base: modeAdapter, mode: modeObserved,
			value:  medianOf(func(r *clientResult) float64 { return r.PerSecond }),
			format: func(v float64) string { return fmtThousands(v) },
			target: func(without, with float64) string {
				return verdict(with/without >= targetObserverRatio, fmt.Sprintf("≥ %.2f× without", targetObserverRatio))
			},
		},
		{
			name:     "server CPU per round trip",
			workload: "rtt",
			value:    medianOf(func(r *clientResult) float64 { return nanOrValue(r.ServerCPU) }),
			format:   func(v float64) string { return fmtDur(v) },
			target: func(raw, ad float64) string {
				return verdict(ad/raw <= 1/targetRatio, fmt.Sprintf("≤ %.2f× raw", 1/targetRatio))
			},
			chart: "CPU per round trip",
		},
		{name: "latency p50", workload: "rtt", value: medianOf(func(r *clientResult) float64 { return r.P50 }), format: ms},
		{name: "latency p99", workload: "rtt", value: medianOf(func(r *clientResult) float64 { return r.P99 }), format: ms},
		{
			name:     fmt.Sprintf("throughput MB/s (1 conn × %s)", fmtSize(cfg.tputSize)),
			workload: "tput",
			value:    medianOf(func(r *clientResult) float64 { return r.MBps }),
			format:   func(v float64) string { return fmt.Sprintf("%.1f", v) },
			target:   ratioAtLeast,
			chart:    "throughput",
		},
		{
			name:     fmt.Sprintf("fan-out to %s conns, median of %d", fmtThousands(float64(cfg.fanoutConns)), cfg.fanoutReps),
			workload: "fanout",
			value:    fanoutMedian,
			format:   ms,
			chart:    "fan-out time",
		},
	}
	figs = append(figs, broadcastFigures(cfg, "plain", modePlain, modePrepared, "")...)
	figs = append(figs, broadcastFigures(cfg, "plain", modePlainDeflate, modePreparedDeflate, "")...)
	figs = append(figs, broadcastFigures(cfg, "raw gws Broadcaster", modeBroadcaster, modePrepared, broadcasterAdapter)...)
	figs = append(figs, broadcastFigures(cfg, "raw gws Broadcaster", modeBroadcasterDeflate, modePreparedDeflate, broadcasterAdapter)...)
	return append(figs, []figure{
		{
			name:     fmt.Sprintf("RSS per idle conn (%s conns)", fmtThousands(float64(cfg.idleConns))),
			workload: "idle",
			value:    medianOf(func(r *clientResult) float64 { return r.RSSPerConn }),
			format:   kib,
			target: func(raw, ad float64) string {
				return verdict(ad-raw <= targetExtraBytes, fmt.Sprintf("≤ raw + 4 KiB (%+.2f KiB)", (ad-raw)/1024))
			},
		},
		{name: "Go heap per idle conn", workload: "idle", value: medianOf(func(r *clientResult) float64 { return r.HeapPerConn }), format: kib},
		{name: "goroutine stacks per idle conn", workload: "idle", value: medianOf(func(r *clientResult) float64 { return r.StacksPerConn }), format: kib},
		{
			name:     "goroutines per idle conn",
			workload: "idle",
			value:    medianOf(func(r *clientResult) float64 { return r.GoroutinesPerC }),
			format:   func(v float64) string { return fmt.Sprintf("%.2f", v) },
			target: func(raw, ad float64) string {
				return verdict(ad-raw <= targetExtraGoroutine, fmt.Sprintf("≤ raw + 1 (%+.2f)", ad-raw))
			},
		},
	}...)
}

// broadcastFigures are the rows of the broadcast workload for the
// prepared pushes (mode) against base, named baseName: the median time
// until every connection had the message, and the server's CPU time per
// push.
func broadcastFigures(cfg *config, baseName, base, mode, baseAdapter string) []figure {
	deflate := ""
	if strings.HasSuffix(mode, deflateSuffix) {
		deflate = ", deflate"
	}
	what := fmt.Sprintf("broadcast %s to %s conns%s", fmtSize(cfg.broadcastSize), fmtThousands(float64(cfg.broadcastConns)), deflate)
	short := fmt.Sprintf("broadcast%s, prepared / %s", deflate, baseName)
	cpuChart := short + ": server CPU"
	if baseAdapter != "" {
		cpuChart = "" // the table has it; the chart shows the time against the other library
	}
	return []figure{{
		name:     fmt.Sprintf("%s: prepared (raw column: %s)", what, baseName),
		workload: "broadcast", base: base, mode: mode, baseAdapter: baseAdapter,
		value:  fanoutMedian,
		format: func(v float64) string { return fmtDur(v) },
		chart:  short + ": time",
	}, {
		name:     fmt.Sprintf("%s: server CPU per push, prepared (raw column: %s)", what, baseName),
		workload: "broadcast", base: base, mode: mode, baseAdapter: baseAdapter,
		value:  medianOf(func(r *clientResult) float64 { return nanOrValue(r.ServerCPU) }),
		format: func(v float64) string { return fmtDur(v) },
		chart:  cpuChart,
	}}
}

// nanOrValue returns v, or NaN for 0 (not measured).
func nanOrValue(v float64) float64 {
	if v == 0 {
		return math.NaN()
	}
	return v
}

// fanoutMedian is the median of every push of some runs.
func fanoutMedian(rs []*clientResult) float64 {
	var all []float64
	for _, r := range rs {
		all = append(all, r.Fanout...)
	}
	return median(all)
}

func verdict(ok bool, what string) string {
	if ok {
		return "met: " + what
	}
	return "**MISSED**: " + what
}

// printTable writes the heading, the settings and the table.
func printTable(w io.Writer, cfg *config, res *results) {
	m := res.meta
	fmt.Fprintf(w, "websock-bench, %s, %d × %s, %s %s/%s, load average %s at start, %s at end\n\n",
		m.Date, m.CPUs, m.CPU, m.Go, m.OS, m.Arch, m.LoadStart, m.LoadEnd)
	placement := ""
	if m.Placement != "" {
		placement = ", " + m.Placement
	}
	fmt.Fprintf(w, "Server and load client in separate processes over 127.0.0.1%s; %d runs per side for rtt and tput, %s measured after %s warm-up, alternating raw and adapter; median shown.\n\n",
		placement, cfg.reps, cfg.duration, cfg.warmup)
	fmt.Fprintln(w, "| adapter | figure | raw | adapter | adapter/raw | target |")
	fmt.Fprintln(w, "|---|---|---:|---:|---:|---|")
	for _, a := range cfg.adapters {
		for _, f := range figures(cfg) {
			if !slices.Contains(cfg.workloads, f.workload) {
				continue
			}
			base, mode := cmp.Or(f.base, modeRaw), cmp.Or(f.mode, modeAdapter)
			if mode == modeObserved && !cfg.observer {
				continue
			}
			raw := f.value(res.get(cmp.Or(f.baseAdapter, a), base, f.workload))
			ad := f.value(res.get(a, mode, f.workload))
			ratio, target := "–", ""
			if !math.IsNaN(raw) && !math.IsNaN(ad) {
				if raw != 0 {
					ratio = fmt.Sprintf("%.2f", ad/raw)
				}
				if f.target != nil {
					target = f.target(raw, ad)
				}
			}
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s |\n", a, f.name, cell(raw, f.format), cell(ad, f.format), ratio, target)
		}
	}
}

func cell(v float64, format func(float64) string) string {
	if math.IsNaN(v) {
		return "n/a"
	}
	return format(v)
}

// medianOf returns a function giving the median of get over some runs.
func medianOf(get func(*clientResult) float64) func([]*clientResult) float64 {
	return func(rs []*clientResult) float64 {
		var vs []float64
		for _, r := range rs {
			vs = append(vs, get(r))
		}
		return median(vs)
	}
}

// median returns the median of vs, or NaN for none.
func median(vs []float64) float64 {
	if len(vs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(vs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// fmtDur formats nanoseconds as milliseconds or microseconds.
func fmtDur(ns float64) string {
	if math.IsNaN(ns) {
		return "n/a"
	}
	if ns < 1e6 {
		return fmt.Sprintf("%.0f µs", ns/1e3)
	}
	return fmt.Sprintf("%.2f ms", ns/1e6)
}

// fmtSize formats a byte count as B or KiB.
func fmtSize(n int) string {
	if n >= 1024 && n%1024 == 0 {
		return fmt.Sprintf("%d KiB", n/1024)
	}
	return fmt.Sprintf("%d B", n)
}

// fmtThousands formats v rounded, with thousands separated by commas.
func fmtThousands(v float64) string {
	s := strconv.FormatInt(int64(math.Round(v)), 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
