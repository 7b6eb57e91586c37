package adapters

import (
	"context"
	"time"

	"github.com/websock-go/websock/websock"
)

// DefaultDrainInterval is the pause between two batches of a paced drain
// when Options.DrainBatch is set and Options.DrainInterval is not.
const DefaultDrainInterval = 2 * time.Second

// closeAll sends r's close frame to conns: all at once, or, with
// Options.DrainBatch set, DrainBatch at a time, DrainInterval apart, so
// that the clients do not all reconnect in the same instant. When the
// batches would not end before ctx's deadline, whatever remains when only
// CloseTimeout is left before it is closed at once, still with its close
// frame, and rep says so (DrainRushed). It returns early when ctx is
// done.
func (e *Engine) closeAll(ctx context.Context, conns []*conn, r websock.Reason, deadline time.Time, rep *drainReporter) {
	batch := e.opts.DrainBatch
	if batch <= 0 || batch >= len(conns) {
		batch = len(conns)
	}
	var rush <-chan time.Time // when the rest must go at once
	var allowed time.Duration
	if !deadline.IsZero() {
		// ctx's deadline is on the system clock, as ctx itself is.
		allowed = time.Until(deadline) - e.opts.CloseTimeout
		t := time.NewTimer(allowed)
		defer t.Stop()
		rush = t.C
	}
	pace := DrainPace{Batch: batch, Interval: e.opts.DrainInterval, Allowed: max(allowed, 0)}
	if batch > 0 {
		pace.Needed = time.Duration((len(conns)+batch-1)/batch-1) * e.opts.DrainInterval
	}
	for len(conns) > 0 {
		n := 0
		var next []*conn
		for len(conns) > 0 && n < batch {
			c := conns[0]
			conns = conns[1:]
			if e.isLive(c) {
				next = append(next, c)
				n++
			}
		}
		// The pause begins before the batch goes: once a client has its
		// close frame, the clock the next batch waits for is set.
		var interval <-chan struct{}
		if len(conns) > 0 {
			ch, t := clockTimer(e.opts.Clock, e.opts.DrainInterval)
			defer t.Stop()
			interval = ch
		}
		for _, c := range next {
			c.goTracked(func() { c.closeWithin(r, deadline) })
		}
		if n > 0 && pace.Rushed == 0 && batch == pace.Batch {
			pace.Paced += n
		}
		if len(conns) == 0 {
			return
		}
		select {
		case <-interval:
		case <-rush:
			batch = len(conns)
			pace.Rushed = 0
			for _, c := range conns {
				if e.isLive(c) {
					pace.Rushed++
				}
			}
			rep.rushed(pace)
		case <-ctx.Done():
			return
		}
	}
}

// isLive reports whether c is still registered.
func (e *Engine) isLive(c *conn) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	_, ok := e.conns[c]
	return ok
}
