package adapters

import (
	"context"
	"errors"
	"sync"
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

	mu       sync.Mutex
	conns    map[*conn]struct{}
	shutdown bool
	idle     chan struct{} // closed when shutdown began and no connection is left
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
	return &Engine{ad: a, acceptFunc: accept, opts: opts.withDefaults(a.Lacks), conns: make(map[*conn]struct{})}, nil
}

// Options returns the options in force, with defaults filled in; a limit
// of 0 means none.
func (e *Engine) Options() Options { return e.opts }

// Live returns how many connections are running.
func (e *Engine) Live() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.conns)
}

func (e *Engine) closing() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.shutdown
}

// Run runs h over tr, a connection already upgraded, until it ends, on the
// calling goroutine, and returns why it ended; Terminate has been called
// by then and tr is no longer used. info is kept, not copied; its Adapter
// is filled in. It is how an adapter serves a connection its caller
// upgraded (ServeConn), and what [Engine.Serve] runs after upgrading.
//
// After Shutdown has begun, the handler never starts: tr gets close 1001
// and is closed, h's Abandon (see websock.Abandoner) is called, and the
// Reason wraps websock.ErrShutdown.
func (e *Engine) Run(tr Transport, h websock.Handler, info *websock.ConnInfo) websock.Reason {
	if info.Adapter == "" {
		info.Adapter = e.ad.Name
	}
	if rel, ok := tr.(Releaser); ok {
		defer rel.Release()
	}
	c := newConn(e, tr, h, info)
	if !e.add(c) {
		r := websock.Reason{Kind: websock.KindShutdown, Code: websock.CloseGoingAway,
			Text: "server shutting down", Err: websock.ErrShutdown}
		c.writeClose(r.Code, r.Text)
		tr.Close()
		abandon(h, websock.ErrShutdown)
		return r
	}
	return c.serve()
}

func (e *Engine) add(c *conn) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.shutdown {
		return false
	}
	e.conns[c] = struct{}{}
	return true
}

func (e *Engine) remove(c *conn) {
	e.mu.Lock()
	delete(e.conns, c)
	if e.shutdown && len(e.conns) == 0 && e.idle != nil {
		close(e.idle)
		e.idle = nil
	}
	e.mu.Unlock()
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
	e.mu.Lock()
	e.shutdown = true
	conns := make([]*conn, 0, len(e.conns))
	for c := range e.conns {
		conns = append(conns, c)
	}
	var idle chan struct{}
	if len(e.conns) > 0 {
		if e.idle == nil {
			e.idle = make(chan struct{})
		}
		idle = e.idle
	}
	e.mu.Unlock()
	if idle == nil {
		return nil
	}

	// Each connection sends its close frame on a goroutine of its own: a
	// write may block behind a push to a peer that stopped reading, and
	// must hold up neither the others nor ctx's deadline.
	deadline, _ := ctx.Deadline()
	for _, c := range conns {
		c.goTracked(func() { c.closeWithin(r, deadline) })
	}

	select {
	case <-idle:
		return nil
	case <-ctx.Done():
	}
	e.mu.Lock()
	for c := range e.conns {
		c.tr.Close()
	}
	e.mu.Unlock()
	<-idle
	return ctx.Err()
}

// writeDeadline returns when a write that starts now must end: after the
// write timeout, and no later than limit when it is set.
func (e *Engine) writeDeadline(limit time.Time) time.Time {
	var d time.Time
	if t := e.opts.WriteTimeout; t > 0 {
		d = time.Now().Add(t)
	}
	if !limit.IsZero() && (d.IsZero() || limit.Before(d)) {
		d = limit
	}
	return d
}
