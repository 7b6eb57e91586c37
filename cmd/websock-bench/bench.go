package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"time"
)

// bench runs the workloads as pairs of server and client processes.
type bench struct {
	cfg *config
	exe string   // this program, re-executed as server and client
	env []string // the children's environment
	log io.Writer
	pin pinning // where the children run
}

// The two sides of every comparison, and the adapter with a no-op
// Observer, compared with the adapter without one.
const (
	modeRaw      = "raw"
	modeAdapter  = "adapter"
	modeObserved = "observed"
)

// The sides of the broadcast workload: the adapter pushing a plain frame
// or a websock.Prepared, each without and with permessage-deflate, and raw
// gws's Broadcaster (kept under the adapter name "gws").
const (
	modePlain              = "plain"
	modePrepared           = "prepared"
	modePlainDeflate       = "plain+deflate"
	modePreparedDeflate    = "prepared+deflate"
	modeBroadcaster        = "broadcaster"
	modeBroadcasterDeflate = "broadcaster+deflate"
	broadcasterAdapter     = "gws"
	deflateSuffix          = "+deflate"
)

// results holds every run's outcome: runs[adapter][mode][workload].
type results struct {
	runs map[string]map[string]map[string][]*clientResult
	errs []error
	meta meta // the machine, the date and the load
}

func (r *results) add(adapter, mode, workload string, res *clientResult) {
	if r.runs[adapter] == nil {
		r.runs[adapter] = map[string]map[string][]*clientResult{}
	}
	if r.runs[adapter][mode] == nil {
		r.runs[adapter][mode] = map[string][]*clientResult{}
	}
	r.runs[adapter][mode][workload] = append(r.runs[adapter][mode][workload], res)
}

func (r *results) get(adapter, mode, workload string) []*clientResult {
	return r.runs[adapter][mode][workload]
}

// runAll runs every workload for every adapter, alternating sides.
func (b *bench) runAll() *results {
	res := &results{runs: map[string]map[string]map[string][]*clientResult{}, meta: newMeta()}
	res.meta.Placement = b.pin.note
	if slices.Contains(b.cfg.workloads, "broadcast") {
		for _, mode := range []string{modeBroadcaster, modeBroadcasterDeflate} {
			b.runOne(res, broadcasterAdapter, mode, "broadcast", 0, 1)
		}
	}
	for _, a := range b.cfg.adapters {
		_, hasRaw := rawServers[a]
		if !hasRaw {
			fmt.Fprintf(b.log, "websock-bench: no raw server for %s; measuring the adapter alone\n", a)
		}
		for _, w := range b.cfg.workloads {
			reps := 1
			if w == "rtt" || w == "tput" {
				reps = b.cfg.reps
			}
			for rep := range reps {
				order := []string{modeRaw, modeAdapter}
				switch {
				case w == "rtt" && b.cfg.observer:
					order = append(order, modeObserved)
				case w == "broadcast":
					order = []string{modePlain, modePrepared, modePreparedDeflate, modePlainDeflate}
				}
				if rep%2 == 1 {
					slices.Reverse(order)
				}
				for _, mode := range order {
					if mode == modeRaw && !hasRaw {
						continue
					}
					b.runOne(res, a, mode, w, rep, reps)
				}
			}
		}
	}
	res.meta.LoadEnd = loadAverage()
	return res
}

// runOne runs workload w for adapter on side mode once, and records the
// result or the error in res.
func (b *bench) runOne(res *results, adapter, mode, w string, rep, reps int) {
	r, err := b.run(adapter, mode, w)
	if err != nil {
		err = fmt.Errorf("%s %s %s run %d: %w", adapter, mode, w, rep+1, err)
		fmt.Fprintln(b.log, "websock-bench:", err)
		res.errs = append(res.errs, err)
		return
	}
	fmt.Fprintf(b.log, "websock-bench: %-9s %-7s %-6s run %d/%d: %s\n", adapter, mode, w, rep+1, reps, summary(w, r))
	res.add(adapter, mode, w, r)
}

// summary is one run's progress line.
func summary(w string, r *clientResult) string {
	switch w {
	case "rtt":
		return fmt.Sprintf("%.0f round trips/s, server CPU %s per round trip, p50 %s, p99 %s", r.PerSecond, fmtDur(r.ServerCPU), fmtDur(r.P50), fmtDur(r.P99))
	case "tput":
		return fmt.Sprintf("%.1f MB/s", r.MBps)
	case "fanout":
		return fmt.Sprintf("median %s", fmtDur(median(r.Fanout)))
	case "broadcast":
		return fmt.Sprintf("median %s, %.0f%% of messages compressed", fmtDur(median(r.Fanout)), 100*r.CompressedShare)
	case "idle":
		return fmt.Sprintf("%.0f B RSS, %.0f B heap, %.2f goroutines per connection", r.RSSPerConn, r.HeapPerConn, r.GoroutinesPerC)
	}
	return ""
}

// run starts a server process for adapter on side mode, runs workload w
// against it from a client process, stops both and returns the client's
// result.
func (b *bench) run(adapter, mode, w string) (*clientResult, error) {
	ctx, cancel := context.WithTimeout(context.Background(), b.cfg.runTimeout(w))
	defer cancel()
	srvArgs := []string{"server", "-lib", adapter, "-mode", mode}
	clientArgs := b.cfg.clientArgs(w)
	switch w {
	case "fanout":
		srvArgs = append(srvArgs, "-hub")
	case "broadcast":
		srvArgs = []string{"server", "-lib", adapter, "-mode", modeAdapter, "-hub"}
		switch strings.TrimSuffix(mode, deflateSuffix) {
		case modePrepared:
			srvArgs = append(srvArgs, "-prepared")
		case modeBroadcaster:
			srvArgs = []string{"server", "-lib", adapter, "-mode", modeRaw, "-hub", "-broadcaster"}
		}
		if strings.HasSuffix(mode, deflateSuffix) {
			srvArgs = append(srvArgs, "-deflate")
			clientArgs = append(clientArgs, "-deflate")
		}
	}
	srv, err := b.start(ctx, srvArgs)
	if err != nil {
		return nil, err
	}
	defer srv.stop()
	line, err := srv.line(ctx)
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	addrs, err := parseServerAddrs(line)
	if err != nil {
		return nil, err
	}

	cl, err := b.start(ctx, append([]string{"client", "-ws", addrs.WS, "-debug", addrs.Debug}, clientArgs...))
	if err != nil {
		return nil, err
	}
	line, err = cl.line(ctx)
	if err != nil {
		cl.stop()
		return nil, fmt.Errorf("client: %w%s", err, srv.stderrNote())
	}
	// Stop the server before the client, so that the server closes the
	// TCP connections first and the TIME_WAIT states land on its side.
	srvErr := srv.stop()
	clErr := cl.stop()
	var r clientResult
	if err := json.Unmarshal(line, &r); err != nil {
		return nil, fmt.Errorf("client printed %q, not a result: %w", line, err)
	}
	if srvErr != nil {
		return nil, fmt.Errorf("server: %w", srvErr)
	}
	if clErr != nil {
		return nil, fmt.Errorf("client: %w", clErr)
	}
	return &r, nil
}

// child is a running server or client process.
type child struct {
	name   string
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	lines  chan []byte
	stderr *cappedBuffer
	done   chan struct{} // closed when Wait returned
	err    error         // Wait's error, set before done closes

	stopOnce sync.Once
}

// start starts this program with args; ctx kills it.
func (b *bench) start(ctx context.Context, args []string) (*child, error) {
	prog, argv := b.pin.command(b.exe, args)
	cmd := exec.CommandContext(ctx, prog, argv...)
	cmd.Env = b.env
	cmd.WaitDelay = 5 * time.Second
	c := &child{name: args[0], cmd: cmd, lines: make(chan []byte, 4), stderr: &cappedBuffer{max: 16 << 10}, done: make(chan struct{})}
	cmd.Stdout = &lineWriter{lines: c.lines}
	cmd.Stderr = c.stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	c.stdin = stdin
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting the %s process: %w", args[0], err)
	}
	go func() {
		c.err = cmd.Wait()
		close(c.done)
	}()
	return c, nil
}

// line returns the first line the child prints.
func (c *child) line(ctx context.Context) ([]byte, error) {
	select {
	case l := <-c.lines:
		return l, nil
	case <-c.done:
		select {
		case l := <-c.lines:
			return l, nil
		default:
		}
		return nil, fmt.Errorf("exited (%v) without a result%s", c.err, c.stderrNote())
	case <-ctx.Done():
		return nil, fmt.Errorf("no result in time (%w)%s", ctx.Err(), c.stderrNote())
	}
}

// stop closes the child's standard input, which tells it to exit, and
// waits for it; a child that does not exit within 10 s is killed.
func (c *child) stop() error {
	c.stopOnce.Do(func() { c.stdin.Close() })
	select {
	case <-c.done:
	case <-time.After(10 * time.Second):
		c.cmd.Process.Kill()
		<-c.done
	}
	if c.err != nil {
		return fmt.Errorf("%v%s", c.err, c.stderrNote())
	}
	return nil
}

func (c *child) stderrNote() string {
	if s := bytes.TrimSpace(c.stderr.Bytes()); len(s) > 0 {
		return "; its stderr: " + string(s)
	}
	return ""
}

// lineWriter passes the lines written to it to a channel, dropping lines
// when the channel is full.
type lineWriter struct {
	buf   []byte
	lines chan []byte
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		select {
		case w.lines <- bytes.Clone(w.buf[:i]):
		default:
		}
		w.buf = w.buf[i+1:]
	}
	if len(w.buf) > 1<<20 {
		w.buf = nil // no line that long is expected
	}
	return len(p), nil
}

// cappedBuffer keeps the first max bytes written to it.
type cappedBuffer struct {
	mu  sync.Mutex
	max int
	b   bytes.Buffer
}

func (c *cappedBuffer) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if room := c.max - c.b.Len(); room > 0 {
		c.b.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

// Bytes returns a copy of what was kept.
func (c *cappedBuffer) Bytes() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return bytes.Clone(c.b.Bytes())
}
