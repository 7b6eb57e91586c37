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

// pool runs functions on at most MaxWorkers goroutines, started as work
// comes and ending once idle for workerIdle, or at once when quit is
// closed.
type pool struct {
	tasks  chan func()   // unbuffered: an idle worker takes the next
	slots  chan struct{} // one token per running worker
	active atomic.Int32  // functions running
}

// spare reports whether fewer than half the bound's functions run.
func (p *pool) spare() bool { return int(p.active.Load()) < cap(p.slots)/2 }

func newPool(n int) *pool {
	return &pool{tasks: make(chan func()), slots: make(chan struct{}, n)}
}

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
		p.active.Add(1)
		f()
		p.active.Add(-1)
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
