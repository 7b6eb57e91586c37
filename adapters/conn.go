package adapters

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/websock-go/websock/websock"
)

// Connection states.
const (
	stateOpen    uint32 = iota // callbacks run
	stateClosing               // the end is decided; no callback but Terminate runs
)

// conn is the engine's side of one connection: the serial actor that runs
// a websock.Handler over a Transport. It is the websock.Conn the handler
// gets, and the Events its Transport reports to.
type conn struct {
	e   *Engine
	tr  Writer
	h   websock.Handler
	ctl websock.ControlHandler // nil when h does not observe control frames
	// info is the connection's ConnInfo, nil while packed holds it
	// instead (Info, packInfo in info.go; packed is guarded by mu).
	info   atomic.Pointer[websock.ConnInfo]
	packed *packedInfo

	// onInit, when set, runs once Init's Result is applied, before any
	// other callback (a client hands its queued messages over).
	onInit func(*conn)

	// The times below are durations since the engine was made, plus one
	// (now), so that 0 can mean none.
	begun    int64        // when the connection was made
	lastRead atomic.Int64 // the last frame received
	pingSent atomic.Int64 // the unanswered keepalive ping was sent; 0 when none is

	state     atomic.Uint32
	checkUTF8 bool
	received  websock.CloseCode // the peer's close code; 0 for none

	// amu makes the callbacks serial: it is held while one runs and while
	// its Result is applied.
	amu sync.Mutex

	// stats counts what the Observer's End reports; nil without an
	// Observer, which is the only reader of the counts.
	stats *connStats

	// wmu serialises writes; closeSent says a close frame went out, after
	// which nothing else may be written.
	wmu       sync.Mutex
	closeSent bool
	sent      websock.CloseCode // the close code written; 0 for none

	// mu guards what follows. It is never held while blocking.
	mu       sync.Mutex
	reason   websock.Reason // decided once, by the first ending
	decided  bool
	ended    bool // serve is finishing: no new goroutine may start
	draining bool // a goroutine is delivering the mailbox
	full     bool // the last Send was refused: MailboxFull was reported
	mailbox  mailbox
	timers   []Timer
	watch    Timer          // the idle and keepalive timer, one for both; not in timers
	wg       sync.WaitGroup // the mailbox goroutine, timer callbacks and close writers
	cx       *connContext   // made by the first Context call

	// For an EventTransport (event.go): the Transport, the function its
	// Wait calls, made once, and what to call with the Reason at the end.
	et        EventTransport
	readyFunc func()
	done      func(websock.Reason)
}

// connContext is the context Conn.Context returns, made on first use.
type connContext struct {
	ctx    context.Context
	cancel context.CancelFunc // ends ctx
}

// connStats are the counts of a connection whose engine has an Observer.
type connStats struct {
	// in counts what was received, and libPongs the pongs the library
	// answered pings with; only Read's goroutine touches them.
	in       Traffic
	libPongs Tally
	out      Traffic // what was written; guarded by wmu
	peak     int     // the most messages queued at once; guarded by mu
	refused  int64   // Sends refused with ErrMailboxFull; guarded by mu
}

var (
	_ websock.ContextConn = (*conn)(nil)
	_ Events              = (*conn)(nil)
)

func newConn(e *Engine, tr Writer, h websock.Handler, info *websock.ConnInfo) *conn {
	c := &conn{e: e, tr: tr, h: h}
	c.begun = c.now()
	c.info.Store(info)
	if e.obs != nil {
		c.stats = new(connStats)
	}
	c.ctl, _ = h.(websock.ControlHandler)
	c.checkUTF8 = !e.opts.SkipUTF8Validation
	if v, ok := tr.(UTF8Validator); ok && v.ValidatesUTF8() {
		c.checkUTF8 = false
	}
	c.lastRead.Store(c.now())
	return c
}

// Context returns a context that is done once the connection's end is
// decided, before Terminate. See websock.ContextConn. It is made on first
// use, so a connection nobody asks costs nothing.
func (c *conn) Context() context.Context {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cx == nil {
		ctx, cancel := context.WithCancel(context.Background())
		c.cx = &connContext{ctx: ctx, cancel: cancel}
		if c.decided {
			cancel()
		}
	}
	return c.cx.ctx
}

// Send queues msg for HandleInfo. See websock.Conn.
func (c *conn) Send(msg any) error {
	c.mu.Lock()
	if c.decided {
		c.mu.Unlock()
		return websock.ErrClosed
	}
	if c.mailbox.len() >= c.e.opts.MailboxSize {
		disconnect := c.e.opts.CloseOnMailboxFull
		if disconnect {
			c.shedLocked(errorReason(websock.ErrMailboxFull, websock.CloseTryAgainLater, "mailbox full"))
		}
		if c.stats != nil {
			c.stats.refused++
		}
		report := !c.full && c.e.obs != nil
		c.full = true
		c.mu.Unlock()
		if report {
			c.e.obs.MailboxFull(MailboxEvent{Adapter: c.e.ad.Name, Info: c.Info(), Size: c.e.opts.MailboxSize, Disconnect: disconnect})
		}
		return websock.ErrMailboxFull
	}
	c.mailbox.push(msg)
	c.full = false
	if c.stats != nil {
		c.stats.peak = max(c.stats.peak, c.mailbox.len())
	}
	if !c.draining {
		c.draining = true
		c.wg.Add(1)
		go c.drain()
	}
	c.mu.Unlock()
	return nil
}

// drain delivers the mailbox to HandleInfo until it is empty.
func (c *conn) drain() {
	defer c.wg.Done()
	for {
		c.mu.Lock()
		if c.mailbox.len() == 0 || c.decided {
			c.mailbox.reset()
			c.draining = false
			c.mu.Unlock()
			return
		}
		msg := c.mailbox.pop()
		c.mu.Unlock()

		c.amu.Lock()
		if c.state.Load() == stateOpen {
			c.apply(c.callInfo(msg))
		}
		c.amu.Unlock()
	}
}

// now returns the time since the engine was made, plus one: never 0.
func (c *conn) now() int64 { return int64(c.e.opts.Clock.Now().Sub(c.e.start)) + 1 }

// touchRead records that a frame arrived from the peer.
func (c *conn) touchRead() { c.lastRead.Store(c.now()) }
