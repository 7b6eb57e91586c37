package adapters

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/websock-go/websock/websock"
)

// Engine runs the connections of one adapter endpoint: it owns the upgrade
// sequence ([Engine.Serve], [Engine.ServeHTTP]), the lifecycle of every
// connection ([Engine.Run]) and their graceful end ([Engine.Shutdown]).
// An adapter makes one with [NewEngine] and keeps it unexported; it is
// safe for concurrent use.
type Engine struct {
	ad         Adapter
	acceptFunc websock.AcceptFunc
	opts       Options
	obs        Observer        // opts.Observer; nil when none
	mobs       MessageObserver // obs, when it wants every message
	// observerLogs: obs logs failures and panics to the Logger's handler,
	// so the engine does not log them again (observer.go).
	observerLogs bool
	start        time.Time // when the engine was made: connections count their times from it

	mu        sync.Mutex
	conns     map[*conn]struct{}
	pending   int            // upgrades under way: accepted, not yet running
	admitting int            // upgrades admitted by the limits, not yet reserved (limits.go)
	held      int            // conns, pending and admitting, as last added to the process's count (limits.go)
	fdCap     int64          // the descriptor cap (limits.go); 0: none
	rate      bucket         // Options.UpgradeRate
	shutdown  bool           // a stop began: no new upgrade is accepted
	stopping  websock.Reason // the reason of the stop, for connections that register during it
	limit     time.Time      // the stop's deadline, if any
	changed   chan struct{}  // closed, and replaced, whenever conns or pending change
}

// NewEngine returns an Engine for adapter a that accepts upgrades through
// accept, configured by opts (nil means defaults; opts is copied, not
// kept). When opts sets an option that a.Lacks says the library cannot
// honour, it returns an error matching ErrUnsupportedOption instead of
// ignoring the option.
func NewEngine(a Adapter, accept websock.AcceptFunc, opts *Options) (*Engine, error) {
	if err := a.check(opts); err != nil {
		return nil, err
	}
	o := opts.withDefaults(a.Lacks)
	e := &Engine{ad: a, acceptFunc: accept, opts: o, conns: make(map[*conn]struct{}),
		changed: make(chan struct{}), rate: newBucket(o.UpgradeRate, o.UpgradeBurst)}
	if o.MaxConnections >= 0 {
		e.fdCap = descriptorCap()
	}
	e.start = e.opts.Clock.Now()
	e.obs = e.opts.Observer
	e.mobs, _ = e.obs.(MessageObserver)
	if at, ok := e.obs.(Attacher); ok {
		at.Attach(a.Name)
	}
	if lo, ok := e.obs.(LogObserver); ok {
		e.observerLogs = logsTo(lo, e.opts.Logger.Handler())
	}
	return e, nil
}

// Options returns the options in force, with defaults filled in; a limit
// of 0 means none, but for MaxConnections, whose 0 is the descriptor cap
// and -1 none.
func (e *Engine) Options() Options { return e.opts }

// Live returns how many connections are running.
func (e *Engine) Live() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.conns)
}

// errNoRead is the Reason of a connection whose Writer is none of the
// three shapes of Transport.
var errNoRead = errors.New("websock: the adapter's Upgraded.Transport is neither a Transport, an EventTransport nor a PushTransport; implement one of them")

// runsOnEvents reports whether tr runs on events its library delivers
// (an EventTransport or a PushTransport) rather than on a goroutine that
// calls Read.
func runsOnEvents(tr Writer) bool {
	switch tr.(type) {
	case EventTransport, PushTransport:
		return true
	}
	return false
}

// Run runs h over tr, a connection already upgraded, until it ends, on the
// calling goroutine, and returns why it ended; Terminate has been called
// by then and tr is no longer used. info is kept, not copied; its Adapter
// is filled in. It is how an adapter serves a connection its caller
// upgraded (ServeConn).
//
// After Shutdown has begun, the handler never starts: tr gets close 1001
// and is closed, h's Abandon (see websock.Abandoner) is called, and the
// Reason wraps websock.ErrShutdown.
//
// When tr is an [EventTransport] or a [PushTransport], the connection
// runs on the goroutines its events come on, and Run waits for its end;
// [Engine.Start] does not wait.
func (e *Engine) Run(tr Writer, h websock.Handler, info *websock.ConnInfo) websock.Reason {
	if !runsOnEvents(tr) {
		r, _ := e.run(tr, h, info, nil, nil, false)
		return r
	}
	ch := make(chan websock.Reason, 1)
	if r, started := e.run(tr, h, info, nil, func(r websock.Reason) { ch <- r }, false); !started {
		return r
	}
	return <-ch
}

// run is Run for a connection Serve reserved before upgrading it (res may
// be nil): a stop that began since waits for it and closes it with the
// stop's reason, instead of refusing it. When tr is an EventTransport, run
// returns once the connection waits for its first event, reporting
// started, and the connection's Reason goes to done once it has ended.
// With detach, a Transport's Read runs on a goroutine of its own, started
// once Init has returned, and run returns then, reporting started, as for
// an EventTransport: the caller's goroutine, whose stack Init and the
// upgrade grew, is not kept for the life of the connection.
func (e *Engine) run(tr Writer, h websock.Handler, info *websock.ConnInfo, res *reservation, done func(websock.Reason), detach bool) (r websock.Reason, started bool) {
	if info.Adapter == "" {
		info.Adapter = e.ad.Name
	}
	et, events := tr.(EventTransport)
	pt, pushed := tr.(PushTransport)
	_, pulled := tr.(Transport)
	if !events && !pushed && !pulled {
		tr.Close()
		err := fmt.Errorf("%w: %T", errNoRead, tr)
		abandon(h, err)
		return errorReason(err, websock.CloseInternalError, "internal error"), false
	}
	if rel, ok := tr.(Releaser); ok {
		defer func() {
			if !started {
				rel.Release()
			}
		}()
	}
	c := newConn(e, tr, h, info)
	stopping, ok := e.add(c, res != nil && res.claim())
	if !ok {
		r := websock.Reason{Kind: websock.KindShutdown, Code: websock.CloseGoingAway,
			Text: "server shutting down", Err: websock.ErrShutdown}
		c.writeClose(r.Code, r.Text)
		tr.Close()
		abandon(h, websock.ErrShutdown)
		return r, false
	}
	if e.obs != nil {
		e.obs.Start(StartEvent{Adapter: e.ad.Name, Info: info})
	}
	if stopping != nil {
		// The client has its 101: it is a connection like any other,
		// closed as the stop closes them all.
		r, limit := *stopping, e.limit
		c.goTracked(func() { c.closeWithin(r, limit) })
	}
	switch {
	case pushed:
		c.servePush(pt, done)
		return websock.Reason{}, true
	case events:
		c.serveEvents(et, done)
		return websock.Reason{}, true
	case detach:
		c.begin()
		go c.read(done)
		return websock.Reason{}, true
	}
	return c.serve(), false
}

// reservation holds the place of an upgrade under way, so that a stop that
// begins before the connection runs waits for it. A server may answer
// 101 and then never hand the connection over (fasthttp, when writing the
// response fails); a reservation not claimed within the write timeout,
// and a second, is dropped.
type reservation struct {
	e     *Engine
	state atomic.Int32 // reserved, claimed or dropped
	timer Timer
}

const (
	reserved int32 = iota
	claimed
	dropped
)

// reserve counts an upgrade under way, unless a stop began, in place of
// its admission (see admit): at no time is it counted twice against
// Options.MaxConnections, nor not at all.
func (e *Engine) reserve() *reservation {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.admitting--
	defer e.tallyLocked()
	if e.shutdown {
		return nil
	}
	e.pending++
	r := &reservation{e: e}
	d := e.opts.WriteTimeout
	if d <= 0 {
		d = DefaultWriteTimeout
	}
	r.timer = e.opts.Clock.AfterFunc(d+time.Second, r.drop)
	return r
}

// claim turns the reservation into the connection's registration, and
// reports whether it was still held.
func (r *reservation) claim() bool {
	if !r.state.CompareAndSwap(reserved, claimed) {
		return false
	}
	r.timer.Stop()
	return true
}

// cancel gives the reservation up because the upgrade failed.
func (r *reservation) cancel() {
	r.timer.Stop()
	r.drop()
}

// drop gives the reservation up, if it is still held: the upgrade failed
// or the connection never came. It is the timer's function, so it does
// not touch the timer.
func (r *reservation) drop() {
	if !r.state.CompareAndSwap(reserved, dropped) {
		return
	}
	r.e.mu.Lock()
	defer r.e.mu.Unlock()
	r.e.pending--
	r.e.changedLocked()
}

// add registers c, from a reservation when reserved. It reports false when
// c may not run (a stop began and c was not reserved), and the stop's
// reason when c runs during a stop.
func (e *Engine) add(c *conn, reserved bool) (stopping *websock.Reason, ok bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if reserved {
		e.pending--
	} else if e.shutdown {
		return nil, false
	}
	e.conns[c] = struct{}{}
	e.changedLocked()
	if e.shutdown {
		r := e.stopping
		return &r, true
	}
	return nil, true
}

func (e *Engine) remove(c *conn) {
	e.mu.Lock()
	delete(e.conns, c)
	e.changedLocked()
	e.mu.Unlock()
}

// changedLocked wakes whoever waits for the connections to change. Called
// with mu held.
func (e *Engine) changedLocked() {
	e.tallyLocked()
	close(e.changed)
	e.changed = make(chan struct{})
}

// Shutdown closes every live connection gracefully: each gets close 1001
// (going away) and Terminate with a Shutdown reason wrapping
// websock.ErrShutdown, and new upgrades are refused with 503 and
// Retry-After. It waits until every connection has terminated or ctx is
// done; in the latter case it closes the remaining connections at once,
// waits for their Terminate, and returns ctx's error. A connection whose
// peer stopped reading does not hold up the others. Calling it again
// waits again.
//
// An HTTP server's own Shutdown does not close upgraded connections: call
// both, this one first.
func (e *Engine) Shutdown(ctx context.Context) error {
	return e.stop(ctx, websock.Reason{Kind: websock.KindShutdown, Code: websock.CloseGoingAway,
		Text: "server shutting down", Err: websock.ErrShutdown})
}

// Restart is Shutdown with close 1012 (service restart) instead of 1001,
// telling clients that the service is coming back and they may reconnect
// soon; Terminate sees a Shutdown reason wrapping both websock.ErrShutdown
// and websock.ErrRestart.
func (e *Engine) Restart(ctx context.Context) error {
	return e.stop(ctx, websock.Reason{Kind: websock.KindShutdown, Code: websock.CloseServiceRestart,
		Text: "service restart", Err: errRestartShutdown})
}

var errRestartShutdown = errors.Join(websock.ErrShutdown, websock.ErrRestart)

func (e *Engine) stop(ctx context.Context, r websock.Reason) error {
	deadline, _ := ctx.Deadline()
	e.mu.Lock()
	if !e.shutdown {
		e.shutdown, e.stopping, e.limit = true, r, deadline
	}
	r = e.stopping // a second call waits for the first's
	conns := make([]*conn, 0, len(e.conns))
	for c := range e.conns {
		conns = append(conns, c)
	}
	left := len(e.conns) + e.pending
	e.mu.Unlock()
	rep := e.drainReporter(r.Code)
	rep.report(DrainBegin, left, nil)

	// Each connection sends its close frame on a goroutine of its own: a
	// write may block behind a push to a peer that stopped reading, and
	// must hold up neither the others nor ctx's deadline. Connections
	// still upgrading close themselves when they register.
	e.closeAll(ctx, conns, r, deadline, rep)

	// Wait for every connection, and every upgrade under way, to end.
	for {
		e.mu.Lock()
		left, changed := len(e.conns)+e.pending, e.changed
		e.mu.Unlock()
		if left == 0 {
			rep.report(DrainDone, 0, nil)
			return nil
		}
		rep.report(DrainProgress, left, nil)
		select {
		case <-changed:
			continue
		case <-ctx.Done():
		}
		break
	}
	// Out of time: close what remains at once, and wait for its
	// Terminate; an upgrade still under way is not waited for.
	deadlineReported := false
	for {
		e.mu.Lock()
		for c := range e.conns {
			c.tr.Close()
		}
		left, changed := len(e.conns), e.changed
		e.mu.Unlock()
		if !deadlineReported {
			rep.report(DrainDeadline, left, ctx.Err())
			deadlineReported = true
		}
		if left == 0 {
			rep.report(DrainDone, 0, ctx.Err())
			return ctx.Err()
		}
		rep.report(DrainProgress, left, nil)
		<-changed
	}
}

// writeDeadline returns when a write that starts now must end: after the
// write timeout, and no later than limit when it is set.
func (e *Engine) writeDeadline(limit time.Time) time.Time {
	var d time.Time
	if t := e.opts.WriteTimeout; t > 0 {
		d = e.opts.Clock.Now().Add(t)
	}
	if !limit.IsZero() && (d.IsZero() || limit.Before(d)) {
		d = limit
	}
	return d
}
