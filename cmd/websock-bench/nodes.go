package main

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/websock-go/websock/adapters/pubsub"
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
//     one. Three brokers: in-process (both nodes in one process, joined by
//     pubsub.LocalBroker), NATS (one process per node, joined by the
//     NATS server that node 1 embeds) and Redis (one process per node,
//     joined by a redis-server this command runs; skipped, saying so,
//     when redis-server is not installed).
//   - presence: the same connections each join one topic's presence on
//     their node; once node 1 lists all of them, node 2 is killed (its
//     process, or for the in-process broker its PubSub) and the time
//     until node 1 lists only its own is measured, per broker, against
//     the bound of pubsub.DefaultTTL + pubsub.DefaultHeartbeat.
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
	brokers := []string{"in-process", "NATS", "Redis"}
	for _, broker := range brokers {
		fmt.Fprintf(stderr, "websock-bench nodes: fan-out through %s\n", broker)
		r, err := b.nodesFanout(cfg, broker)
		if errors.Is(err, errNoRedis) {
			fmt.Fprintf(stdout, "| %s | skipped: %v | | |\n", broker, err)
			continue
		}
		if err != nil {
			return fmt.Errorf("fan-out through %s: %w", broker, err)
		}
		fmt.Fprintf(stdout, "| %s | %s | %s | %s |\n", broker, fmtDur(r.p50), fmtDur(r.p99), fmtDur(r.last))
	}

	bound := pubsub.DefaultTTL + pubsub.DefaultHeartbeat
	fmt.Fprintf(stdout, "\nPresence of %d connections over 2 nodes, one topic; node 2 killed: time until node 1 lists only its own (bound: TTL %v + heartbeat %v = %v):\n\n",
		cfg.conns, pubsub.DefaultTTL, pubsub.DefaultHeartbeat, bound)
	fmt.Fprintln(stdout, "| broker | all listed on node 1 after the last connection opened | node 2's gone from node 1 after the kill |")
	fmt.Fprintln(stdout, "|---|---|---|")
	for _, broker := range brokers {
		fmt.Fprintf(stderr, "websock-bench nodes: presence through %s\n", broker)
		r, err := b.nodesPresence(cfg, broker)
		if errors.Is(err, errNoRedis) {
			fmt.Fprintf(stdout, "| %s | skipped: %v | |\n", broker, err)
			continue
		}
		if err != nil {
			return fmt.Errorf("presence through %s: %w", broker, err)
		}
		fmt.Fprintf(stdout, "| %s | %v | %v |\n", broker, r.joined.Round(time.Millisecond), r.gone.Round(time.Millisecond))
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

// twoNodes are the two nodes of a nodes workload, in one process or two.
type twoNodes struct {
	procs []*child
	ws    []string // node 1's endpoint, then node 2's
	ctls  []string // one per process
	redis *redisServer
}

func (t *twoNodes) stop() {
	for _, c := range t.procs {
		c.stop()
	}
	if t.redis != nil {
		t.redis.stop()
	}
}

// startTwoNodes starts two nodes joined by broker.
func (b *bench) startTwoNodes(ctx context.Context, broker string, extra ...string) (*twoNodes, error) {
	t := &twoNodes{}
	start := func(args ...string) (nodeAddrs, error) {
		c, a, err := b.startNode(ctx, append(args, extra...)...)
		if err == nil {
			t.procs = append(t.procs, c)
			t.ws, t.ctls = append(t.ws, a.WS...), append(t.ctls, a.Ctl)
		}
		return a, err
	}
	var err error
	switch broker {
	case "in-process":
		_, err = start("-nodes", "2", "-broker", "local")
	case "NATS":
		var a1 nodeAddrs
		if a1, err = start("-broker", "embedded"); err == nil {
			_, err = start("-broker", a1.NATS)
		}
	case "Redis":
		if t.redis, err = startRedis(); err == nil {
			if _, err = start("-broker", t.redis.url()); err == nil {
				_, err = start("-broker", t.redis.url())
			}
		}
	}
	if err != nil {
		t.stop()
		return nil, err
	}
	return t, nil
}

// dialHalves opens n connections, half on each node.
func dialHalves(ws []string, n int) ([]*wsConn, error) {
	var conns []*wsConn
	for i, addr := range ws {
		k := n / len(ws)
		if i == 0 {
			k += n % len(ws)
		}
		cs, err := dialAll(addr, k, 2048)
		conns = append(conns, cs...)
		if err != nil {
			closeAll(conns)
			return nil, err
		}
	}
	return conns, nil
}

// nodesFanout measures the fan-out through one broker.
func (b *bench) nodesFanout(cfg nodesConfig, broker string) (*fanoutFigures, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	nodes, err := b.startTwoNodes(ctx, broker)
	if err != nil {
		return nil, err
	}
	defer nodes.stop()
	ctls := nodes.ctls
	conns, err := dialHalves(nodes.ws, cfg.conns)
	if err != nil {
		return nil, err
	}
	defer func() { closeAll(conns) }()
	if err := waitSubscribers(ctls, len(conns)); err != nil {
		return nil, err
	}
	if nodes.redis != nil {
		if err := nodes.redis.waitRedisSubscribers(benchTopic, 2); err != nil {
			return nil, err
		}
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

type presenceFigures struct{ joined, gone time.Duration }

// nodesPresence measures how long presence takes to converge: after the
// connections joined, and after node 2 is killed.
func (b *bench) nodesPresence(cfg nodesConfig, broker string) (*presenceFigures, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	nodes, err := b.startTwoNodes(ctx, broker, "-presence")
	if err != nil {
		return nil, err
	}
	defer nodes.stop()
	conns, err := dialHalves(nodes.ws, cfg.conns)
	if err != nil {
		return nil, err
	}
	defer func() { closeAll(conns) }()
	opened := time.Now()
	own := cfg.conns - cfg.conns/2
	listed := func(want int, within time.Duration) error {
		var got struct{ Listed, Own int }
		for deadline := time.Now().Add(within); ; time.Sleep(10 * time.Millisecond) {
			if err := getJSON(nodes.ctls[0], "/presence", &got); err != nil {
				return err
			}
			if got.Listed == want {
				return nil
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("node 1 lists %d entries (%d its own) after %v, want %d", got.Listed, got.Own, within, want)
			}
		}
	}
	if err := listed(cfg.conns, 2*time.Minute); err != nil {
		return nil, err
	}
	r := &presenceFigures{joined: time.Since(opened)}
	killed := time.Now()
	if broker == "in-process" {
		var kr struct{ Err string }
		if err := postJSON(nodes.ctls[0], "/kill?node=1", &kr); err != nil {
			return nil, err
		}
	} else {
		nodes.procs[1].cmd.Process.Kill()
	}
	if err := listed(own, time.Minute); err != nil {
		return nil, err
	}
	r.gone = time.Since(killed)
	return r, nil
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
