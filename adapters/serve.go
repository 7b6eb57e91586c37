package adapters

import (
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/websock-go/websock/websock"
)

// errEnding is what Message returns once the connection is ending, to stop
// the Transport's Read.
var errEnding = errors.New("websock: connection is ending")

// serve runs the connection: Init, then the Transport's Read, which hands
// every message to HandleIn, until the connection ends; then it closes the
// Transport, waits for the connection's other goroutines, calls Terminate
// and returns the Reason.
func (c *conn) serve() websock.Reason {
	c.begin()
	c.readFailed(c.tr.(Transport).Read(c))
	return c.finish()
}

// read is serve's reading and end, on a goroutine of its own once begin
// has run on another (Engine.run with detach). Its stack holds only the
// Transport's read loop while the peer is silent: no frame of the upgrade
// or of Init grew it, and its own frame is kept small (the end is in
// readEnd).
func (c *conn) read(done func(websock.Reason)) {
	c.readEnd(c.tr.(Transport).Read(c), done)
}

// readEnd ends a connection read reads, with the error that ended Read,
// and calls Release and done, as endEvents does.
func (c *conn) readEnd(err error, done func(websock.Reason)) {
	c.readFailed(err)
	r := c.finish()
	if rel, ok := c.tr.(Releaser); ok {
		rel.Release()
	}
	if done != nil {
		done(r)
	}
}

// begin starts the connection's timers and runs Init.
func (c *conn) begin() {
	if d := c.e.opts.watchEvery(); d > 0 {
		c.mu.Lock()
		if !c.ended {
			c.watch = c.e.opts.Clock.AfterFunc(d, c.watched)
		}
		c.mu.Unlock()
	}

	c.amu.Lock()
	c.apply(c.callInit())
	if c.onInit != nil {
		c.onInit(c)
	}
	c.amu.Unlock()
	c.packInfo()
}

// Message hands a message the Transport read to HandleIn. See Events.
func (c *conn) Message(op websock.Opcode, data []byte) error {
	c.touchRead()
	c.countIn(op, len(data))
	if c.state.Load() != stateOpen {
		return nil // closing: discard until the peer's close arrives
	}
	if op == websock.OpText && c.checkUTF8 && !utf8.Valid(data) {
		c.fail(websock.ErrInvalidUTF8, websock.CloseInvalidPayload, "invalid UTF-8 in text message")
		return errEnding
	}
	c.amu.Lock()
	if c.state.Load() == stateOpen {
		c.apply(c.callIn(websock.Frame{Op: op, Data: data}))
	}
	c.amu.Unlock()
	return nil
}

// Ping answers a ping with a pong of the same payload, then shows it to
// HandleControl. See Events.
func (c *conn) Ping(payload []byte) {
	c.touchRead()
	c.countIn(websock.OpPing, len(payload))
	c.write(websock.OpPong, payload) // a failed pong surfaces as a read error next
	c.showControl(websock.OpPing, payload)
}

// Control shows a control frame to HandleControl. See Events.
func (c *conn) Control(op websock.Opcode, payload []byte) {
	c.touchRead()
	if op == websock.OpPong {
		c.pingSent.Store(0)
	}
	c.countControl(op, len(payload))
	c.showControl(op, payload)
}

// showControl hands a control frame to HandleControl, if the handler
// has it.
func (c *conn) showControl(op websock.Opcode, payload []byte) {
	if c.ctl == nil || c.state.Load() != stateOpen {
		return
	}
	c.amu.Lock()
	if c.state.Load() == stateOpen {
		c.apply(c.callControl(websock.Frame{Op: op, Data: payload}))
	}
	c.amu.Unlock()
}

// readFailed handles the error that ended the Transport's Read.
func (c *conn) readFailed(err error) {
	var ce *websock.CloseError
	if errors.As(err, &ce) {
		c.countClose(ce)
	}
	switch {
	case err == nil, errors.Is(err, errEnding):
		c.tr.Close()
	case errors.As(err, &ce) && !ce.Code.Sendable() && ce.Code != websock.CloseNoStatus:
		// RFC 6455 section 7.4: a peer may not send 1005, 1006, 1015 or an
		// unassigned code; an empty payload is reported as 1005.
		c.fail(fmt.Errorf("%w: peer sent close code %d, which may not be sent (RFC 6455 section 7.4)", websock.ErrProtocol, ce.Code),
			websock.CloseProtocolError, "invalid close code")
	case errors.As(err, &ce) && !utf8.ValidString(ce.Text):
		// RFC 6455 section 7.1.6: a close reason that is not UTF-8 fails
		// the connection. Every adapter answers it with 1002.
		c.fail(fmt.Errorf("%w: close reason is not valid UTF-8 (close code %d)", websock.ErrProtocol, ce.Code),
			websock.CloseProtocolError, "invalid UTF-8 in close reason")
	case errors.As(err, &ce):
		if c.decide(websock.Reason{Kind: websock.KindRemote, Code: ce.Code, Text: ce.Text, Err: ce}) {
			c.writeCloseBy(ce.Code, "", c.e.writeDeadline(noLimit)) // echo the code (RFC 6455 section 5.5.1)
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

// finish ends the connection after reading stopped.
func (c *conn) finish() websock.Reason {
	c.tr.Close()
	c.wmu.Lock() // wait for a write under way; none may start after this
	c.closeSent = true
	c.wmu.Unlock()
	c.decide(errorReason(websock.ErrConnectionLost, websock.CloseAbnormal, "")) // if nothing else did
	c.mu.Lock()
	c.ended = true
	for _, t := range append(c.timers, c.watch) {
		if t != nil {
			t.Stop()
		}
	}
	c.timers = nil
	c.mailbox.reset()
	reason := c.reason
	c.mu.Unlock()
	c.wg.Wait()

	c.amu.Lock()
	c.callTerminate(reason)
	c.amu.Unlock()
	c.observeEnd(reason)
	c.e.remove(c)
	return reason
}
