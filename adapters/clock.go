package adapters

import "time"

// Clock is where the engine reads the time and sets its timers: the idle
// timeout, keepalive pings and their pong timeout, the close timeout, the
// pause between the batches of a paced drain, the waits of a client
// between dials, and write deadlines. [Options.Clock] sets it; nil means
// the system clock. Package websocktest sets a clock that moves only when
// the test says so, so that timeouts can be tested without waiting.
//
// AfterFunc must not run f on the caller's goroutine, nor while holding
// a lock f could need: f may set timers of its own.
type Clock interface {
	Now() time.Time
	AfterFunc(d time.Duration, f func()) Timer
}

// Timer is a timer a Clock set, as *time.Timer is one of the system
// clock's: Stop and Reset mean what they mean there.
type Timer interface {
	Stop() bool
	Reset(d time.Duration) bool
}

// systemClock is the Clock of the time package.
type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

func (systemClock) AfterFunc(d time.Duration, f func()) Timer { return time.AfterFunc(d, f) }

// clockTimer returns a channel that gets a value once d has passed on c,
// as time.NewTimer's C does, and the Timer behind it.
func clockTimer(c Clock, d time.Duration) (<-chan struct{}, Timer) {
	ch := make(chan struct{}, 1)
	t := c.AfterFunc(d, func() {
		select {
		case ch <- struct{}{}:
		default:
		}
	})
	return ch, t
}
