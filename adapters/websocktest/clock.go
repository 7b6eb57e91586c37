package websocktest

import (
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/websock-go/websock/adapters"
)

// Clock is a clock that moves only when [Clock.Advance] is called. The
// engine takes its time from it (see adapters.Clock): idle timeouts,
// keepalive pings and their pong timeout, close timeouts, the pauses of a
// paced drain and a client's waits between dials all fire when a test
// advances it past them, never on their own.
//
// It starts at the time it was made and is safe for concurrent use.
type Clock struct {
	run func(func()) // runs a timer's function: on the caller's goroutine, labelled

	mu      sync.Mutex
	now     time.Time
	timers  []*timer      // the timers set, in no order
	seq     int           // orders timers due at the same instant
	changed chan struct{} // closed, and replaced, whenever a timer is set
}

var _ adapters.Clock = (*Clock)(nil)

func newClock(run func(func())) *Clock {
	return &Clock{run: run, now: time.Now(), changed: make(chan struct{})}
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// AfterFunc runs f once the clock has been advanced by d. A d of 0 or less
// runs f at once, on a goroutine of its own.
func (c *Clock) AfterFunc(d time.Duration, f func()) adapters.Timer {
	t := &timer{c: c, f: f}
	t.Reset(d)
	return t
}

// Advance moves the clock on by d and runs, in order, the function of
// every timer due by then, on the calling goroutine, each at its time: a
// timer that a function sets within d runs too. Advance returns once they
// all have.
//
// What the peer sent counts for the idle timeout and keepalive once the
// engine has read it: advance after the handler's answer to it arrived.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	until := c.now.Add(d)
	c.mu.Unlock()
	for {
		c.mu.Lock()
		t := c.nextLocked(until)
		if t == nil {
			c.now = until
			c.mu.Unlock()
			return
		}
		c.now = t.when
		t.set = false
		c.mu.Unlock()
		c.run(t.f)
	}
}

// WaitTimer waits until a timer is set to fire within d from the clock's
// now, and fails tb when none is within [Timeout] on the system clock. A
// test calls it before Advance when what sets the timer runs on a
// goroutine of its own, such as a client waiting to dial again after
// HandleDisconnect: advancing before the timer is set would move the
// clock past nothing.
func (c *Clock) WaitTimer(tb testing.TB, d time.Duration) {
	tb.Helper()
	deadline := time.NewTimer(Timeout)
	defer deadline.Stop()
	for {
		c.mu.Lock()
		until, changed := c.now.Add(d), c.changed
		for _, t := range c.timers {
			if !t.when.After(until) {
				c.mu.Unlock()
				return
			}
		}
		c.mu.Unlock()
		select {
		case <-changed:
		case <-deadline.C:
			tb.Fatalf("websocktest: WaitTimer(%v): no timer was set to fire within %v within %v", d, d, Timeout)
		}
	}
}

// nextLocked removes and returns the first timer due by until, or nil.
func (c *Clock) nextLocked(until time.Time) *timer {
	sort.SliceStable(c.timers, func(i, j int) bool {
		a, b := c.timers[i], c.timers[j]
		return a.when.Before(b.when) || (a.when.Equal(b.when) && a.seq < b.seq)
	})
	if len(c.timers) == 0 || c.timers[0].when.After(until) {
		return nil
	}
	t := c.timers[0]
	c.timers = c.timers[1:]
	return t
}

// timer is a timer of a Clock.
type timer struct {
	c    *Clock
	f    func()
	when time.Time
	seq  int
	set  bool // in c.timers
}

// Stop stops the timer; it reports whether the timer was set.
func (t *timer) Stop() bool {
	c := t.c
	c.mu.Lock()
	defer c.mu.Unlock()
	return t.removeLocked()
}

// Reset sets the timer to run its function once the clock has moved on
// by d from now; it reports whether the timer was set before.
func (t *timer) Reset(d time.Duration) bool {
	c := t.c
	c.mu.Lock()
	was := t.removeLocked()
	if d <= 0 {
		c.mu.Unlock()
		go c.run(t.f)
		return was
	}
	c.seq++
	t.when, t.seq, t.set = c.now.Add(d), c.seq, true
	c.timers = append(c.timers, t)
	close(c.changed)
	c.changed = make(chan struct{})
	c.mu.Unlock()
	return was
}

func (t *timer) removeLocked() bool {
	if !t.set {
		return false
	}
	t.set = false
	c := t.c
	for i, x := range c.timers {
		if x == t {
			c.timers = append(c.timers[:i], c.timers[i+1:]...)
			break
		}
	}
	return true
}
