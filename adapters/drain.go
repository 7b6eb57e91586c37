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
		allowed = time.Until(deadline) - e.opts.CloseTimeout
		t := time.NewTimer(allowed)
		defer t.Stop()
		rush = t.C
	}
	pace := DrainPace{Batch: batch, Interval: e.opts.DrainInterval, Allowed: max(allowed, 0)}
	if batch > 0 {
		pace.Needed = time.Duration((len(conns)+batch-1)/batch-1) * e.opts.DrainInterval
	}
	interval := time.NewTimer(0)
	defer interval.Stop()
	<-interval.C
	for len(conns) > 0 {
		n := 0
		for len(conns) > 0 && n < batch {
			c := conns[0]
			conns = conns[1:]
			if e.isLive(c) {
				c.goTracked(func() { c.closeWithin(r, deadline) })
				n++
			}
		}
		if n > 0 && pace.Rushed == 0 && batch == pace.Batch {
			pace.Paced += n
		}
		if len(conns) == 0 {
			return
		}
		interval.Reset(e.opts.DrainInterval)
		select {
		case <-interval.C:
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
