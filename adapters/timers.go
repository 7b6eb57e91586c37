package adapters

import (
	"context"
	"time"

	"github.com/websock-go/websock/websock"
)

// watchEvery is when a connection's watch timer first fires: the shorter
// of IdleTimeout and PingInterval, of those set; 0 when neither is.
func (o *Options) watchEvery() time.Duration {
	d := o.IdleTimeout
	if p := o.PingInterval; p > 0 && (d <= 0 || p < d) {
		d = p
	}
	return max(d, 0)
}

// watched is the watch timer's function: one timer serves the idle
// timeout and the keepalive, so that a connection holds one.
func (c *conn) watched() { c.tracked(c.checkWatch) }

// checkWatch runs when the watch timer fires. It ends the connection if
// nothing has arrived from the peer for the idle timeout, or if a
// keepalive ping went unanswered for the pong timeout; it pings a peer
// that has been silent for the ping interval; and it sets the timer again
// for the first of these that can come next.
func (c *conn) checkWatch() {
	o := &c.e.opts
	now := c.now()
	var next time.Duration
	if d := o.IdleTimeout; d > 0 {
		idle := time.Duration(now - c.lastRead.Load())
		if idle >= d {
			c.timeout(websock.Reason{Kind: websock.KindTimeout, Code: websock.CloseGoingAway,
				Text: "idle timeout", Err: websock.ErrIdleTimeout})
			return
		}
		next = d - idle
	}
	if o.PingInterval > 0 {
		k, ok := c.keepalive(now)
		if !ok {
			return
		}
		if next == 0 || k < next {
			next = k
		}
	}
	c.mu.Lock()
	if !c.ended {
		c.watch.Reset(next)
	}
	c.mu.Unlock()
}

// keepalive is the keepalive's part of checkWatch: it ends a connection
// whose ping went unanswered for the pong timeout, pings one that has
// been silent for the ping interval, and returns when it needs to run
// again; false when the connection is ending.
func (c *conn) keepalive(now int64) (time.Duration, bool) {
	o := &c.e.opts
	if sent := c.pingSent.Load(); sent != 0 {
		waited := time.Duration(now - sent)
		if waited >= o.PongTimeout {
			c.noPong()
			return 0, false
		}
		return o.PongTimeout - waited, true
	}
	if silent := time.Duration(now - c.lastRead.Load()); silent < o.PingInterval {
		return o.PingInterval - silent, true
	}
	if p, ok := c.tr.(Pinger); ok {
		// The library waits for the pong itself.
		ctx, cancel := context.WithTimeout(context.Background(), o.PongTimeout)
		err := p.Ping(ctx)
		cancel()
		if err != nil {
			c.noPong()
			return 0, false
		}
		c.touchRead()
		return o.PingInterval, true
	}
	c.pingSent.Store(now)
	if c.write(websock.OpPing, nil) != nil {
		return 0, false
	}
	return o.PongTimeout, true
}

func (c *conn) noPong() {
	c.timeout(websock.Reason{Kind: websock.KindTimeout, Code: websock.CloseGoingAway,
		Text: "no pong", Err: websock.ErrPongTimeout})
}

// tracked runs f unless serve is finishing, and makes serve wait for f
// before it calls Terminate: everything that touches the Transport from
// outside serve's goroutine runs through it.
func (c *conn) tracked(f func()) {
	if !c.track() {
		return
	}
	defer c.wg.Done()
	f()
}

// goTracked runs f on a goroutine of its own, as tracked does.
func (c *conn) goTracked(f func()) {
	if !c.track() {
		return
	}
	go func() {
		defer c.wg.Done()
		f()
	}()
}

// track counts one more goroutine for serve to wait for, unless serve is
// finishing, and reports whether it did.
func (c *conn) track() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ended {
		return false
	}
	c.wg.Add(1)
	return true
}

// afterFunc runs f after d on its own goroutine, unless serve is
// finishing; serve waits for a running f before it calls Terminate.
func (c *conn) afterFunc(d time.Duration, f func()) {
	c.mu.Lock()
	c.afterFuncLocked(d, f)
	c.mu.Unlock()
}

// afterFuncLocked is afterFunc, called with mu held.
func (c *conn) afterFuncLocked(d time.Duration, f func()) Timer {
	if c.ended {
		return nil
	}
	t := c.e.opts.Clock.AfterFunc(d, func() { c.tracked(f) })
	c.timers = append(c.timers, t)
	return t
}
