package adapters

import (
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/websock-go/websock/websock"
)

// noLimit is the zero time: no limit beyond the write timeout.
var noLimit time.Time

// decide records r as the way the connection ends, if none was recorded
// yet, and reports whether it was.
func (c *conn) decide(r websock.Reason) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.decideLocked(r)
}

func (c *conn) decideLocked(r websock.Reason) bool {
	if c.decided {
		return false
	}
	c.decided = true
	c.reason = r
	c.state.Store(stateClosing)
	if c.cx != nil {
		c.cx.cancel()
	}
	return true
}

// closeWith starts the closing handshake for r, unless the end is already
// decided.
func (c *conn) closeWith(r websock.Reason) { c.closeWithin(r, noLimit) }

// closeWithin is closeWith with the close frame's write ending by limit,
// when set.
func (c *conn) closeWithin(r websock.Reason, limit time.Time) {
	if c.decide(r) {
		c.sendClose(r, limit)
	}
}

// sendClose sends the close frame of the decided reason r and gives the
// peer CloseTimeout to answer before the connection is closed anyway.
func (c *conn) sendClose(r websock.Reason, limit time.Time) {
	if err := c.writeCloseBy(r.Code, r.Text, c.e.writeDeadline(limit)); err != nil {
		c.tr.Close()
		return
	}
	if d := c.e.opts.CloseTimeout; d > 0 {
		c.afterFunc(d, func() { c.tr.Close() })
	}
}

// shedTimeout bounds how long a shed slow consumer may hold its
// connection: its close frame goes out if it can be written within this,
// else the connection is closed at once (see shedLocked).
const shedTimeout = time.Second

// shedLocked ends a slow consumer, whose mailbox is full, without waiting
// for the write under way (likely stuck behind a peer that reads too
// slowly) to time out: the mailbox is released now, close r goes out if it
// can be written within shedTimeout (or the write timeout, if shorter),
// and the connection is closed when it cannot, which fails the stuck
// write and lets the connection end. Called with mu held.
func (c *conn) shedLocked(r websock.Reason) {
	if c.ended || !c.decideLocked(r) {
		return
	}
	c.mailbox.reset()
	bound := min(shedTimeout, c.e.opts.WriteTimeout)
	if bound <= 0 {
		bound = shedTimeout
	}
	cut := c.afterFuncLocked(bound, func() { c.tr.Close() })
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		c.sendClose(r, time.Now().Add(bound))
		if cut != nil {
			cut.Stop()
		}
	}()
}

// fail ends the connection because of bad input from the peer: it sends
// the close frame and closes the connection without waiting for an answer.
func (c *conn) fail(cause error, code websock.CloseCode, text string) {
	if c.decide(errorReason(cause, code, text)) {
		c.writeCloseBy(code, text, c.e.writeDeadline(noLimit))
	}
	c.lingerClose()
}

// lingerClose closes the connection after a close frame was sent without
// waiting for the peer's: when it can, it half-closes TCP and discards
// what the peer still sends, so the peer reads the close frame rather than
// a reset.
func (c *conn) lingerClose() {
	nc, ok := c.tr.(NetConner)
	d := c.e.opts.CloseTimeout
	if ok && d > 0 {
		lingerNetConn(nc.NetConn(), d)
	}
	c.tr.Close()
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
