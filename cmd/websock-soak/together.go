package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/websock-go/websock/cmd/internal/builtin"
)

// runTogether soaks every adapter of list at once, each on its own port
// with its share of cfg.conns and cfg.senders, for cfg.duration, sampling
// the process every interval; see the package documentation.
func runTogether(list []builtin.Adapter, cfg config, interval time.Duration, csvPath, svgPath string, stdout io.Writer) error {
	if interval <= 0 {
		return fmt.Errorf("-sample %v: want a positive interval", interval)
	}
	n := len(list)
	cfg.together = true
	cfg.conns = max(cfg.conns/n, 1)
	cfg.senders = max(cfg.senders/n, 1)
	settleAll := cfg.settle
	cfg.settle = 0
	fmt.Fprintf(stdout, "websock-soak: %d adapters at once for %v, %d connections and %d senders each, sampled every %v\n\n",
		n, cfg.duration, cfg.conns, cfg.senders, interval)

	// What each library starts once for the whole process is there
	// before the start is measured, as in the soak of one adapter.
	for _, a := range list {
		if err := warmUp(a, optionsFor(a)); err != nil {
			return err
		}
	}
	base := settle(snapshot{}, 0)
	var mu sync.Mutex
	var lives []func() int
	started := func(live func() int) { mu.Lock(); lives = append(lives, live); mu.Unlock() }
	live := func() int {
		mu.Lock()
		defer mu.Unlock()
		total := 0
		for _, l := range lives {
			total += l()
		}
		return total
	}
	// One broker cluster for them all: a node per adapter and a probe.
	var cl *cluster
	nodes := make([]*node, n)
	endBroker := make(chan struct{})
	var brokerRun sync.WaitGroup
	if cfg.brokerEvery > 0 {
		var err error
		if cl, err = startCluster(cfg.brokerEvery); err != nil {
			return err
		}
		for i, a := range list {
			if nodes[i], err = cl.node(a.Name); err != nil {
				break
			}
		}
		if err == nil {
			_, err = cl.node("probe")
		}
		if err != nil {
			cl.close()
			return fmt.Errorf("the broker fault: %w", err)
		}
		brokerRun.Go(func() { cl.run(endBroker) })
	}
	// Every server starts, and then their clients all begin at once, with
	// the timeline: what starting a server allocates (gws's compressors)
	// is not taken for a climb.
	results := make([]*result, n)
	errs := make([]error, n)
	begin := make(chan struct{})
	var wg, starting sync.WaitGroup
	for i, a := range list {
		cfg := cfg
		cfg.node = nodes[i]
		cfg.begin = begin
		var once sync.Once
		starting.Add(1)
		cfg.started = func(l func() int) {
			started(l)
			once.Do(starting.Done)
		}
		wg.Go(func() {
			results[i], errs[i] = soakOne(a, cfg)
			once.Do(starting.Done) // it failed to start
		})
	}
	starting.Wait()
	tl := startTimeline(interval, live)
	close(begin)
	time.Sleep(cfg.duration) // the adapters shut down from here on: the timeline ends before
	close(endBroker)
	brokerRun.Wait()
	samples := tl.end()
	mu.Lock()
	lives = nil // nor hold the servers once they shut down
	mu.Unlock()
	wg.Wait()
	var brokerReport string
	var brokerProblems []string
	if cl != nil {
		brokerReport, brokerProblems = cl.close()
	}
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	end := settle(base, settleAll)

	failed := false
	for _, r := range results {
		r.report(stdout)
		fmt.Fprintln(stdout)
		failed = failed || r.failed()
	}
	writeTable(stdout, results)
	if cl != nil {
		fmt.Fprintf(stdout, "\n%s", brokerReport)
		for _, p := range brokerProblems {
			fmt.Fprintf(stdout, "FAIL: %s\n", p)
			failed = true
		}
	}
	fmt.Fprintf(stdout, "\nprocess: start %s\n         end   %s\n", base, end)
	if end.goroutines > base.goroutines {
		fmt.Fprintf(stdout, "FAIL: %d goroutines at the end, %d at the start: goroutines leaked\n", end.goroutines, base.goroutines)
		failed = true
	}
	if end.fds > base.fds {
		fmt.Fprintf(stdout, "FAIL: %d open files at the end, %d at the start: files leaked\n", end.fds, base.fds)
		failed = true
	}
	fmt.Fprintf(stdout, "\ntimeline: %d samples; trend over the last half (least-squares rise across it; up when over both the floor and 10%% of the mean):\n", len(samples))
	for _, m := range metrics {
		rise, mean, up := trend(samples, m)
		verdict := "flat"
		switch {
		case up && cfg.noTrend:
			verdict = "trends up (not judged: -trend=false)"
		case up:
			verdict, failed = "TRENDS UP: FAIL", true
		}
		fmt.Fprintf(stdout, "  %-20s mean %10.1f %-3s rise %+9.1f (floor %g): %s\n", m.name, mean, m.unit, rise, m.floor, verdict)
	}
	if csvPath != "" {
		if err := writeFile(csvPath, func(w io.Writer) error { return writeCSV(w, samples) }); err != nil {
			return err
		}
	}
	if svgPath != "" {
		title := fmt.Sprintf("websock-soak -together: %d adapters at once, %v, %d connections each", n, cfg.duration, cfg.conns)
		if err := writeFile(svgPath, func(w io.Writer) error { return writeSVG(w, samples, title) }); err != nil {
			return err
		}
	}
	if failed {
		return errFailed
	}
	return nil
}

func writeFile(path string, write func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
