package conformance

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/websock-go/websock/adapters"
	"github.com/websock-go/websock/websock"
)

// shutdownDeadline checks that Shutdown keeps its context's deadline when
// a peer stopped reading while the server writes to it: healthy
// connections still get 1001 at once, and Shutdown returns the context's
// error well before the write timeout.
func shutdownDeadline(e *env) {
	accept, ch := floodProbes()
	const writeTimeout = 60 * time.Second
	srv, err := e.adapter.Serve(accept, &adapters.Options{Logger: quiet, WriteTimeout: writeTimeout, CloseTimeout: 2 * time.Second})
	if err != nil {
		e.Fatalf("starting adapter: %v", err)
	}
	stuck := e.dial(srv)
	ps := e.next(ch)
	healthy := e.dial(srv)
	ph := e.next(ch)
	healthy.sendText("hi")
	e.wantMessage(healthy, opText, "hi")
	stuck.sendText("flood me")         // and never read again
	time.Sleep(200 * time.Millisecond) // let the pushes fill the buffers

	start := time.Now()
	shut := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		defer cancel()
		shut <- srv.Shutdown(ctx)
	}()
	e.closeAndReply(healthy, 1001, "a healthy connection gets 1001 although another is stuck")
	e.wantReason(ph, websock.KindShutdown, websock.CloseGoingAway, websock.ErrShutdown, "Shutdown terminates Shutdown")
	select {
	case err := <-shut:
		if !errors.Is(err, context.DeadlineExceeded) {
			e.Errorf("Shutdown returned %v with a connection still open at its deadline; want context.DeadlineExceeded", err)
		}
	case <-time.After(writeTimeout / 2):
		e.Fatalf("Shutdown(500ms) still running after %v (rule: Shutdown closes what remains when its context ends)", time.Since(start))
	}
	r := e.reason(ps)
	if r.Kind != websock.KindShutdown && !errors.Is(r, websock.ErrWriteFailed) {
		e.Errorf("the stuck connection terminated with %v; want Shutdown (or a failed write)", r)
	}
}

// restart checks that Restart closes with 1012 and a Shutdown reason
// wrapping ErrRestart.
func restart(e *env) {
	accept, ch := probes(nil, false)
	srv := e.serve(accept, nil)
	if srv.Restart == nil {
		e.Skip("the Server of this adapter has no Restart; set Server.Restart to the adapter's Restart")
	}
	c := e.dial(srv)
	p := e.next(ch)
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		done <- srv.Restart(ctx)
	}()
	e.closeAndReply(c, 1012, "Restart closes with 1012 (service restart)")
	r := e.wantReason(p, websock.KindShutdown, websock.CloseServiceRestart, websock.ErrRestart, "Restart terminates Shutdown with ErrRestart")
	if !errors.Is(r, websock.ErrShutdown) {
		e.Errorf("Restart's reason %v does not match websock.ErrShutdown", r)
	}
	if err := <-done; err != nil {
		e.Errorf("Restart: %v", err)
	}
}

func idleTimeout(e *env) {
	e.needSilentClient()
	accept, ch := probes(nil, false)
	c := e.dial(e.serve(accept, &adapters.Options{IdleTimeout: 300 * time.Millisecond}))
	p := e.next(ch)
	cf := e.closeAndReply(c, 1001, "idle timeout closes 1001")
	_ = cf
	e.wantReason(p, websock.KindTimeout, websock.CloseGoingAway, websock.ErrIdleTimeout, "idle timeout terminates Timeout")
}

func activityKeepsAlive(e *env) {
	e.needSilentClient()
	accept, ch := probes(nil, false)
	c := e.dial(e.serve(accept, &adapters.Options{IdleTimeout: time.Second}))
	p := e.next(ch)
	// 20 x 100ms: twice the idle timeout, never idle for long. The timeout
	// leaves room for a busy machine to stall a round trip for most of it.
	for i := 0; i < 20; i++ {
		c.sendText("tick")
		e.wantMessage(c, opText, "tick")
		time.Sleep(100 * time.Millisecond)
	}
	select {
	case r := <-p.reasons:
		e.Fatalf("the connection ended (%v) although it was never idle for the idle timeout", r)
	default:
	}
	e.closeAndReply(c, 1001, "then, idle, it times out")
}

func shutdown(e *env) {
	accept, ch := probes(nil, false)
	opts := &adapters.Options{Logger: quiet, CloseTimeout: 2 * time.Second}
	srv, err := e.adapter.Serve(accept, opts)
	if err != nil {
		e.Fatalf("starting adapter: %v", err)
	}
	var clients []*client
	var ps []*probe
	for i := 0; i < 3; i++ {
		c := e.dial(srv)
		clients = append(clients, c)
		ps = append(ps, e.next(ch))
		c.sendText("hello")
		e.wantMessage(c, opText, "hello")
	}
	errc := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		errc <- srv.Shutdown(ctx)
	}()
	for _, c := range clients {
		e.closeAndReply(c, 1001, "Shutdown closes every connection with 1001")
	}
	select {
	case err := <-errc:
		if err != nil {
			e.Errorf("Shutdown: %v; want nil after every client answered the close", err)
		}
	case <-time.After(15 * time.Second):
		e.Fatal("Shutdown did not return within 15s")
	}
	for _, p := range ps {
		e.wantReason(p, websock.KindShutdown, websock.CloseGoingAway, websock.ErrShutdown, "Shutdown terminates Shutdown")
	}
	if c, _, err := dial(srv.URL, nil); err == nil {
		c.close()
		e.Errorf("a new connection was accepted after Shutdown")
	}
}

func keepalivePing(e *env) {
	accept, ch := probes(nil, false)
	c := e.dial(e.serve(accept, &adapters.Options{PingInterval: 100 * time.Millisecond, PongTimeout: 200 * time.Millisecond}))
	p := e.next(ch)
	pings := 0
	for end := time.Now().Add(700 * time.Millisecond); time.Now().Before(end); {
		f, err := c.readFrame(time.Until(end) + 50*time.Millisecond)
		if err != nil {
			break
		}
		if f.op == opPing {
			pings++
			c.send(opPong, f.payload)
		}
	}
	if pings < 2 {
		e.Errorf("got %d keepalive pings in 700ms with PingInterval 100ms; want several", pings)
	}
	select {
	case r := <-p.reasons:
		e.Fatalf("the connection ended (%v) although every ping was answered", r)
	default:
	}
	// Stop answering: the pong timeout ends the connection.
	e.closeAndReply(c, 1001, "a missing pong ends the connection with 1001")
	e.wantReason(p, websock.KindTimeout, websock.CloseGoingAway, websock.ErrPongTimeout, "a missing pong terminates Timeout")
}

// pacedDrain checks Options.DrainBatch: Shutdown closes the connections a
// batch at a time, no batch before its time, refuses new upgrades with
// 503 and Retry-After meanwhile, and every connection terminates with a
// Shutdown reason.
func pacedDrain(e *env) {
	const conns, batch, interval = 5, 2, 150 * time.Millisecond
	accept, ch := probes(nil, false)
	srv := e.serve(accept, &adapters.Options{DrainBatch: batch, DrainInterval: interval})
	var clients []*client
	var ps []*probe
	for range conns {
		c := e.dial(srv)
		clients = append(clients, c)
		ps = append(ps, e.next(ch))
		c.sendText("hello") // the echo shows the connection runs
		e.wantMessage(c, opText, "hello")
	}
	start := time.Now()
	shut := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		shut <- srv.Shutdown(ctx)
	}()
	arrived := make(chan time.Duration, conns)
	for _, c := range clients {
		go func() {
			cf, err := c.expectClose(10 * time.Second)
			if err != nil || cf.code != 1001 {
				e.Errorf("a drained connection got %+v, %v; want close 1001", cf, err)
			}
			arrived <- time.Since(start)
			c.sendClose(1001, "")
		}()
	}
	// Batch k may not start before k intervals have passed; the close
	// frames of batch k are the ones from 2k on, in order of arrival.
	var at []time.Duration
	for range conns {
		at = append(at, <-arrived)
		if len(at) == 1 {
			_, resp, err := dial(srv.URL, nil)
			switch {
			case err == nil:
				e.Errorf("a new connection was accepted during the drain (rule: new upgrades get 503 while draining)")
			case resp == nil || resp.StatusCode != http.StatusServiceUnavailable:
				e.Errorf("a new upgrade during the drain got %v (%v); want 503", resp, err)
			case resp.Header.Get("Retry-After") == "":
				e.Errorf("the 503 during the drain has no Retry-After header")
			}
		}
	}
	slices.Sort(at)
	for i, d := range at {
		if earliest := time.Duration(i/batch) * interval; d < earliest {
			e.Errorf("close frame %d arrived %v after Shutdown began; its batch (%d of %d) may not start before %v (rule: DrainBatch %d, DrainInterval %v)",
				i+1, d.Round(time.Millisecond), i/batch+1, (conns+batch-1)/batch, earliest, batch, interval)
		}
	}
	if err := <-shut; err != nil {
		e.Errorf("Shutdown: %v", err)
	}
	for _, p := range ps {
		e.wantReason(p, websock.KindShutdown, websock.CloseGoingAway, websock.ErrShutdown, "a drained connection terminates with Shutdown")
	}
}
