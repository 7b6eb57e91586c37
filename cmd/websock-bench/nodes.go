package main

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/websock-go/websock/cmd/internal/procstat"
)

// nodesConfig is what `websock-bench nodes` measures.
type nodesConfig struct {
	conns         int
	publishes     int
	drainBatch    int
	drainInterval time.Duration
}

// runNodes is `websock-bench nodes`: pubsub across two nodes. It prints
// two Markdown tables:
//
//   - fan-out: -conns connections, half on each of two nodes, subscribe to
//     one topic; node 1 publishes a 1 KiB message -publishes times. Per
//     publish, the time from Publish until each connection has it (the
//     message carries its publish time; node and client share the
//     machine's clock): median and p99 over the connections, and the last
//     one. Two brokers: in-process (both nodes in one process, joined by
//     pubsub.LocalBroker) and NATS (one process per node, joined by the
//     NATS server that node 1 embeds).
//   - drain: -conns connections on node 1, which is then restarted with a
//     paced drain (-drain-batch every -drain-interval, close 1012); each
//     client reconnects to node 2 as soon as its close arrives. Reconnects
//     that node 2 takes per interval, counted from the stop.
//
// Clients run in this process and the nodes in others (a node process
// holds its server's half of every connection), so that each process
// keeps to a 20,000 open-file limit with the default 10,000 connections.
func runNodes(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("websock-bench nodes", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg nodesConfig
	fs.IntVar(&cfg.conns, "conns", 10000, "connections, half on each node for the fan-out, all on node 1 for the drain")
	fs.IntVar(&cfg.publishes, "publishes", 20, "publishes measured per broker (after 2 not measured)")
	fs.IntVar(&cfg.drainBatch, "drain-batch", 1000, "connections closed per batch in the drain")
	fs.DurationVar(&cfg.drainInterval, "drain-interval", 500*time.Millisecond, "pause between two batches of the drain")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if cfg.conns < 2 || cfg.publishes < 1 || cfg.drainBatch < 1 || cfg.drainInterval <= 0 {
		return fmt.Errorf("-conns must be 2 or more, -publishes and -drain-batch positive, -drain-interval positive")
	}
	if err := procstat.RaiseFileLimit(); err != nil {
		return err
	}
	exe, env, err := childSetup()
	if err != nil {
		return err
	}
	b := &bench{exe: exe, env: env, log: stderr}

	fmt.Fprintf(stdout, "Fan-out of one 1 KiB message to %d connections over 2 nodes, %d publishes (%s, %d cores):\n\n",
		cfg.conns, cfg.publishes, cpuModel(), runtime.NumCPU())
	fmt.Fprintln(stdout, "| broker | median | p99 | last connection |")
	fmt.Fprintln(stdout, "|---|---|---|---|")
	for _, broker := range []string{"in-process", "NATS"} {
		fmt.Fprintf(stderr, "websock-bench nodes: fan-out through %s\n", broker)
		r, err := b.nodesFanout(cfg, broker)
		if err != nil {
			return fmt.Errorf("fan-out through %s: %w", broker, err)
		}
		fmt.Fprintf(stdout, "| %s | %s | %s | %s |\n", broker, fmtDur(r.p50), fmtDur(r.p99), fmtDur(r.last))
	}

	fmt.Fprintf(stderr, "websock-bench nodes: drain\n")
	d, err := b.nodesDrain(cfg)
	if err != nil {
		return fmt.Errorf("drain: %w", err)
	}
	fmt.Fprintf(stdout, "\nDrain of %d connections from node 1 (batch %d every %v, close 1012), reconnecting to node 2:\n\n",
		cfg.conns, cfg.drainBatch, cfg.drainInterval)
	fmt.Fprintln(stdout, "| interval after the stop | reconnects to node 2 |")
	fmt.Fprintln(stdout, "|---|---|")
	for i, n := range d.perInterval {
		fmt.Fprintf(stdout, "| %v–%v | %d |\n", time.Duration(i)*cfg.drainInterval, time.Duration(i+1)*cfg.drainInterval, n)
	}
	// Batch k may not start before k intervals: by the end of interval
	// i, at most (i+1) batches can have reconnected.
	pace, sum := "never ahead of the policy", 0
	for i, n := range d.perInterval {
		if sum += n; sum > (i+1)*cfg.drainBatch {
			pace = fmt.Sprintf("AHEAD of the policy: %d reconnected by %v", sum, time.Duration(i+1)*cfg.drainInterval)
			break
		}
	}
	fmt.Fprintf(stdout, "\nAt most %d reconnects in one interval (batch %d); reconnects %s; all %d reconnected %v after the stop.\n",
		d.max, cfg.drainBatch, pace, d.reconnected, time.Duration(d.last).Round(time.Millisecond))
	return nil
}

// startNode starts a node process and reads its addresses.
func (b *bench) startNode(ctx context.Context, args ...string) (*child, nodeAddrs, error) {
	var addrs nodeAddrs
	c, err := b.start(ctx, append([]string{"node"}, args...))
	if err != nil {
		return nil, addrs, err
	}
	line, err := c.line(ctx)
	if err == nil {
		err = json.Unmarshal(line, &addrs)
	}
	if err != nil {
		c.stop()
		return nil, addrs, fmt.Errorf("node %q: %w", args, err)
	}
	return c, addrs, nil
}

// waitSubscribers waits until the nodes behind ctls count n subscribers
// in all.
func waitSubscribers(ctls []string, n int) error {
	got := 0
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		got = 0
		for _, ctl := range ctls {
			var k int
			if err := getJSON(ctl, "/subscribers", &k); err != nil {
				return err
			}
			got += k
		}
		if got == n {
			return nil
		}
	}
	return fmt.Errorf("%d of %d connections subscribed within 60 s", got, n)
}

type fanoutFigures struct{ p50, p99, last float64 }

// nodesFanout measures the fan-out through one broker.
func (b *bench) nodesFanout(cfg nodesConfig, broker string) (*fanoutFigures, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	var ws, ctls []string
	if broker == "in-process" {
		c, a, err := b.startNode(ctx, "-nodes", "2", "-broker", "local")
		if err != nil {
			return nil, err
		}
		defer c.stop()
		ws, ctls = a.WS, []string{a.Ctl}
	} else {
		c1, a1, err := b.startNode(ctx, "-broker", "embedded")
		if err != nil {
			return nil, err
		}
		defer c1.stop()
		c2, a2, err := b.startNode(ctx, "-broker", a1.NATS)
		if err != nil {
			return nil, err
		}
		defer c2.stop()
		ws, ctls = append(a1.WS, a2.WS...), []string{a1.Ctl, a2.Ctl}
	}
	var conns []*wsConn
	defer func() { closeAll(conns) }()
	for i, addr := range ws {
		n := cfg.conns / len(ws)
		if i == 0 {
			n += cfg.conns % len(ws)
		}
		cs, err := dialAll(addr, n, 2048)
		if err != nil {
			return nil, err
		}
		conns = append(conns, cs...)
	}
	if err := waitSubscribers(ctls, len(conns)); err != nil {
		return nil, err
	}

	const warm = 2
	reps := warm + cfg.publishes
	lat := make([][]int64, reps) // lat[publish][connection]
	got := make([]atomic.Int64, reps)
	done := make([]chan struct{}, reps)
	for i := range lat {
		lat[i] = make([]int64, len(conns))
		done[i] = make(chan struct{})
	}
	readErr := make(chan error, 1)
	for ci, c := range conns {
		go func() {
			for {
				_, data, err := c.readMessage(2048)
				now := time.Now().UnixNano()
				if err == nil && len(data) < 16 {
					err = fmt.Errorf("a message of %d bytes, want 1024", len(data))
				}
				if err != nil {
					select {
					case readErr <- err:
					default:
					}
					return
				}
				seq := int(binary.BigEndian.Uint64(data)) - 1
				if seq < 0 || seq >= reps {
					continue
				}
				lat[seq][ci] = now - int64(binary.BigEndian.Uint64(data[8:]))
				if got[seq].Add(1) == int64(len(conns)) {
					close(done[seq])
				}
			}
		}()
	}
	for i := range reps {
		var pr struct{ Err string }
		if err := postJSON(ctls[0], "/publish", &pr); err != nil {
			return nil, err
		}
		if pr.Err != "<nil>" {
			return nil, fmt.Errorf("publish %d: %s", i+1, pr.Err)
		}
		select {
		case <-done[i]:
		case err := <-readErr:
			return nil, err
		case <-time.After(30 * time.Second):
			return nil, fmt.Errorf("publish %d: %d of %d connections got it within 30 s", i+1, got[i].Load(), len(conns))
		}
		time.Sleep(50 * time.Millisecond)
	}
	var p50s, p99s, lasts []float64
	for _, l := range lat[warm:] {
		slices.Sort(l)
		p50s = append(p50s, float64(percentile(l, 50)))
		p99s = append(p99s, float64(percentile(l, 99)))
		lasts = append(lasts, float64(l[len(l)-1]))
	}
	return &fanoutFigures{p50: median(p50s), p99: median(p99s), last: median(lasts)}, nil
}

type drainFigures struct {
	perInterval []int
	max         int
	reconnected int
	last        int64 // nanoseconds from the stop to the last reconnect
}

// nodesDrain restarts node 1 with a paced drain and counts the reconnects
// node 2 takes per interval.
func (b *bench) nodesDrain(cfg nodesConfig) (*drainFigures, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	n1, a1, err := b.startNode(ctx, "-restart", "-drain-batch", strconv.Itoa(cfg.drainBatch),
		"-drain-interval", cfg.drainInterval.String(), "-drain-timeout", "10m")
	if err != nil {
		return nil, err
	}
	defer n1.stop()
	n2, a2, err := b.startNode(ctx)
	if err != nil {
		return nil, err
	}
	defer n2.stop()
	conns, err := dialAll(a1.WS[0], cfg.conns, 512)
	if err != nil {
		return nil, err
	}
	defer closeAll(conns)
	if err := waitSubscribers([]string{a1.Ctl}, len(conns)); err != nil {
		return nil, err
	}

	var stopAt atomic.Int64
	var mu sync.Mutex
	var at []int64
	var moved []*wsConn
	defer func() { closeAll(moved) }()
	errs := make(chan error, 1)
	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Go(func() {
			_, _, err := c.readMessage(512)
			if err != errServerClosed {
				errs <- fmt.Errorf("a client of node 1 read %v, want its close frame", err)
				return
			}
			c.Close()
			nc, err := dialWS(a2.WS[0], dialTimeout, 512)
			if err != nil {
				select {
				case errs <- err:
				default:
				}
				return
			}
			d := time.Now().UnixNano() - stopAt.Load()
			mu.Lock()
			at = append(at, d)
			moved = append(moved, nc)
			mu.Unlock()
		})
	}
	stopAt.Store(time.Now().UnixNano())
	n1.stdin.Close() // which starts the drain
	all := make(chan struct{})
	go func() { wg.Wait(); close(all) }()
	select {
	case <-all:
	case err := <-errs:
		return nil, err
	case <-ctx.Done():
		return nil, fmt.Errorf("%d of %d clients reconnected in time", len(at), len(conns))
	}
	select {
	case <-n1.done:
		if n1.err != nil {
			return nil, fmt.Errorf("node 1: %v%s", n1.err, n1.stderrNote())
		}
	case <-ctx.Done():
		return nil, fmt.Errorf("node 1 still running after its drain")
	}
	if err := waitSubscribers([]string{a2.Ctl}, len(conns)); err != nil {
		return nil, fmt.Errorf("node 2: %w", err)
	}
	d := &drainFigures{reconnected: len(at)}
	for _, t := range at {
		i := int(t / int64(cfg.drainInterval))
		for len(d.perInterval) <= i {
			d.perInterval = append(d.perInterval, 0)
		}
		d.perInterval[i]++
		d.max = max(d.max, d.perInterval[i])
		d.last = max(d.last, t)
	}
	return d, nil
}
