package main

import (
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/websock-go/websock/cmd/internal/builtin"
)

// config is what the parent's flags say.
type config struct {
	adapters  []string
	workloads []string // in the order they run

	conns    int
	size     int
	duration time.Duration
	warmup   time.Duration
	reps     int

	tputSize int
	window   int

	fanoutConns int
	fanoutSize  int
	fanoutReps  int

	idleConns int
	settle    time.Duration
	sourceIPs string // idle: the client's local addresses, comma-separated

	broadcastConns int
	broadcastSize  int
	broadcastReps  int

	observer bool // rtt: also run the adapter with a no-op Observer

	pin bool // run the server on one CPU and the load client on another
}

// allWorkloads are the workloads, in the order they run.
var allWorkloads = []string{"rtt", "tput", "fanout", "broadcast", "idle"}

func parseFlags(args []string, stderr io.Writer) (*config, *outputs, error) {
	fs := flag.NewFlagSet("websock-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg := &config{}
	out := &outputs{}
	fs.StringVar(&out.save, "save", "", "save the run's results, as JSON, to this file (`websock-bench render -from` reads it)")
	out.flags(fs)
	adapterList := fs.String("adapters", strings.Join(builtin.WebSocketNames(), ","), "comma-separated adapters to measure")
	workloadList := fs.String("workloads", strings.Join(allWorkloads, ","), "comma-separated workloads to run")
	cfg.loadFlags(fs, 2, "rtt, tput: runs per side, alternating raw and adapter")
	fs.IntVar(&cfg.fanoutConns, "fanout-conns", 1000, "fanout: connections that get each pushed message")
	fs.IntVar(&cfg.fanoutSize, "fanout-size", 256, "fanout: pushed message size in bytes")
	fs.IntVar(&cfg.fanoutReps, "fanout-reps", 5, "fanout: pushes per run; the median is reported")
	fs.IntVar(&cfg.broadcastConns, "broadcast-conns", 10000, "broadcast: connections that get each pushed message")
	fs.IntVar(&cfg.broadcastSize, "broadcast-size", 1024, "broadcast: pushed message size in bytes")
	fs.IntVar(&cfg.broadcastReps, "broadcast-reps", 5, "broadcast: pushes per run; the median is reported")
	fs.IntVar(&cfg.idleConns, "idle-conns", 10000, "idle: silent connections held open")
	fs.DurationVar(&cfg.settle, "settle", time.Second, "idle: wait after the last connection opens before measuring")
	fs.StringVar(&cfg.sourceIPs, "source-ips", "", "idle: comma-separated local addresses the client dials from, in turn (such as 127.0.0.2,127.0.0.3), for more connections than one address's port range holds")
	fs.BoolVar(&cfg.observer, "observer", true, "rtt: also run each adapter with a no-op Observer (every event and message), alternating with the others, and compare")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: websock-bench [flags]\n\nMeasures each adapter against the raw library it wraps and prints a Markdown table.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return nil, nil, err
	}
	if fs.NArg() > 0 {
		return nil, nil, fmt.Errorf("unexpected arguments %q; all options are flags (see -h)", fs.Args())
	}
	for _, name := range splitList(*adapterList) {
		a, err := builtin.Lookup(name)
		if err != nil {
			return nil, nil, err
		}
		if !a.WebSocket() {
			return nil, nil, fmt.Errorf("adapter %s serves no WebSocket connections, which the benchmarks measure; choose among %s", name, strings.Join(builtin.WebSocketNames(), ", "))
		}
		cfg.adapters = append(cfg.adapters, name)
	}
	if len(cfg.adapters) == 0 {
		return nil, nil, fmt.Errorf("no adapter to measure; registered adapters are: %s", strings.Join(builtin.WebSocketNames(), ", "))
	}
	want := splitList(*workloadList)
	for _, w := range want {
		if !slices.Contains(allWorkloads, w) {
			return nil, nil, fmt.Errorf("unknown workload %q; workloads are: %s", w, strings.Join(allWorkloads, ", "))
		}
	}
	for _, w := range allWorkloads {
		if slices.Contains(want, w) {
			cfg.workloads = append(cfg.workloads, w)
		}
	}
	if err := cfg.checkLoad(); err != nil {
		return nil, nil, err
	}
	switch {
	case cfg.fanoutConns < 1, cfg.fanoutSize < 1, cfg.fanoutReps < 1, cfg.idleConns < 1,
		cfg.broadcastConns < 1, cfg.broadcastSize < 1, cfg.broadcastReps < 1:
		return nil, nil, fmt.Errorf("counts and sizes must be positive")
	case cfg.settle < 0:
		return nil, nil, fmt.Errorf("-settle must not be negative")
	case cfg.fanoutSize > maxMessage, cfg.broadcastSize > maxMessage:
		return nil, nil, fmt.Errorf("message sizes must be at most %d bytes, the servers' limit", maxMessage)
	}
	return cfg, out, nil
}

// loadFlags defines the flags of the rtt and tput workloads, which
// websock-bench and websock-bench vs share; reps is the default of -reps,
// and repsUsage what it counts.
func (c *config) loadFlags(fs *flag.FlagSet, reps int, repsUsage string) {
	fs.IntVar(&c.conns, "conns", 50, "rtt: connections, each in a closed send-and-wait loop")
	fs.IntVar(&c.size, "size", 1024, "rtt: message size in bytes")
	fs.DurationVar(&c.duration, "duration", 3*time.Second, "rtt, tput: measured time of one run")
	fs.DurationVar(&c.warmup, "warmup", 500*time.Millisecond, "rtt, tput: unmeasured warm-up before each run")
	fs.IntVar(&c.reps, "reps", reps, repsUsage)
	fs.IntVar(&c.tputSize, "tput-size", 64<<10, "tput: message size in bytes")
	fs.IntVar(&c.window, "window", 4, "tput: messages in flight")
	fs.BoolVar(&c.pin, "pin", true, fmt.Sprintf("run the server on CPU %d and the load client on CPU %d (taskset), so that the server has one core to itself; unpinned where taskset or a second CPU is missing", serverCPU, clientCPU))
}

// checkLoad checks what loadFlags defines.
func (c *config) checkLoad() error {
	switch {
	case c.conns < 1, c.size < 1, c.reps < 1, c.tputSize < 1, c.window < 1:
		return fmt.Errorf("counts and sizes must be positive")
	case c.duration <= 0, c.warmup < 0:
		return fmt.Errorf("-duration must be positive, -warmup not negative")
	case c.size > maxMessage, c.tputSize > maxMessage:
		return fmt.Errorf("message sizes must be at most %d bytes, the servers' limit", maxMessage)
	}
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// clientArgs returns the client process's flags for workload w.
func (c *config) clientArgs(w string) []string {
	d := func(t time.Duration) string { return t.String() }
	switch w {
	case "rtt":
		return []string{"-workload", "rtt", "-conns", fmt.Sprint(c.conns), "-size", fmt.Sprint(c.size),
			"-duration", d(c.duration), "-warmup", d(c.warmup)}
	case "tput":
		return []string{"-workload", "tput", "-conns", "1", "-size", fmt.Sprint(c.tputSize),
			"-window", fmt.Sprint(c.window), "-duration", d(c.duration), "-warmup", d(c.warmup)}
	case "fanout":
		return []string{"-workload", "fanout", "-conns", fmt.Sprint(c.fanoutConns), "-size", fmt.Sprint(c.fanoutSize),
			"-reps", fmt.Sprint(c.fanoutReps)}
	case "broadcast":
		return []string{"-workload", "fanout", "-conns", fmt.Sprint(c.broadcastConns), "-size", fmt.Sprint(c.broadcastSize),
			"-reps", fmt.Sprint(c.broadcastReps)}
	case "idle":
		return []string{"-workload", "idle", "-conns", fmt.Sprint(c.idleConns), "-settle", d(c.settle), "-source-ips", c.sourceIPs}
	}
	panic("unknown workload " + w)
}

// runTimeout bounds one run of workload w, from starting the server to
// reading the client's result.
func (c *config) runTimeout(w string) time.Duration {
	const margin = 2 * time.Minute
	switch w {
	case "rtt", "tput":
		return margin + c.warmup + c.duration
	case "fanout":
		return margin + time.Duration(c.fanoutReps)*(fanoutTimeout+time.Second)
	case "broadcast":
		return margin + time.Duration(c.broadcastReps)*(fanoutTimeout+time.Second)
	}
	return margin + c.settle
}
