package netpoll

import (
	"runtime"
	"sync/atomic"
	"time"
)

// workerIdle is how long a pool goroutine with nothing to do waits for
// more work before it exits.
const workerIdle = 2 * time.Second

// MaxWorkers bounds the goroutines that run connections' work at once:
// when all are busy, readiness events wait for one to finish.
var MaxWorkers = max(64, 16*runtime.GOMAXPROCS(0))

// LingerWindow is how often lingering connections are swept: one that
// heard nothing for a whole window is let go (see Desc.Linger), between
// one and two windows after its last message.
const LingerWindow = 5 * time.Millisecond

// MaxLingering bounds the pool goroutines that linger (see Desc.Linger):
// wait, parked, for the next message of the connection they just served.
// They are counted apart from MaxWorkers, so that lingering never keeps a
// readiness event waiting for a goroutine. A lingering goroutine holds
// its stack only (its read buffer went back), so 1,024 of them cost a few
// MiB; with fewer, a few hundred connections that all talk at once go
// through epoll and the pool for most messages, a hand-off each (at 500
// busy connections, 64 gave 0.92 of a goroutine per connection's round
// trips and three times its p99 latency; 1,024 gives the same).
var MaxLingering = max(1024, MaxWorkers)

// pool runs functions on at most workers+lingering goroutines, started as
// work comes and ending once idle for workerIdle, or at once when quit is
// closed. At most lingering of them linger at a time, so at least workers
// are there for new work.
type pool struct {
	tasks     chan func()   // unbuffered: an idle worker takes the next
	slots     chan struct{} // one token per running worker
	lingering atomic.Int32  // goroutines lingering
	maxLinger int32
}

func newPool(workers, lingering int) *pool {
	return &pool{tasks: make(chan func()), slots: make(chan struct{}, workers+lingering), maxLinger: int32(lingering)}
}

// linger reports whether one more goroutine may linger; if so, it must
// call unlinger when it stops.
func (p *pool) linger() bool {
	for {
		n := p.lingering.Load()
		if n >= p.maxLinger {
			return false
		}
		if p.lingering.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

func (p *pool) unlinger() { p.lingering.Add(-1) }

// run runs f on an idle worker, or on a new one while there are fewer
// than the bound, or else waits for a worker to take it.
func (p *pool) run(f func(), quit <-chan struct{}) {
	select {
	case p.tasks <- f:
		return
	default:
	}
	select {
	case p.tasks <- f:
	case p.slots <- struct{}{}:
		go p.work(f, quit)
	}
}

// runNow is run for a caller that must not wait (Close, which the engine
// may call holding a lock the workers need): when every worker is busy,
// f runs on a goroutine of its own, beyond the bound.
func (p *pool) runNow(f func(), quit <-chan struct{}) {
	select {
	case p.tasks <- f:
	case p.slots <- struct{}{}:
		go p.work(f, quit)
	default:
		go f()
	}
}

func (p *pool) work(f func(), quit <-chan struct{}) {
	defer func() { <-p.slots }()
	idle := time.NewTimer(workerIdle)
	defer idle.Stop()
	for {
		f()
		idle.Reset(workerIdle)
		select {
		case f = <-p.tasks:
		case <-idle.C:
			return
		case <-quit:
			return
		}
	}
}
