//go:build linux

package netpoll

import (
	"os"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Supported reports whether readiness events are implemented here.
const Supported = true

// poller is the process's epoll instance and the descriptors registered
// with it. Each registration is known by an id, never by its descriptor
// number, which the system reuses once a connection is closed.
type poller struct {
	once    sync.Once
	initErr error
	epfd    int             // the epoll instance
	evfd    int             // an eventfd that wakes the loop; registered with id 0
	eprc    syscall.RawConn // epfd, as the runtime's poller knows it
	epfile  *os.File        // holds epfd open

	// The connections that linger (see Desc.Linger), and the timer that
	// sweeps them while there are any.
	lmu       sync.Mutex
	lingering map[*Desc]struct{}
	sweeper   *time.Timer
	sweeping  bool

	mu      sync.Mutex
	descs   map[uint64]*Desc
	next    uint64
	running bool          // the loop runs
	quit    chan struct{} // closed when the loop exits
	pool    *pool
}

var std poller

func (p *poller) init() error {
	p.once.Do(func() {
		epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
		if err != nil {
			p.initErr = wrap("epoll_create1", err)
			return
		}
		evfd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
		if err != nil {
			unix.Close(epfd)
			p.initErr = wrap("eventfd", err)
			return
		}
		ev := unix.EpollEvent{Events: unix.EPOLLIN}
		if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, evfd, &ev); err != nil {
			unix.Close(epfd)
			unix.Close(evfd)
			p.initErr = wrap("epoll_ctl", err)
			return
		}
		// The loop waits for the epoll instance to have events in the
		// runtime's own poller, as a goroutine waits for a connection,
		// rather than in a blocking epoll_wait that holds a thread.
		if err := unix.SetNonblock(epfd, true); err != nil {
			unix.Close(epfd)
			unix.Close(evfd)
			p.initErr = wrap("fcntl", err)
			return
		}
		f := os.NewFile(uintptr(epfd), "epoll")
		rc, err := f.SyscallConn()
		if err != nil {
			f.Close()
			unix.Close(evfd)
			p.initErr = err
			return
		}
		p.epfd, p.evfd, p.eprc, p.epfile = epfd, evfd, rc, f
		p.descs = make(map[uint64]*Desc)
		p.lingering = make(map[*Desc]struct{})
		p.next = 1
		p.pool = newPool(MaxWorkers, MaxLingering)
	})
	return p.initErr
}

func wrap(call string, err error) error { return &syscallError{call, err} }

type syscallError struct {
	call string
	err  error
}

func (e *syscallError) Error() string { return "netpoll: " + e.call + ": " + e.err.Error() }
func (e *syscallError) Unwrap() error { return e.err }

// loop waits for readiness events and hands each to its descriptor, until
// no descriptor is registered.
func (p *poller) loop(quit chan struct{}) {
	events := make([]unix.EpollEvent, 128)
	var (
		n   int
		err error
	)
	wait := func(fd uintptr) bool {
		n, err = unix.EpollWait(int(fd), events, 0)
		return n > 0 || (err != nil && err != unix.EINTR)
	}
	for {
		if rerr := p.eprc.Read(wait); rerr != nil {
			err = rerr
		}
		if err != nil {
			time.Sleep(10 * time.Millisecond) // not expected; do not spin
			continue
		}
		for i := range n {
			id := uint64(uint32(events[i].Fd)) | uint64(uint32(events[i].Pad))<<32
			if id == 0 {
				var b [8]byte
				unix.Read(p.evfd, b[:])
				p.mu.Lock()
				if len(p.descs) == 0 {
					p.running = false
					close(quit)
					p.mu.Unlock()
					return
				}
				p.mu.Unlock()
				continue
			}
			p.mu.Lock()
			d := p.descs[id]
			p.mu.Unlock()
			if d != nil {
				d.fire()
			}
		}
	}
}

// wake makes the loop check whether it has descriptors left.
func (p *poller) wake() {
	b := [8]byte{1}
	unix.Write(p.evfd, b[:])
}

// Desc is a connection registered for readiness events.
//
// Its descriptor is registered one-shot (EPOLLONESHOT): an event calls
// the function of the Wait before it, and none comes until the next Wait
// arms it again, so a connection whose function reads on by itself (see
// the gobws adapter's linger) costs the poller nothing meanwhile.
type Desc struct {
	p    *poller
	rc   syscall.RawConn
	id   uint64
	quit <-chan struct{} // the loop's, for the pool's workers

	mu      sync.Mutex
	waiting bool   // armed: an event is to call ready
	added   bool   // the descriptor is in the epoll instance
	closed  bool   // Close was called: Wait fails
	ready   func() // what the next event runs
	// ctl is rc.Control's function, made once so that arming allocates
	// nothing; it does op on the descriptor and sets ctlErr.
	ctl    func(fd uintptr)
	op     int
	ctlErr error

	// Lingering (see Linger), guarded by lm.
	lm         sync.Mutex
	evict      func()
	lingerWait bool // between LingerWait and LingerWoke
	heard      bool // bytes arrived since the last sweep
	evicted    bool // the sweep called evict during this wait
}

// Open registers the connection whose descriptor rc reaches. Its
// descriptor is added to the epoll instance at the first Wait.
func Open(rc syscall.RawConn) (*Desc, error) {
	p := &std
	if err := p.init(); err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	d := &Desc{p: p, rc: rc, id: p.next}
	d.ctl = d.control
	p.next++
	p.descs[d.id] = d
	if !p.running {
		p.running = true
		p.quit = make(chan struct{})
		go p.loop(p.quit)
	}
	d.quit = p.quit
	return d, nil
}

func (d *Desc) control(fd uintptr) {
	ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP | unix.EPOLLONESHOT,
		Fd: int32(uint32(d.id)), Pad: int32(uint32(d.id >> 32))}
	d.ctlErr = unix.EpollCtl(d.p.epfd, d.op, int(fd), &ev)
}

// Wait arranges for ready to run once, on a pool goroutine, when the
// connection has something to read (or the peer shut it down), or when
// Close is called; nothing waits meanwhile. Bytes that are there already
// count: ready then runs at once. It reports false (the caller never has
// to read again at once), and fails with ErrClosed once Close has been
// called, or with the error of registering the descriptor.
func (d *Desc) Wait(ready func()) (bool, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return false, ErrClosed
	}
	d.op = unix.EPOLL_CTL_MOD
	if !d.added {
		d.op = unix.EPOLL_CTL_ADD
	}
	err := d.rc.Control(d.ctl)
	if err == nil && d.ctlErr != nil {
		err = wrap("epoll_ctl", d.ctlErr)
	}
	if err != nil {
		return false, err
	}
	d.added, d.waiting, d.ready = true, true, ready
	return false, nil
}

// Linger reports whether the caller, a pool goroutine that has just
// served the connection, may keep it a little longer and wait, parked in
// the runtime's poller, for its next message: fewer than MaxLingering
// goroutines do. If so, the connection is swept every LingerWindow until
// Unlinger: a wait (between LingerWait and LingerWoke) during which
// nothing arrived for a whole window is ended by calling evict, which
// must make the pending read return (a read deadline in the past does).
// The caller must call Unlinger once it stops lingering.
//
// A connection that keeps talking thus pays no clock read and no timer
// per message, only two uncontended locks.
func (d *Desc) Linger(evict func()) bool {
	p := d.p
	if !p.pool.linger() {
		return false
	}
	d.lm.Lock()
	d.evict, d.heard, d.evicted = evict, true, false
	d.lm.Unlock()
	p.lmu.Lock()
	p.lingering[d] = struct{}{}
	if !p.sweeping {
		p.sweeping = true
		if p.sweeper == nil {
			p.sweeper = time.AfterFunc(LingerWindow, p.sweep)
		} else {
			p.sweeper.Reset(LingerWindow)
		}
	}
	p.lmu.Unlock()
	return true
}

// LingerWait is called before each wait while lingering.
func (d *Desc) LingerWait() {
	d.lm.Lock()
	d.lingerWait = true
	d.lm.Unlock()
}

// LingerWoke is called after each wait while lingering; heard says
// bytes arrived. It reports whether the sweep ended the wait: evict was
// called, and its effect (a read deadline in the past) is the caller's to
// undo.
func (d *Desc) LingerWoke(heard bool) (evicted bool) {
	d.lm.Lock()
	d.lingerWait = false
	d.heard = d.heard || heard
	evicted, d.evicted = d.evicted, false
	d.lm.Unlock()
	return evicted
}

// Unlinger ends what Linger allowed. No evict runs after it returns.
func (d *Desc) Unlinger() {
	p := d.p
	p.lmu.Lock()
	delete(p.lingering, d)
	p.lmu.Unlock()
	p.pool.unlinger()
}

// sweep ends the waits of lingering connections that heard nothing for
// a whole window, and runs again after LingerWindow while any linger.
func (p *poller) sweep() {
	p.lmu.Lock()
	defer p.lmu.Unlock()
	for d := range p.lingering {
		d.lm.Lock()
		if d.lingerWait && !d.heard && !d.evicted {
			d.evicted = true
			d.evict()
		}
		d.heard = false
		d.lm.Unlock()
	}
	if len(p.lingering) == 0 {
		p.sweeping = false
		return
	}
	p.sweeper.Reset(LingerWindow)
}

// fire runs the function of the Wait a readiness event answers.
func (d *Desc) fire() {
	d.mu.Lock()
	if !d.waiting {
		d.mu.Unlock()
		return
	}
	d.waiting = false
	f := d.ready
	d.mu.Unlock()
	d.p.pool.run(f, d.quit)
}

// Close makes Wait fail from now on and runs the function of a pending
// Wait at once, so that its owner learns the connection is closed; it
// never waits for a pool goroutine to be free. Call it before closing the
// connection.
func (d *Desc) Close() {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return
	}
	d.closed = true
	waiting := d.waiting
	d.waiting = false
	f := d.ready
	d.mu.Unlock()
	if waiting {
		d.p.pool.runNow(f, d.quit)
	}
}

// Release unregisters the connection, which has ended: nothing waits for
// it any more. The loop exits once no connection is registered.
func (d *Desc) Release() {
	d.Close()
	p := d.p
	p.mu.Lock()
	delete(p.descs, d.id)
	empty := len(p.descs) == 0
	p.mu.Unlock()
	if empty {
		p.wake()
	}
}
