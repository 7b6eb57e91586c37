package adapters

import (
	"errors"
	"time"

	"github.com/websock-go/websock/websock"
)

// The engine's side of Observer: counting what passes, and reporting it.

// countIn counts a frame received; called on Read's goroutine.
func (c *conn) countIn(op websock.Opcode, n int) {
	if c.stats == nil {
		return
	}
	c.stats.in.Add(op, n)
	if m := c.e.mobs; m != nil {
		m.Message(MessageEvent{Adapter: c.e.ad.Name, Direction: In, Op: op, Bytes: n})
	}
}

// countControl counts a control frame the Transport reported to Control:
// a ping there is one the library answered itself, with a pong of the same
// payload, which counts as sent.
func (c *conn) countControl(op websock.Opcode, n int) {
	c.countIn(op, n)
	if op != websock.OpPing || c.stats == nil {
		return
	}
	c.stats.libPongs.Frames++
	c.stats.libPongs.Bytes += int64(n)
	if m := c.e.mobs; m != nil {
		m.Message(MessageEvent{Adapter: c.e.ad.Name, Direction: Out, Op: websock.OpPong, Bytes: n})
	}
}

// countClose counts the close frame the peer sent.
func (c *conn) countClose(ce *websock.CloseError) {
	c.received = ce.Code
	c.countIn(websock.OpClose, closePayloadLen(ce.Code, ce.Text))
}

// closePayloadLen is the payload length of a close frame: none for 1005
// (no status), else the code and the text.
func closePayloadLen(code websock.CloseCode, text string) int {
	if code == websock.CloseNoStatus {
		return 0
	}
	return 2 + len(text)
}

// observeEnd reports the connection's end. Called by serve's goroutine
// once Terminate returned: nothing else touches the counts by then.
func (c *conn) observeEnd(reason websock.Reason) {
	o, s := c.e.obs, c.stats
	if o == nil || s == nil {
		return
	}
	ev := EndEvent{Adapter: c.e.ad.Name, Info: c.Info(), Reason: reason, Duration: time.Duration(c.now() - c.begun),
		Sent: c.sent, Received: c.received, In: s.in, Out: s.out}
	ev.Out.Pong.Frames += s.libPongs.Frames
	ev.Out.Pong.Bytes += s.libPongs.Bytes
	c.mu.Lock()
	ev.MailboxPeak, ev.MailboxRefused = s.peak, s.refused
	c.mu.Unlock()
	o.End(ev)
}

// timeout ends the connection for r, a timeout, and reports it, unless
// the end was decided already.
func (c *conn) timeout(r websock.Reason) {
	if !c.decide(r) {
		return
	}
	if o := c.e.obs; o != nil {
		o.Timeout(TimeoutEvent{Adapter: c.e.ad.Name, Info: c.Info(), Err: r.Err})
	}
	c.sendClose(r, noLimit)
}

// observePanic reports a recovered panic.
func (c *conn) observePanic(pe *websock.PanicError) {
	if o := c.e.obs; o != nil {
		o.Panic(PanicEvent{Adapter: c.e.ad.Name, Info: c.Info(), Callback: pe.Callback, Value: pe.Value, Stack: pe.Stack})
	}
}

// drainReporter reports the progress of one Shutdown or Restart.
type drainReporter struct {
	e     *Engine
	code  websock.CloseCode
	start time.Time
	left  int
}

func (e *Engine) drainReporter(code websock.CloseCode) *drainReporter {
	return &drainReporter{e: e, code: code, start: e.opts.Clock.Now(), left: -1}
}

// report reports phase with left connections; Progress only when left
// fell since the last report.
func (d *drainReporter) report(phase DrainPhase, left int, err error) {
	o := d.e.obs
	if o == nil || (phase == DrainProgress && d.left >= 0 && left >= d.left) {
		return
	}
	d.left = left
	o.Drain(DrainEvent{Adapter: d.e.ad.Name, Phase: phase, Code: d.code, Left: left, Elapsed: d.e.opts.Clock.Now().Sub(d.start), Err: err})
}

// rushed reports that a paced drain could not keep its pace: an Observer
// event with the numbers, and a line on the Logger unless the Observer
// logs it there itself.
func (d *drainReporter) rushed(p DrainPace) {
	if !d.e.observerLogs {
		d.e.opts.Logger.Warn("websock: a paced drain cannot keep its pace before its deadline; the connections left are closed at once",
			"adapter", d.e.ad.Name, "batch", p.Batch, "interval", p.Interval, "paced", p.Paced, "rushed", p.Rushed,
			"needed", p.Needed, "allowed", p.Allowed)
	}
	if o := d.e.obs; o != nil {
		d.e.mu.Lock()
		left := len(d.e.conns) + d.e.pending
		d.e.mu.Unlock()
		o.Drain(DrainEvent{Adapter: d.e.ad.Name, Phase: DrainRushed, Code: d.code, Left: left, Elapsed: time.Since(d.start), Pace: &p})
	}
}

// refuse answers hs with he instead of upgrading, and reports the refusal:
// every refusal of an upgrade goes through here. req is nil when the
// request was refused before it was read; err is what failed, if
// anything did.
func (e *Engine) refuse(hs Handshake, req *websock.Request, why UpgradeOutcome, he *websock.HTTPError, err error) {
	if e.obs != nil { // first, so that the event is reported before the client can see the answer
		e.obs.Upgrade(UpgradeEvent{Adapter: e.ad.Name, Outcome: why, Status: he.Status, Request: req, Err: err})
	}
	hs.Refuse(he)
}

// refusal is an upgrade refused by accept: why, the answer, and what
// failed.
type refusal struct {
	why UpgradeOutcome
	he  *websock.HTTPError
	err error
}

var errNoHandler = errors.New("websock: the AcceptFunc returned neither a Handler nor an error")
