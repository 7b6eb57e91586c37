package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/websock-go/websock/adapters"
	"github.com/websock-go/websock/cmd/internal/builtin"
	"github.com/websock-go/websock/cmd/internal/procstat"
	"github.com/websock-go/websock/websock"
)

// config is what the soak runs.
type config struct {
	duration time.Duration // per adapter
	conns    int           // client connections open at once
	senders  int           // goroutines Sending to live connections
	settle   time.Duration // how long the process may take to give back what it held

	// together: the adapters run at once; the process-wide goroutines and
	// files are judged once they all ended, not per adapter, and started
	// reports each server's live count.
	together bool
	started  func(live func() int)
	begin    <-chan struct{} // closed when the clients are to begin; nil: at once

	// The broker fault (broker.go): the NATS server restarts every
	// brokerEvery; 0 for none. node is the adapter's node when the
	// adapters share one cluster (-together); without it soakOne makes
	// its own.
	brokerEvery time.Duration
	node        *node

	noTrend bool // with -together: report the trends, do not judge them
}

// snapshot is what the process holds at one moment.
type snapshot struct {
	goroutines int
	heap       uint64
	rss        int64
	fds        int
}

func take() snapshot {
	// Two collections empty the sync.Pools the libraries keep buffers
	// and compressors in; FreeOSMemory gives the freed pages back, so
	// that the resident size is what is still used.
	runtime.GC()
	debug.FreeOSMemory()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	rss, _ := procstat.ResidentBytes()
	fds, _ := procstat.OpenFiles()
	return snapshot{goroutines: runtime.NumGoroutine(), heap: m.HeapAlloc, rss: rss, fds: fds}
}

// result is one adapter's soak.
type result struct {
	adapter      string
	start, end   snapshot
	peak         int // live connections at the peak, as the server counted them
	liveShutdown int // live connections when Shutdown began
	opened       [numFaults]int64
	t            *tally
	errs         map[string]int
	sample       []string
	shutdownErr  error
	liveAfter    int
	problems     []string // broken invariants: the soak fails
	together     bool     // ran beside the other adapters
	broker       string   // what the nodes of the broker fault saw, when soakOne ran its own
}

func (r *result) failed() bool { return len(r.problems) > 0 }

// optionsFor returns the server options the soak runs a with.
func optionsFor(a builtin.Adapter) *adapters.Options {
	opts := &adapters.Options{
		MaxMessageSize: 64 << 10,
		WriteTimeout:   2 * time.Second,
		CloseTimeout:   time.Second,
		IdleTimeout:    10 * time.Second,
		MailboxSize:    64,
		Logger:         slog.New(slog.NewTextHandler(io.Discard, nil)), // the injected panics
	}
	opts.Compression = a.Lacks.Why(adapters.FeatureCompression) == ""
	if a.Lacks.Why(adapters.FeatureKeepalive) == "" {
		opts.PingInterval, opts.PongTimeout = 5*time.Second, 5*time.Second
	}
	return opts
}

// soakOne soaks adapter a for cfg.duration.
func soakOne(a builtin.Adapter, cfg config) (*result, error) {
	opts := optionsFor(a)
	deflate := opts.Compression
	// What the library starts once for the whole process (fasthttp's
	// clock, pools) is there before the start is measured: the soak
	// measures what connections leave behind.
	if err := warmUp(a, opts); err != nil {
		return nil, err
	}
	r := &result{adapter: a.Name, start: settle(snapshot{}, 0), together: cfg.together}
	t := newTally()
	var cl *cluster
	endBroker := make(chan struct{})
	var brokerRun sync.WaitGroup
	switch {
	case cfg.node != nil:
		t.ps = cfg.node.ps
	case cfg.brokerEvery > 0:
		var err error
		if cl, err = startCluster(cfg.brokerEvery); err != nil {
			return nil, err
		}
		nd, err := cl.node(a.Name)
		if err == nil {
			_, err = cl.node("probe")
		}
		if err != nil {
			cl.close()
			return nil, fmt.Errorf("the broker fault: %w", err)
		}
		t.ps = nd.ps
		brokerRun.Go(func() { cl.run(endBroker) })
	}
	srv, err := a.Start("127.0.0.1:0", t.accept, opts)
	if err != nil {
		if cl != nil {
			close(endBroker)
			brokerRun.Wait()
			cl.close()
		}
		return nil, fmt.Errorf("starting %s: %w", a.Name, err)
	}
	if cfg.started != nil {
		cfg.started(srv.Live)
	}
	if cfg.begin != nil {
		<-cfg.begin
	}
	cs := &clients{addr: srv.Addr, deflate: deflate, maxMsg: int(opts.MaxMessageSize), stop: make(chan struct{}), errs: make(map[string]int)}
	var work sync.WaitGroup
	for i := range cfg.conns {
		work.Add(1)
		go func() { defer work.Done(); cs.run(uint64(i) + 1) }()
	}
	var senders sync.WaitGroup
	for i := range cfg.senders {
		senders.Add(1)
		go func() { defer senders.Done(); sendUntil(t, cs, uint64(i)+1000) }()
	}
	end := time.Now().Add(cfg.duration)
	for time.Now().Before(end) {
		time.Sleep(100 * time.Millisecond)
		r.peak = max(r.peak, srv.Live())
	}
	// The end: no new connection, and the server shuts down with the
	// live ones still going.
	close(endBroker)
	brokerRun.Wait()
	cs.stopping.Store(true)
	r.liveShutdown = srv.Live()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	r.shutdownErr = srv.Shutdown(ctx)
	cancel()
	r.liveAfter = srv.Live()
	close(cs.stop)
	work.Wait()
	senders.Wait()
	var brokerProblems []string
	if cl != nil {
		r.broker, brokerProblems = cl.close()
	}

	r.end = settle(r.start, cfg.settle)
	for f := range numFaults {
		r.opened[f] = cs.opened[f].Load()
	}
	r.t, r.errs, r.sample = t, cs.errs, cs.sample
	r.check()
	r.problems = append(r.problems, brokerProblems...)
	return r, nil
}

// warmUp starts a, echoes one message over one connection, and shuts it
// down.
func warmUp(a builtin.Adapter, opts *adapters.Options) error {
	srv, err := a.Start("127.0.0.1:0", newTally().accept, opts)
	if err != nil {
		return fmt.Errorf("starting %s: %w", a.Name, err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}()
	cs := &clients{addr: srv.Addr, errs: make(map[string]int)}
	c, err := dial(srv.Addr, false, 10*time.Second)
	if err != nil {
		return fmt.Errorf("warming %s up: %w", a.Name, err)
	}
	defer c.nc.Close()
	if err := cs.do(c, normal, newRand(1)); err != nil {
		return fmt.Errorf("warming %s up: %w", a.Name, err)
	}
	return nil
}

// sendUntil Sends to live connections until the clients stop.
func sendUntil(t *tally, cs *clients, seed uint64) {
	rng := newRand(seed)
	for !cs.stopping.Load() {
		for range 64 {
			if !t.send(rng) {
				break
			}
		}
		time.Sleep(time.Millisecond)
	}
}

// settle waits up to d for the process to hold no more goroutines and
// files than base, and returns what it holds then.
func settle(base snapshot, d time.Duration) snapshot {
	deadline := time.Now().Add(d)
	for {
		s := take()
		if (s.goroutines <= base.goroutines && s.fds <= base.fds) || !time.Now().Before(deadline) {
			return s
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// check records the invariants r breaks.
func (r *result) check() {
	t := r.t
	problem := func(format string, args ...any) { r.problems = append(r.problems, fmt.Sprintf(format, args...)) }
	if in, term := t.inits.Load(), t.terminates.Load(); in != term {
		problem("%d connections started (Init) but %d terminated: Terminate must run once per connection", in, term)
	}
	if r.shutdownErr != nil {
		problem("Shutdown: %v", r.shutdownErr)
	}
	if r.liveAfter != 0 {
		problem("%d connections live after Shutdown returned", r.liveAfter)
	}
	if n := t.lost.Load(); n != 0 {
		problem("%d messages lost or out of order while their connection lived", n)
	}
	if got, want := t.delivered.Load()+t.queuedAtEnd.Load(), t.accepted.Load(); got != want {
		problem("%d messages delivered and %d queued at the end, but %d were accepted", t.delivered.Load(), t.queuedAtEnd.Load(), want)
	}
	if n := t.disorder.Load(); n != 0 {
		problem("%d published messages reached a connection twice or out of their publisher's order", n)
	}
	if r.together {
		return // judged for the process once every adapter ended
	}
	if r.end.fds > r.start.fds {
		problem("%d open files at the end, %d at the start: files leaked", r.end.fds, r.start.fds)
	}
	if r.end.goroutines > r.start.goroutines {
		problem("%d goroutines at the end, %d at the start: goroutines leaked", r.end.goroutines, r.start.goroutines)
	}
}

// report writes r as text.
func (r *result) report(w io.Writer) {
	t := r.t
	fmt.Fprintf(w, "== %s\n", r.adapter)
	fmt.Fprintf(w, "  connections: %d (Init) = %d (Terminate); at most %d live at once, %d live when Shutdown began\n",
		t.inits.Load(), t.terminates.Load(), r.peak, r.liveShutdown)
	var faults []string
	for f := range numFaults {
		faults = append(faults, fmt.Sprintf("%s %d", fault(f), r.opened[f]))
	}
	fmt.Fprintf(w, "  client connections: %s\n", strings.Join(faults, ", "))
	fmt.Fprintf(w, "  Terminate reasons: %s\n", kinds(t))
	fmt.Fprintf(w, "  handler panics: %d\n", t.panics.Load())
	fmt.Fprintf(w, "  HandleInfo: %d accepted by Send (%d refused, mailbox full), %d received, %d queued when their connection ended, %d lost while it lived\n",
		t.accepted.Load(), t.refused.Load(), t.delivered.Load(), t.queuedAtEnd.Load(), t.lost.Load())
	if t.ps != nil {
		fmt.Fprintf(w, "  broker fault: %d connections subscribed; HandleInfo got %d published messages (%d twice or out of order) and %d broker status changes\n",
			t.subscribed.Load(), t.published.Load(), t.disorder.Load(), t.statuses.Load())
	}
	if r.broker != "" {
		fmt.Fprintf(w, "  %s", strings.ReplaceAll(strings.TrimSuffix(r.broker, "\n"), "\n", "\n  ")+"\n")
	}
	fmt.Fprintf(w, "  start: %s\n  end:   %s\n", r.start, r.end)
	fmt.Fprintf(w, "  client errors (outside the final shutdown): %v\n", r.errs)
	for _, s := range r.sample {
		fmt.Fprintf(w, "    %s\n", s)
	}
	if r.failed() {
		for _, p := range r.problems {
			fmt.Fprintf(w, "  FAIL: %s\n", p)
		}
	} else {
		fmt.Fprintf(w, "  ok: every connection terminated once, nothing lost, goroutines and files back to the start\n")
	}
}

func (s snapshot) String() string {
	return fmt.Sprintf("%d goroutines, %.1f MiB heap, %.1f MiB RSS, %d open files",
		s.goroutines, float64(s.heap)/(1<<20), float64(s.rss)/(1<<20), s.fds)
}

func kinds(t *tally) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []string
	for k := websock.Kind(0); k < 16; k++ {
		if n := t.reasons[k]; n > 0 {
			out = append(out, fmt.Sprintf("%v %d", k, n))
		}
	}
	return strings.Join(out, ", ")
}
