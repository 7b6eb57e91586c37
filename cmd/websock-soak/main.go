// Command websock-soak runs every adapter for a while under thousands of
// connections that come and go, many of them misbehaving: TCP resets,
// half-open peers that stop reading and never close, slow readers,
// malformed and oversized frames, inflate bombs, handler panics, Sends
// from many goroutines, and a server Shutdown in the middle of it all at
// the end. It reports, for each adapter, what the process held at the
// start and at the end (goroutines, heap, resident memory, open files),
// the messages Sent to live connections against those HandleInfo
// received, how many connections started and terminated, and the errors
// the clients met, and exits non-zero if an invariant broke: a connection
// that did not terminate exactly once, a message lost while its
// connection lived, goroutines or files not given back.
//
//	go run ./cmd/websock-soak                         # every adapter, 30 s each, 2000 connections at a time
//	go run ./cmd/websock-soak -adapters gorilla,gws -duration 2m
//	go run ./cmd/websock-soak -together -duration 1h -csv soak.csv -svg soak.svg
//
// With -together every adapter is served at once, one port each, the
// connections shared between them, for -duration in all; the process is
// sampled every -sample (resident memory, live heap after a collection,
// goroutines, open files), the samples written as CSV and drawn as an
// SVG timeline, and the soak also fails if any of them trends up over the
// last half of the run (see trend).
//
// The clients and the server share the process, so each connection costs
// two file descriptors; the default fits a limit of 20,000.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strings"
	"time"

	"github.com/websock-go/websock/cmd/internal/builtin"
	"github.com/websock-go/websock/cmd/internal/procstat"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "websock-soak:", err)
		os.Exit(1)
	}
}

// errFailed is returned when an adapter broke an invariant.
var errFailed = errors.New("an invariant broke; see the report")

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("websock-soak", flag.ContinueOnError)
	cfg := config{}
	fs.DurationVar(&cfg.duration, "duration", 30*time.Second, "how long to soak each adapter")
	fs.IntVar(&cfg.conns, "conns", 2000, "client connections open at once")
	fs.IntVar(&cfg.senders, "senders", 8, "goroutines Sending to live connections")
	fs.DurationVar(&cfg.settle, "settle", 20*time.Second, "how long the process may take to give back goroutines and files after the shutdown")
	fs.DurationVar(&cfg.brokerEvery, "broker-restart", 15*time.Second, "restart the NATS server the servers publish through this often, in the middle of their publishing (0: no broker fault)")
	together := fs.Bool("together", false, "serve every adapter at once, one port each, sharing -conns, for -duration in all; sample the process and fail on an upward trend")
	every := fs.Duration("sample", 5*time.Second, "with -together: how often to sample the process")
	trend := fs.Bool("trend", true, "with -together: fail when a sampled metric trends up over the last half of the run (a run of a few seconds holds only the ramp up)")
	csvPath := fs.String("csv", "", "with -together: write the samples to this CSV file")
	svgPath := fs.String("svg", "", "with -together: draw the samples as an SVG timeline in this file")
	only := fs.String("adapters", "", "comma-separated adapters to soak (default: all): "+strings.Join(builtin.WebSocketNames(), ", "))
	if err := fs.Parse(args); err != nil {
		return err
	}
	if cfg.duration <= 0 || cfg.conns < 1 || cfg.senders < 0 || cfg.brokerEvery < 0 {
		return errors.New("-duration and -conns must be positive, -senders and -broker-restart at least 0")
	}
	list := builtin.WebSockets()
	if *only != "" {
		list = nil
		for _, name := range strings.Split(*only, ",") {
			a, err := builtin.Lookup(strings.TrimSpace(name))
			if err != nil {
				return err
			}
			if !a.WebSocket() {
				return fmt.Errorf("adapter %s serves no WebSocket connections, which the soak drives; choose among %s", a.Name, strings.Join(builtin.WebSocketNames(), ", "))
			}
			list = append(list, a)
		}
	}
	if err := procstat.RaiseFileLimit(); err != nil {
		return err
	}
	if lim := procstat.FileLimit(); lim != 0 && uint64(2*cfg.conns)+256 > lim {
		return fmt.Errorf("-conns %d needs %d open files (client and server ends), over the limit of %d", cfg.conns, 2*cfg.conns+256, lim)
	}
	cfg.noTrend = !*trend
	if *together {
		return runTogether(list, cfg, *every, *csvPath, *svgPath, stdout)
	}
	fmt.Fprintf(stdout, "websock-soak: %v per adapter, %d connections at a time, %d senders\n\n", cfg.duration, cfg.conns, cfg.senders)
	var results []*result
	failed := false
	for _, a := range list {
		r, err := soakOne(a, cfg)
		if err != nil {
			return err
		}
		r.report(stdout)
		fmt.Fprintln(stdout)
		results = append(results, r)
		failed = failed || r.failed()
	}
	writeTable(stdout, results)
	if failed {
		return errFailed
	}
	return nil
}

// writeTable writes the results as one Markdown table.
func writeTable(w io.Writer, rs []*result) {
	fmt.Fprintln(w, "| adapter | connections (Init = Terminate) | peak live | faults | Sends accepted / received / queued at end / lost | goroutines | heap MiB | RSS MiB | open files | client errors | result |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|---|---|")
	for _, r := range rs {
		t := r.t
		var faults int64
		for f := reset; f < numFaults; f++ {
			faults += r.opened[f]
		}
		errs := 0
		for _, n := range r.errs {
			errs += n
		}
		verdict := "ok"
		if r.failed() {
			verdict = "FAIL"
		}
		fmt.Fprintf(w, "| %s | %d = %d | %d | %d | %d / %d / %d / %d | %d → %d | %.1f → %.1f | %.0f → %.0f | %d → %d | %d | %s |\n",
			r.adapter, t.inits.Load(), t.terminates.Load(), r.peak, faults,
			t.accepted.Load(), t.delivered.Load(), t.queuedAtEnd.Load(), t.lost.Load(),
			r.start.goroutines, r.end.goroutines, float64(r.start.heap)/(1<<20), float64(r.end.heap)/(1<<20),
			float64(r.start.rss)/(1<<20), float64(r.end.rss)/(1<<20), r.start.fds, r.end.fds, errs, verdict)
	}
}

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)) }
