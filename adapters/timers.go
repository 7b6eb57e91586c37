package adapters

import (
	"context"
	"time"

	"github.com/websock-go/websock/websock"
)

// checkIdle runs when the idle timer fires: it ends the connection if
// nothing has arrived from the peer for the idle timeout, or sets the
// timer again for when that will be.
func (c *conn) checkIdle() {
	d := c.e.opts.IdleTimeout
	idle := time.Duration(c.now() - c.lastRead.Load())
	if idle < d {
		c.mu.Lock()
		if !c.ended {
			c.idle.Reset(d - idle)
		}
		c.mu.Unlock()
		return
	}
	c.timeout(websock.Reason{Kind: websock.KindTimeout, Code: websock.CloseGoingAway,
		Text: "idle timeout", Err: websock.ErrIdleTimeout})
}

// keepalive runs when the keepalive timer fires: it ends a connection
// whose ping went unanswered for the pong timeout, pings one that has been
// silent for the ping interval, and sets the timer again.
func (c *conn) keepalive() {
	o := &c.e.opts
	now := c.now()
	var next time.Duration
	if sent := c.pingSent.Load(); sent != 0 {
		waited := time.Duration(now - sent)
		if waited >= o.PongTimeout {
			c.noPong()
			return
		}
		next = o.PongTimeout - waited
	} else if silent := time.Duration(now - c.lastRead.Load()); silent < o.PingInterval {
		next = o.PingInterval - silent
	} else if p, ok := c.tr.(Pinger); ok {
		// The library waits for the pong itself.
		ctx, cancel := context.WithTimeout(context.Background(), o.PongTimeout)
		err := p.Ping(ctx)
		cancel()
		if err != nil {
			c.noPong()
			return
		}
		c.touchRead()
		next = o.PingInterval
	} else {
		c.pingSent.Store(now)
		if c.write(websock.OpPing, nil) != nil {
			return
		}
		next = o.PongTimeout
	}
	c.mu.Lock()
	if !c.ended {
		c.alive.Reset(next)
	}
	c.mu.Unlock()
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
	t := c.timerLocked(d, f)
	if t != nil {
		c.timers = append(c.timers, t)
	}
	return t
}

// timerLocked is afterFuncLocked for the idle and keepalive timers, which
// finish stops from their own fields: they are not added to timers, so
// that an idle connection holds no slice of them.
func (c *conn) timerLocked(d time.Duration, f func()) Timer {
	if c.ended {
		return nil
	}
	return c.e.opts.Clock.AfterFunc(d, func() { c.tracked(f) })
}
