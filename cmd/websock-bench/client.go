package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/websock-go/websock/cmd/internal/procstat"
)

// The client process: `websock-bench client -workload W -ws ADDR -debug
// ADDR ...`. It runs one workload against a server process with the
// minimal client of wsclient.go, prints one JSON line, a clientResult,
// and then waits for its standard input to close (the parent closes it
// after stopping the server, so that the server's side of every TCP
// connection closes first and the client's ephemeral ports are not left in
// TIME_WAIT).

// clientResult is what the client process prints. Only the fields of its
// workload are set.
type clientResult struct {
	// rtt
	RoundTrips int64   `json:"round_trips,omitempty"`
	PerSecond  float64 `json:"per_second,omitempty"`
	P50        float64 `json:"p50_ns,omitempty"`
	P99        float64 `json:"p99_ns,omitempty"`
	// tput
	MBps float64 `json:"mb_per_s,omitempty"`
	// fanout: nanoseconds from the trigger to the last delivery, per repeat
	Fanout []float64 `json:"fanout_ns,omitempty"`
	// fanout: the share of the messages received that were compressed
	CompressedShare float64 `json:"compressed_share,omitempty"`
	// fanout: the server's CPU time per push, user and system, from before
	// the first push until after the last one was delivered, divided by
	// the pushes; rtt: the server's CPU time over the measured period
	// divided by the round trips in it; 0 where unknown
	ServerCPU float64 `json:"server_cpu_ns,omitempty"`
	// idle: per connection, from the server's stats
	Conns          int     `json:"conns,omitempty"`
	RSSPerConn     float64 `json:"rss_per_conn,omitempty"`
	HeapPerConn    float64 `json:"heap_per_conn,omitempty"`
	StacksPerConn  float64 `json:"stacks_per_conn,omitempty"`
	GoroutinesPerC float64 `json:"goroutines_per_conn,omitempty"`
}

// clientConfig is what the client's flags say.
type clientConfig struct {
	workload string
	ws       string
	debug    string
	conns    int
	size     int
	window   int
	duration time.Duration
	warmup   time.Duration
	reps     int
	settle   time.Duration
	deflate  bool
	sources  []net.IP // idle: local addresses to dial from, in turn
}

// Bounds that keep every loop finite whatever the flags say.
const (
	dialTimeout    = 10 * time.Second
	dialWorkers    = 64
	maxSamples     = 1 << 22 // latency samples kept, across connections
	ioGrace        = 10 * time.Second
	readyTimeout   = 60 * time.Second
	fanoutTimeout  = 10 * time.Second
	stdinWaitLimit = 60 * time.Second
)

func runClient(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("websock-bench client", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg clientConfig
	fs.StringVar(&cfg.workload, "workload", "", "rtt, tput, fanout or idle")
	fs.StringVar(&cfg.ws, "ws", "", "host:port of the WebSocket endpoint")
	fs.StringVar(&cfg.debug, "debug", "", "host:port of the server's stats endpoint")
	fs.IntVar(&cfg.conns, "conns", 1, "connections")
	fs.IntVar(&cfg.size, "size", 1024, "message size, bytes")
	fs.IntVar(&cfg.window, "window", 1, "messages in flight (tput)")
	fs.DurationVar(&cfg.duration, "duration", 3*time.Second, "measured duration (rtt, tput)")
	fs.DurationVar(&cfg.warmup, "warmup", 500*time.Millisecond, "unmeasured warm-up (rtt, tput)")
	fs.IntVar(&cfg.reps, "reps", 5, "repeats (fanout)")
	fs.DurationVar(&cfg.settle, "settle", time.Second, "wait before measuring (idle)")
	fs.BoolVar(&cfg.deflate, "deflate", false, "offer permessage-deflate and require it (fanout)")
	sources := fs.String("source-ips", "", "comma-separated local addresses to dial from, in turn (idle)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ips, err := parseIPs(*sources)
	if err != nil {
		return err
	}
	cfg.sources = ips
	if cfg.conns < 1 || cfg.size < 1 || cfg.window < 1 || cfg.reps < 1 || cfg.duration <= 0 || cfg.warmup < 0 {
		return errors.New("-conns, -size, -window, -reps and -duration must be positive")
	}
	if err := procstat.RaiseFileLimit(); err != nil {
		return err
	}
	if lim := procstat.FileLimit(); lim != 0 && uint64(cfg.conns)+64 > lim {
		return fmt.Errorf("%d connections need more open files than this process may have (%d); lower the connection count or raise the hard limit (ulimit -Hn)", cfg.conns, lim)
	}

	var res *clientResult
	switch cfg.workload {
	case "rtt":
		res, err = clientRTT(&cfg)
	case "tput":
		res, err = clientThroughput(&cfg)
	case "fanout":
		res, err = clientFanout(&cfg)
	case "idle":
		res, err = clientIdle(&cfg)
	default:
		err = fmt.Errorf("unknown -workload %q", cfg.workload)
	}
	if err != nil {
		return err
	}
	if err := json.NewEncoder(stdout).Encode(res); err != nil {
		return err
	}
	// Hold the connections until the parent has stopped the server.
	done := make(chan struct{})
	go func() {
		io.Copy(io.Discard, stdin)
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(stdinWaitLimit):
	}
	return nil
}

// dialAll opens n connections to addr, dialWorkers at a time. On error
// it closes those it opened.
func dialAll(addr string, n, bufSize int) ([]*wsConn, error) {
	return dialAllWith(addr, n, bufSize, dialOpts{})
}

// dialOpts says how the load client dials: from which local addresses,
// in turn (each has its own range of ports, so that more connections than
// one range holds can reach one server address; none means any), and
// whether it offers permessage-deflate.
type dialOpts struct {
	from    []net.IP
	deflate bool
}

// dialAllWith is dialAll with o.
func dialAllWith(addr string, n, bufSize int, o dialOpts) ([]*wsConn, error) {
	conns := make([]*wsConn, n)
	var next atomic.Int64
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	for range min(n, dialWorkers) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				var src net.IP
				if len(o.from) > 0 {
					src = o.from[i%len(o.from)]
				}
				c, err := dialWSWith(addr, src, dialTimeout, bufSize, o.deflate)
				if err != nil {
					once.Do(func() { firstErr = fmt.Errorf("connection %d of %d: %w", i+1, n, err) })
					next.Store(int64(n)) // stop the other workers
					return
				}
				conns[i] = c
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		closeAll(conns)
		return nil, firstErr
	}
	return conns, nil
}

func closeAll(conns []*wsConn) {
	for _, c := range conns {
		if c != nil {
			c.Close()
		}
	}
}

// payload returns size deterministic pseudo-random bytes.
func payload(size int) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	p := make([]byte, size)
	for i := range p {
		p[i] = byte(r.Uint32())
	}
	return p
}

// clientRTT runs the closed-loop workload: each connection sends a
// message, waits for its echo, and repeats. Round trips that start during
// the warm-up are not counted.
func clientRTT(cfg *clientConfig) (*clientResult, error) {
	conns, err := dialAll(cfg.ws, cfg.conns, 4096+cfg.size)
	if err != nil {
		return nil, err
	}
	defer closeAll(conns)
	msg := payload(cfg.size)
	perConn := max(maxSamples/cfg.conns, 1)
	samples := make([][]int64, len(conns))
	counts := make([]int64, len(conns))
	errs := make([]error, len(conns))
	start := time.Now()
	warmEnd := start.Add(cfg.warmup)
	end := warmEnd.Add(cfg.duration)
	// The server's CPU counters at the start and the end of the measured
	// period, read from its debug endpoint, give its CPU per round trip.
	cpu := make(chan [2]int64, 1)
	go func() {
		var at [2]int64
		for i, t := range []time.Time{warmEnd, end} {
			time.Sleep(time.Until(t))
			var st serverStats
			if getJSON(cfg.debug, "/stats", &st) != nil {
				cpu <- [2]int64{}
				return
			}
			at[i] = st.CPU
		}
		cpu <- at
	}()
	var wg sync.WaitGroup
	for i, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			frame := maskedFrame(opBinary, msg)
			c.nc.SetDeadline(end.Add(ioGrace))
			lat := make([]int64, 0, min(perConn, 1<<16))
			for {
				t0 := time.Now()
				if !t0.Before(end) {
					break
				}
				if err := c.writeFrame(frame); err != nil {
					errs[i] = fmt.Errorf("write: %w", err)
					return
				}
				op, got, err := c.readMessage(cfg.size)
				if err != nil {
					errs[i] = fmt.Errorf("read: %w", err)
					return
				}
				if op != opBinary || !bytes.Equal(got, msg) {
					errs[i] = fmt.Errorf("the echo differs from what was sent (opcode %d, %d bytes)", op, len(got))
					return
				}
				if t0.Before(warmEnd) {
					continue
				}
				counts[i]++
				if len(lat) < perConn {
					lat = append(lat, int64(time.Since(t0)))
				}
			}
			samples[i] = lat
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	var all []int64
	var n int64
	for i := range conns {
		all = append(all, samples[i]...)
		n += counts[i]
	}
	if len(all) == 0 {
		return nil, errors.New("no round trip completed in the measured time")
	}
	slices.Sort(all)
	res := &clientResult{
		RoundTrips: n,
		PerSecond:  float64(n) / cfg.duration.Seconds(),
		P50:        float64(percentile(all, 50)),
		P99:        float64(percentile(all, 99)),
	}
	if at := <-cpu; at[0] > 0 && at[1] > at[0] {
		res.ServerCPU = float64(at[1]-at[0]) / float64(n)
	}
	return res, nil
}

// percentile returns the p-th percentile of sorted, by nearest rank.
func percentile(sorted []int64, p float64) int64 {
	i := int(float64(len(sorted))*p/100+0.5) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// clientThroughput streams messages over one connection with up to
// -window of them in flight and counts the echoed bytes that arrive in the
// measured time.
func clientThroughput(cfg *clientConfig) (*clientResult, error) {
	conns, err := dialAll(cfg.ws, cfg.conns, 64<<10)
	if err != nil {
		return nil, err
	}
	defer closeAll(conns)
	msg := payload(cfg.size)
	start := time.Now()
	warmEnd := start.Add(cfg.warmup)
	end := warmEnd.Add(cfg.duration)
	var total atomic.Int64
	errs := make([]error, len(conns))
	var wg sync.WaitGroup
	for i, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = stream(c, msg, cfg.window, warmEnd, end, &total)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return &clientResult{MBps: float64(total.Load()) / 1e6 / cfg.duration.Seconds()}, nil
}

// stream writes msg on c until end, with at most window+1 messages
// unanswered, reads the echoes, and adds to total the bytes of those that
// arrive between warmEnd and end.
func stream(c *wsConn, msg []byte, window int, warmEnd, end time.Time, total *atomic.Int64) error {
	c.nc.SetDeadline(end.Add(ioGrace))
	frame := maskedFrame(opBinary, msg)
	inflight := make(chan struct{}, window) // one token per message written and not yet read
	var werr error
	go func() {
		defer close(inflight)
		for time.Now().Before(end) {
			inflight <- struct{}{}
			if err := c.writeFrame(frame); err != nil {
				werr = fmt.Errorf("write: %w", err)
				c.Close() // the reader then fails too
				return
			}
		}
	}()
	for range inflight {
		op, data, err := c.readMessage(len(msg))
		if err == nil && (op != opBinary || len(data) != len(msg)) {
			err = fmt.Errorf("the echo differs from what was sent (opcode %d, %d bytes)", op, len(data))
		}
		if err != nil {
			c.Close()
			go func() { // let the writer finish
				for range inflight {
				}
			}()
			return fmt.Errorf("read: %w", err)
		}
		if now := time.Now(); !now.Before(warmEnd) && now.Before(end) {
			total.Add(int64(len(data)))
		}
	}
	return werr // the writer closed inflight after setting it
}

// clientFanout opens -conns connections, each with a reader, waits until
// the server has them all, and then, -reps times, asks the server to push
// one message to all of them and times how long until the last one has it.
// Every message is checked against fanoutPayload; with -deflate, the
// connections offer permessage-deflate, must get it, and a compressed
// message is inflated and checked on one connection in inflateEvery (the
// others check only that it is there, so that the client's inflating does
// not slow the measure).
func clientFanout(cfg *clientConfig) (*clientResult, error) {
	conns, err := dialAllWith(cfg.ws, cfg.conns, 512+cfg.size, dialOpts{deflate: cfg.deflate})
	if err != nil {
		return nil, err
	}
	defer closeAll(conns)
	if cfg.deflate && !conns[0].deflate {
		return nil, errors.New("the server declined permessage-deflate; the workload asks for it")
	}
	want := fanoutPayload(cfg.size)
	var got, compressed atomic.Int64
	all := make(chan time.Time, 1)
	readErr := make(chan error, 1)
	for i, c := range conns {
		go func() {
			for {
				op, data, err := c.readMessage(cfg.size + 1024)
				if err == nil && op != opBinary {
					err = fmt.Errorf("pushed message has opcode %d, want binary", op)
				}
				if err == nil {
					err = checkPushed(c, i, data, want)
				}
				if err != nil {
					select {
					case readErr <- err:
					default:
					}
					return
				}
				if c.compressed {
					compressed.Add(1)
				}
				if got.Add(1) == int64(len(conns)) {
					all <- time.Now()
				}
			}
		}()
	}
	if err := waitConns(cfg.debug, len(conns)); err != nil {
		return nil, err
	}
	res := &clientResult{}
	var before serverStats
	if err := getJSON(cfg.debug, "/stats", &before); err != nil {
		return nil, err
	}
	for rep := range cfg.reps {
		got.Store(0)
		t0 := time.Now()
		var fr fanoutReply
		if err := postJSON(cfg.debug, "/fanout?size="+strconv.Itoa(cfg.size), &fr); err != nil {
			return nil, err
		}
		if fr.Sent != len(conns) {
			return nil, fmt.Errorf("repeat %d: the server pushed to %d connections (%d failed), want %d", rep+1, fr.Sent, fr.Failed, len(conns))
		}
		select {
		case t := <-all:
			res.Fanout = append(res.Fanout, float64(t.Sub(t0)))
		case err := <-readErr:
			return nil, fmt.Errorf("repeat %d: %w", rep+1, err)
		case <-time.After(fanoutTimeout):
			return nil, fmt.Errorf("repeat %d: only %d of %d connections got the message within %v", rep+1, got.Load(), len(conns), fanoutTimeout)
		}
		time.Sleep(50 * time.Millisecond) // let the server's writers go idle
	}
	var after serverStats
	if err := getJSON(cfg.debug, "/stats", &after); err != nil {
		return nil, err
	}
	if before.CPU > 0 {
		res.ServerCPU = float64(after.CPU-before.CPU) / float64(cfg.reps)
	}
	res.CompressedShare = float64(compressed.Load()) / float64(cfg.reps*len(conns))
	return res, nil
}

// inflateEvery is how often a fan-out client inflates a compressed
// message to check it: on one connection in this many.
const inflateEvery = 100

// checkPushed checks the message connection i of a fan-out received.
func checkPushed(c *wsConn, i int, data, want []byte) error {
	switch {
	case !c.compressed:
		if !bytes.Equal(data, want) {
			return fmt.Errorf("connection %d: pushed message of %d bytes differs from the %d bytes sent", i, len(data), len(want))
		}
	case i%inflateEvery == 0:
		out, err := inflate(data, len(want))
		if err != nil {
			return fmt.Errorf("connection %d: inflating the pushed message: %w", i, err)
		}
		if !bytes.Equal(out, want) {
			return fmt.Errorf("connection %d: pushed message inflates to %d bytes that differ from the %d bytes sent", i, len(out), len(want))
		}
	case len(data) == 0:
		return fmt.Errorf("connection %d: compressed pushed message is empty", i)
	}
	return nil
}

// fanoutPayload is the message a fan-out pushes, of size bytes: text like
// the JSON events of a chat, which compresses as such events do.
func fanoutPayload(size int) []byte {
	b := make([]byte, 0, size+64)
	for i := 0; len(b) < size; i++ {
		b = fmt.Appendf(b, `{"type":"message","name":"user-%03d","room":"lobby","text":"message %d of the broadcast, %x"}`+"\n", i*7%1000, i, i*2654435761%(1<<32))
	}
	return b[:size]
}

// clientIdle measures what idle connections cost the server: stats after
// a collection, then -conns connections that stay silent, then stats again.
func clientIdle(cfg *clientConfig) (*clientResult, error) {
	var before serverStats
	if err := getJSON(cfg.debug, "/stats?gc=1", &before); err != nil {
		return nil, err
	}
	conns, err := dialAllWith(cfg.ws, cfg.conns, 512, dialOpts{from: cfg.sources})
	if err != nil {
		return nil, err
	}
	defer closeAll(conns)
	if err := waitConns(cfg.debug, len(conns)); err != nil {
		return nil, err
	}
	time.Sleep(cfg.settle)
	var after serverStats
	if err := getJSON(cfg.debug, "/stats?gc=1", &after); err != nil {
		return nil, err
	}
	if after.Conns != len(conns) {
		return nil, fmt.Errorf("the server has %d live connections, want %d", after.Conns, len(conns))
	}
	n := float64(len(conns))
	return &clientResult{
		Conns:          len(conns),
		RSSPerConn:     float64(after.RSS-before.RSS) / n,
		HeapPerConn:    float64(after.Heap-before.Heap) / n,
		StacksPerConn:  float64(after.Stacks-before.Stacks) / n,
		GoroutinesPerC: float64(after.Goroutines-before.Goroutines) / n,
	}, nil
}

// waitConns waits until the server reports n live connections.
func waitConns(debug string, n int) error {
	deadline := time.Now().Add(readyTimeout)
	for {
		var st serverStats
		if err := getJSON(debug, "/stats", &st); err != nil {
			return err
		}
		if st.Conns == n {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the server has %d live connections after %v, want %d", st.Conns, readyTimeout, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

var debugClient = &http.Client{Timeout: 30 * time.Second}

func getJSON(debug, path string, v any) error { return callJSON(http.MethodGet, debug, path, v) }

func postJSON(debug, path string, v any) error { return callJSON(http.MethodPost, debug, path, v) }

func callJSON(method, debug, path string, v any) error {
	req, err := http.NewRequestWithContext(context.Background(), method, "http://"+debug+path, nil)
	if err != nil {
		return err
	}
	resp, err := debugClient.Do(req)
	if err != nil {
		return fmt.Errorf("server stats endpoint: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, bytes.TrimSpace(body))
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	return nil
}

// parseIPs parses a comma-separated list of IP addresses; "" is none.
func parseIPs(list string) ([]net.IP, error) {
	var ips []net.IP
	for _, f := range strings.Split(list, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		ip := net.ParseIP(f)
		if ip == nil {
			return nil, fmt.Errorf("-source-ips: %q is not an IP address", f)
		}
		ips = append(ips, ip)
	}
	return ips, nil
}
