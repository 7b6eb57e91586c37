package adapters

import (
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/websock-go/websock/websock"
)

// Connection states.
const (
	stateOpen    uint32 = iota // callbacks run
	stateClosing               // the end is decided; no callback but Terminate runs
)

// Conn is the engine's side of one connection: the serial actor that runs
// a websock.Handler over a Transport. Adapters get one from
// [Engine.NewConn], report control frames to it while reading, and run it
// with [Conn.Serve]. It implements websock.Conn for the handler.
type Conn struct {
	e    *Engine
	tr   Transport
	h    websock.Handler
	ctl  websock.ControlHandler // nil when h does not observe control frames
	info *websock.ConnInfo

	checkUTF8 bool
	start     time.Time
	active    atomic.Int64 // time of the last frame read or written, as a duration since start
	lastRead  atomic.Int64 // time of the last frame read, as a duration since start
	pingSent  atomic.Int64 // time the unanswered keepalive ping was sent; 0 when none is
	state     atomic.Uint32

	// amu makes the callbacks serial: it is held while one runs and while
	// its Result is applied.
	amu sync.Mutex

	// wmu serialises writes; closeSent says a close frame went out, after
	// which nothing else may be written.
	wmu       sync.Mutex
	closeSent bool

	// mu guards what follows. It is never held while blocking.
	mu       sync.Mutex
	reason   websock.Reason // decided once, by the first ending
	decided  bool
	ended    bool  // Serve is finishing: no new goroutine may start
	mailbox  []any // queued messages, from head on
	head     int
	draining bool // a goroutine is delivering the mailbox
	timers   []*time.Timer
	idle     *time.Timer    // also in timers
	alive    *time.Timer    // the keepalive timer, also in timers
	wg       sync.WaitGroup // the mailbox goroutine and running timer callbacks
}

var _ websock.Conn = (*Conn)(nil)

func newConn(e *Engine, tr Transport, h websock.Handler, info *websock.ConnInfo) *Conn {
	c := &Conn{e: e, tr: tr, h: h, info: info, start: time.Now()}
	c.ctl, _ = h.(websock.ControlHandler)
	c.checkUTF8 = !e.opts.SkipUTF8Validation
	if v, ok := tr.(UTF8Validator); ok && v.ValidatesUTF8() {
		c.checkUTF8 = false
	}
	if info.Adapter == "" {
		info.Adapter = e.name
	}
	return c
}

// Info returns the connection's info.
func (c *Conn) Info() *websock.ConnInfo { return c.info }

// Send queues msg for HandleInfo. See websock.Conn.
func (c *Conn) Send(msg any) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.decided {
		return websock.ErrClosed
	}
	if len(c.mailbox)-c.head >= c.e.opts.MailboxSize {
		if c.e.opts.CloseOnMailboxFull {
			c.abortLocked(errorReason(websock.ErrMailboxFull, websock.CloseTryAgainLater, "mailbox full"))
		}
		return websock.ErrMailboxFull
	}
	c.mailbox = append(c.mailbox, msg)
	if !c.draining {
		c.draining = true
		c.wg.Add(1)
		go c.drain()
	}
	return nil
}

// drain delivers the mailbox to HandleInfo until it is empty.
func (c *Conn) drain() {
	defer c.wg.Done()
	for {
		c.mu.Lock()
		if c.head == len(c.mailbox) || c.decided {
			clear(c.mailbox)
			c.mailbox, c.head, c.draining = c.mailbox[:0], 0, false
			c.mu.Unlock()
			return
		}
		msg := c.mailbox[c.head]
		c.mailbox[c.head] = nil
		c.head++
		c.mu.Unlock()

		c.amu.Lock()
		if c.state.Load() == stateOpen {
			c.apply(c.callInfo(msg))
		}
		c.amu.Unlock()
	}
}

// Serve runs the connection: Init, then HandleIn for every message read,
// until the connection ends; then it closes the Transport, waits for the
// connection's other goroutines, calls Terminate and returns the Reason.
// The adapter calls it on the goroutine that owns the connection.
func (c *Conn) Serve() websock.Reason {
	if d := c.e.opts.IdleTimeout; d > 0 {
		c.mu.Lock()
		c.idle = c.afterFuncLocked(d, c.checkIdle)
		c.mu.Unlock()
	}
	if d := c.e.opts.PingInterval; d > 0 {
		c.mu.Lock()
		c.alive = c.afterFuncLocked(d, c.keepalive)
		c.mu.Unlock()
	}
	c.amu.Lock()
	c.apply(c.callInit())
	c.amu.Unlock()

	for {
		op, data, err := c.tr.ReadMessage()
		if err != nil {
			c.readFailed(err)
			break
		}
		c.touchRead()
		if c.state.Load() != stateOpen {
			continue // closing: discard until the peer's close arrives
		}
		if op == websock.OpText && c.checkUTF8 && !utf8.Valid(data) {
			c.fail(websock.ErrInvalidUTF8, websock.CloseInvalidPayload, "invalid UTF-8 in text message")
			break
		}
		c.amu.Lock()
		if c.state.Load() == stateOpen {
			c.apply(c.callIn(websock.Frame{Op: op, Data: data}))
		}
		c.amu.Unlock()
	}
	return c.finish()
}

// Ping reports a ping the library received and did not answer: the engine
// answers it with a pong of the same payload, then shows it to
// HandleControl. The adapter calls it from within ReadMessage.
func (c *Conn) Ping(payload []byte) {
	c.touchRead()
	c.write(websock.OpPong, payload, true) // a failed pong surfaces as a read error next
	c.Control(websock.OpPing, payload)
}

// Control reports a control frame (ping or pong) that needs no answer from
// the engine, because it is a pong or because the library already
// answered the ping. The adapter calls it from within ReadMessage.
func (c *Conn) Control(op websock.Opcode, payload []byte) {
	c.touchRead()
	if op == websock.OpPong {
		c.pingSent.Store(0)
	}
	if c.ctl == nil || c.state.Load() != stateOpen {
		return
	}
	c.amu.Lock()
	if c.state.Load() == stateOpen {
		c.apply(c.callControl(websock.Frame{Op: op, Data: payload}))
	}
	c.amu.Unlock()
}

// now returns the time since the connection started; never 0.
func (c *Conn) now() int64 { return int64(time.Since(c.start)) + 1 }

func (c *Conn) touch() { c.active.Store(c.now()) }

func (c *Conn) touchRead() {
	t := c.now()
	c.active.Store(t)
	c.lastRead.Store(t)
}

// apply carries out a callback's Result. Called with amu held.
func (c *Conn) apply(r websock.Result) {
	for i := 0; i < r.NumFrames(); i++ {
		f := r.Frame(i)
		if !validPush(f) {
			c.closeWith(errorReason(fmt.Errorf("%w: %v frame of %d bytes", errInvalidPush, f.Op, len(f.Data)),
				websock.CloseInternalError, "internal error"))
			return
		}
		if err := c.write(f.Op, f.Data, true); err != nil {
			return
		}
	}
	if r.IsStop() {
		reason, code, text := r.StopReason()
		c.closeWith(stopReason(reason, code, text))
	}
}

var errInvalidPush = errors.New("websock: handler pushed an invalid frame; control frames carry at most 125 bytes and opcodes are text, binary, ping or pong")

func validPush(f websock.Frame) bool {
	switch f.Op {
	case websock.OpText, websock.OpBinary:
		return true
	case websock.OpPing, websock.OpPong:
		return len(f.Data) <= 125
	}
	return false
}

// stopReason maps a handler's Stop to the Reason of the table on
// websock.Reason.
func stopReason(reason error, code websock.CloseCode, text string) websock.Reason {
	r := websock.Reason{Kind: websock.KindError, Code: websock.CloseInternalError, Err: reason}
	switch {
	case reason == nil:
		r.Kind, r.Code = websock.KindNormal, websock.CloseNormal
	case errors.Is(reason, websock.ErrRestart):
		r.Kind, r.Code = websock.KindShutdown, websock.CloseServiceRestart
	}
	if code != 0 {
		if !code.Sendable() {
			return errorReason(fmt.Errorf("%w: handler asked for %d", websock.ErrInvalidCloseCode, code),
				websock.CloseInternalError, "internal error")
		}
		r.Code = code
	}
	r.Text = truncateUTF8(text, 123)
	if r.Text == "" && r.Kind == websock.KindError {
		r.Text = "internal error"
	}
	return r
}

func errorReason(err error, code websock.CloseCode, text string) websock.Reason {
	return websock.Reason{Kind: websock.KindError, Code: code, Text: text, Err: err}
}

// truncateUTF8 cuts s to at most n bytes without splitting a code point.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// decide records r as the way the connection ends, if none was recorded
// yet, and reports whether it was.
func (c *Conn) decide(r websock.Reason) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.decided {
		return false
	}
	c.decided = true
	c.reason = r
	c.state.Store(stateClosing)
	return true
}

// closeWith starts the closing handshake for r, unless the end is already
// decided: it sends the close frame and gives the peer CloseTimeout to
// answer before the connection is closed anyway.
func (c *Conn) closeWith(r websock.Reason) {
	if !c.decide(r) {
		return
	}
	if err := c.writeClose(r.Code, r.Text); err != nil {
		c.tr.Close()
		return
	}
	if d := c.e.opts.CloseTimeout; d > 0 {
		c.afterFunc(d, func() { c.tr.Close() })
	}
}

// fail ends the connection because of bad input from the peer: it sends
// the close frame and closes the connection without waiting for an answer.
func (c *Conn) fail(cause error, code websock.CloseCode, text string) {
	if c.decide(errorReason(cause, code, text)) {
		c.writeClose(code, text)
	}
	c.lingerClose()
}

// readFailed handles the error that ended ReadMessage.
func (c *Conn) readFailed(err error) {
	var ce *websock.CloseError
	switch {
	case errors.As(err, &ce) && !utf8.ValidString(ce.Text):
		// RFC 6455 section 7.1.6: a close reason that is not UTF-8 fails
		// the connection. Every adapter answers it with 1002, as the
		// libraries that check it themselves do.
		c.fail(fmt.Errorf("%w: close reason is not valid UTF-8 (close code %d)", websock.ErrProtocol, ce.Code),
			websock.CloseProtocolError, "invalid UTF-8 in close reason")
	case errors.As(err, &ce):
		if c.decide(websock.Reason{Kind: websock.KindRemote, Code: ce.Code, Text: ce.Text, Err: ce}) {
			c.writeClose(ce.Code, "") // echo the code, as RFC 6455 section 5.5.1 asks
		}
		c.tr.Close()
	case errors.Is(err, websock.ErrProtocol):
		c.fail(err, websock.CloseProtocolError, "protocol error")
	case errors.Is(err, websock.ErrInvalidUTF8):
		c.fail(err, websock.CloseInvalidPayload, "invalid UTF-8")
	case errors.Is(err, websock.ErrMessageTooBig):
		c.fail(err, websock.CloseMessageTooBig, "message too big")
	default:
		if !errors.Is(err, websock.ErrConnectionLost) {
			err = fmt.Errorf("%w: %w", websock.ErrConnectionLost, err)
		}
		c.decide(errorReason(err, websock.CloseAbnormal, ""))
		c.tr.Close()
	}
}

// lingerClose closes the connection after a close frame was sent without
// waiting for the peer's: when it can, it half-closes TCP and discards
// what the peer still sends, so the peer reads the close frame rather than
// a reset.
func (c *Conn) lingerClose() {
	nc, ok := c.tr.(NetConner)
	d := c.e.opts.CloseTimeout
	if !ok || d <= 0 {
		c.tr.Close()
		return
	}
	lingerNetConn(nc.NetConn(), d)
	c.tr.Close()
}

// write writes one frame, unless a close frame went out already. A failed
// write ends the connection with ErrWriteFailed.
func (c *Conn) write(op websock.Opcode, data []byte, activity bool) error {
	c.wmu.Lock()
	if c.closeSent {
		c.wmu.Unlock()
		return websock.ErrClosed
	}
	if d := c.e.opts.WriteTimeout; d > 0 {
		c.tr.SetWriteDeadline(time.Now().Add(d))
	}
	err := c.tr.WriteFrame(op, data)
	c.wmu.Unlock()
	if err != nil {
		c.writeFailed(err)
		return err
	}
	if activity {
		c.touch()
	}
	return nil
}

func (c *Conn) writeClose(code websock.CloseCode, text string) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.closeSent {
		return nil
	}
	c.closeSent = true
	if d := c.e.opts.WriteTimeout; d > 0 {
		c.tr.SetWriteDeadline(time.Now().Add(d))
	}
	err := c.tr.WriteClose(code, text)
	if err != nil {
		c.writeFailed(err)
	}
	return err
}

func (c *Conn) writeFailed(err error) {
	c.decide(errorReason(fmt.Errorf("%w: %w", websock.ErrWriteFailed, err), websock.CloseAbnormal, ""))
	c.tr.Close()
}

// checkIdle runs when the idle timer fires: it ends the connection if it
// has been idle for the idle timeout, or sets the timer again for when it
// will have been.
func (c *Conn) checkIdle() {
	d := c.e.opts.IdleTimeout
	idle := time.Duration(c.now() - c.active.Load())
	if idle < d {
		c.mu.Lock()
		if !c.ended {
			c.idle.Reset(d - idle)
		}
		c.mu.Unlock()
		return
	}
	c.closeWith(websock.Reason{Kind: websock.KindTimeout, Code: websock.CloseGoingAway,
		Text: "idle timeout", Err: websock.ErrIdleTimeout})
}

// keepalive runs when the keepalive timer fires: it ends a connection
// whose ping went unanswered for the pong timeout, pings one that has been
// silent for the ping interval, and sets the timer again.
func (c *Conn) keepalive() {
	o := &c.e.opts
	now := c.now()
	next := o.PingInterval
	if sent := c.pingSent.Load(); sent != 0 {
		waited := time.Duration(now - sent)
		if waited >= o.PongTimeout {
			c.closeWith(websock.Reason{Kind: websock.KindTimeout, Code: websock.CloseGoingAway,
				Text: "no pong", Err: websock.ErrPongTimeout})
			return
		}
		next = o.PongTimeout - waited
	} else if silent := time.Duration(now - c.lastRead.Load()); silent >= o.PingInterval {
		c.pingSent.Store(now)
		if c.write(websock.OpPing, nil, false) != nil {
			return
		}
		next = o.PongTimeout
	} else {
		next = o.PingInterval - silent
	}
	c.mu.Lock()
	if !c.ended {
		c.alive.Reset(next)
	}
	c.mu.Unlock()
}

// abortLocked ends the connection for r without blocking the caller, who
// holds mu: a tracked goroutine writes the close frame if no other write
// is under way (a stuck write is why we are here) and closes the
// connection.
func (c *Conn) abortLocked(r websock.Reason) {
	if c.decided || c.ended {
		return
	}
	c.decided, c.reason = true, r
	c.state.Store(stateClosing)
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		if c.wmu.TryLock() {
			if !c.closeSent {
				c.closeSent = true
				c.tr.SetWriteDeadline(time.Now().Add(time.Second))
				c.tr.WriteClose(r.Code, r.Text)
			}
			c.wmu.Unlock()
		}
		c.tr.Close()
	}()
}

// tracked runs f unless Serve is finishing, and makes Serve wait for f
// before it calls Terminate: everything that touches the Transport from
// outside Serve's goroutine runs through it.
func (c *Conn) tracked(f func()) {
	c.mu.Lock()
	if c.ended {
		c.mu.Unlock()
		return
	}
	c.wg.Add(1)
	c.mu.Unlock()
	defer c.wg.Done()
	f()
}

// afterFunc runs f after d on its own goroutine, unless Serve is finishing;
// Serve waits for a running f before it calls Terminate.
func (c *Conn) afterFunc(d time.Duration, f func()) {
	c.mu.Lock()
	c.afterFuncLocked(d, f)
	c.mu.Unlock()
}

// afterFuncLocked is afterFunc, called with mu held.
func (c *Conn) afterFuncLocked(d time.Duration, f func()) *time.Timer {
	if c.ended {
		return nil
	}
	t := time.AfterFunc(d, func() { c.tracked(f) })
	c.timers = append(c.timers, t)
	return t
}

// finish ends the connection after the read loop stopped.
func (c *Conn) finish() websock.Reason {
	c.tr.Close()
	c.wmu.Lock() // wait for a write under way; none may start after this
	c.closeSent = true
	c.wmu.Unlock()
	c.decide(errorReason(websock.ErrConnectionLost, websock.CloseAbnormal, "")) // if nothing else did
	c.mu.Lock()
	c.ended = true
	for _, t := range c.timers {
		t.Stop()
	}
	c.timers = nil
	reason := c.reason
	c.mu.Unlock()
	c.wg.Wait()

	c.amu.Lock()
	c.callTerminate(reason)
	c.amu.Unlock()
	c.e.remove(c)
	return reason
}

// The callbacks, each with the panic policy: recover, close 1011, and
// Terminate with a *websock.PanicError.

func (c *Conn) callInit() (r websock.Result) {
	defer c.recoverInto("Init", &r)
	return c.h.Init(c)
}

func (c *Conn) callIn(f websock.Frame) (r websock.Result) {
	defer c.recoverInto("HandleIn", &r)
	return c.h.HandleIn(f)
}

func (c *Conn) callInfo(msg any) (r websock.Result) {
	defer c.recoverInto("HandleInfo", &r)
	return c.h.HandleInfo(msg)
}

func (c *Conn) callControl(f websock.Frame) (r websock.Result) {
	defer c.recoverInto("HandleControl", &r)
	return c.ctl.HandleControl(f)
}

func (c *Conn) callTerminate(reason websock.Reason) {
	defer func() {
		if v := recover(); v != nil {
			c.e.opts.Logger.Error("websock: handler panicked in Terminate", "adapter", c.e.name,
				"remote", c.info.RemoteAddr, "panic", v, "stack", string(debug.Stack()))
		}
	}()
	c.h.Terminate(reason)
}

func (c *Conn) recoverInto(callback string, r *websock.Result) {
	v := recover()
	if v == nil {
		return
	}
	pe := &websock.PanicError{Callback: callback, Value: v, Stack: debug.Stack()}
	c.e.opts.Logger.Error("websock: handler panicked", "adapter", c.e.name, "callback", callback,
		"remote", c.info.RemoteAddr, "panic", v, "stack", string(pe.Stack))
	*r = websock.Stop(pe)
}
