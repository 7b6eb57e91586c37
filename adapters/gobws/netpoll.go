package gobws

import (
	"errors"
	"os"
	"time"

	"github.com/websock-go/websock/adapters"
	"github.com/websock-go/websock/adapters/internal/netpoll"
	"github.com/websock-go/websock/websock"
)

// NetpollAdapter describes the event-driven mode of this adapter (see
// [NewNetpoll]): the same library and frame handling, under another name.
// On Linux an idle connection holds no goroutine.
var NetpollAdapter = adapters.Adapter{
	Name:           "gobws-netpoll",
	Library:        "github.com/gobwas/ws",
	Server:         "net/http",
	IdleGoroutines: 1, // where readiness events are not implemented
	EventDriven:    netpoll.Supported,
}

// NewNetpoll returns a Handler, like [New], whose connections run on
// readiness events instead of a goroutine each: an idle connection holds
// no goroutine and no read or write buffer, only its state (a few hundred
// bytes) and its registration with the poller.
//
// Design. The process has one epoll instance of its own besides the Go
// runtime's. Once a connection is upgraded and Init has run, its
// descriptor, obtained through syscall.RawConn, is registered with it for
// EPOLLIN and EPOLLRDHUP, one-shot. While any connection is registered,
// one goroutine waits for the instance to have events, parked in the
// runtime's poller (no thread blocks in epoll_wait). When bytes arrive on
// a connection, a goroutine from a bounded pool (started on demand,
// ending when idle) takes a buffer from a pool, reads what has arrived
// with a non-blocking read through RawConn.Read (again while a read fills
// the whole buffer), and hands every complete message to the handler.
//
// It then lingers, while fewer than netpoll.MaxLingering goroutines do
// (1,024, counted apart from the pool's workers): it
// gives the buffer back and waits for the next message in the runtime's
// poller, as a goroutine of its own would, so that a connection that
// keeps talking does not pay a trip through the epoll instance and the
// pool per message. A sweep every 5ms ends the waits that heard nothing
// since the one before, so a connection is let go 5 to 10ms after its
// last message, with no clock read or timer per message; the connection
// is then registered again. The descriptor stays in the runtime's hands:
// every read goes through RawConn.Read and every write through net.Conn,
// so deadlines and Close work as usual.
//
// A pool goroutine never waits for a frame that has not started: an
// uncompressed message whose next fragment has not arrived is kept, and
// read on when it does. It may wait for the rest of a frame that has
// started, and for the next fragment of a compressed message, whose
// decompressor cannot stop halfway: such a wait ends the connection as
// lost after Options.IdleTimeout (60s by default). Timers (idle timeout,
// keepalive) are time.AfterFunc timers, which hold no goroutine. Messages
// sent with Conn.Send are delivered to HandleInfo as with New.
//
// Where readiness events are not implemented (any system but Linux), and
// for a connection without a descriptor, the Handler runs the connection
// on a goroutine of its own, as New does.
func NewNetpoll(accept websock.AcceptFunc, opts *Options) (*Handler, error) {
	e, err := adapters.NewEngine(NetpollAdapter, accept, opts)
	if err != nil {
		return nil, err
	}
	h := &Handler{e: e, opts: e.Options()}
	h.poll = netpoll.Supported
	return h, nil
}

// polled is the transport of a connection run on readiness events.
type polled struct {
	*transport
	d     *netpoll.Desc
	evict func() // ends a lingering wait (see netpoll.Desc.Linger)
}

var (
	_ adapters.EventTransport = (*polled)(nil)
	_ adapters.Releaser       = (*polled)(nil)
)

// eventTransport returns t to run on readiness events, or t itself when
// it cannot be.
func (h *Handler) eventTransport(t *transport) adapters.Transport {
	if !h.poll || !t.in.canPoll() {
		return t
	}
	d, err := netpoll.Open(t.in.rc)
	if err != nil {
		return t
	}
	t.polling = true
	pt := &polled{transport: t, d: d}
	pt.evict = func() { t.nc.SetReadDeadline(evictNow) }
	t.in.stall = h.opts.IdleTimeout
	if t.in.stall <= 0 {
		t.in.stall = adapters.DefaultIdleTimeout
	}
	return pt
}

// Wait calls ready on a pool goroutine once the peer has sent something
// (at once if it has already).
func (p *polled) Wait(ready func()) (bool, error) { return p.d.Wait(ready) }

// ReadReady reads what has arrived, usually with one read, and reports
// every message it completes; then, if it may, it lingers: waits for
// more, parked in the runtime's poller, until nothing has arrived for
// netpoll.LingerWindow (5ms). It returns nil once nothing more has
// started.
func (p *polled) ReadReady(ev adapters.Events) error {
	t := p.transport
	t.ev = ev
	defer t.in.unstall()
	wait := false      // linger for more, rather than read what is there
	lingering := false // Linger allowed it, until this returns
	defer func() {
		if lingering {
			p.d.Unlinger()
		}
	}()
	for {
		var err error
		if wait {
			if !lingering {
				if !p.d.Linger(p.evict) {
					return nil
				}
				lingering = true
			}
			err = p.linger()
		} else {
			err = t.in.poll()
		}
		if err == errAgain {
			if wait {
				return nil
			}
			wait = true
			continue
		}
		if err != nil {
			return err
		}
		for {
			op, data, err := t.readMessage()
			if err == errAgain {
				break
			}
			if err != nil {
				return err
			}
			if err := ev.Message(op, data); err != nil {
				return err
			}
		}
		// Read on while a read fills the whole buffer; once one comes
		// back short, linger.
		wait = t.in.drained
	}
}

// linger waits for the next bytes, in the runtime's poller, and leaves
// them buffered; it returns errAgain when the poller's sweep ended the
// wait (nothing arrived for a whole window).
func (p *polled) linger() error {
	in := &p.in
	if ok, err := in.pending(); ok {
		return err
	}
	p.d.LingerWait()
	err := in.waitFD()
	if p.d.LingerWoke(err == nil) {
		// The sweep set a read deadline in the past to end the wait.
		p.nc.SetReadDeadline(time.Time{})
		if err != nil && errors.Is(err, os.ErrDeadlineExceeded) {
			return errAgain
		}
	}
	return err
}

// evictNow is a read deadline in the past: set, it makes a pending read
// return at once.
var evictNow = time.Unix(1, 0)

// Close closes the connection, and wakes the engine if it waits for it.
func (p *polled) Close() error {
	p.d.Close()
	return p.nc.Close()
}

// Release gives back the buffers and the registration.
func (p *polled) Release() {
	p.transport.Release()
	p.d.Release()
}
