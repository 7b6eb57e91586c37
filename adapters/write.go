package adapters

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/websock-go/websock/websock"
)

// apply carries out a callback's Result. Called with amu held.
func (c *conn) apply(r websock.Result) {
	for i := 0; i < r.NumFrames(); i++ {
		f := r.Frame(i)
		if p := f.Prepared(); p != nil {
			f.Op, f.Data = p.Op(), p.Data() // what is written is p, whatever the Frame says
		}
		if !validPush(f) {
			c.closeWith(errorReason(fmt.Errorf("%w: %v frame of %d bytes", errInvalidPush, f.Op, len(f.Data)),
				websock.CloseInternalError, "internal error"))
			return
		}
		if err := c.writeFrame(f); err != nil {
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

// write writes one frame, unless a close frame went out already, within
// the write timeout. A failed write ends the connection with
// ErrWriteFailed.
func (c *conn) write(op websock.Opcode, data []byte) error {
	return c.writeFrame(websock.Frame{Op: op, Data: data})
}

// writeFrame is write for a pushed frame, which may be a prepared
// message's: a Transport that is a PreparedWriter writes its shared bytes.
func (c *conn) writeFrame(f websock.Frame) error {
	op, data := f.Op, f.Data
	c.wmu.Lock()
	if c.closeSent {
		c.wmu.Unlock()
		return websock.ErrClosed
	}
	if d := c.e.opts.WriteTimeout; d > 0 {
		c.tr.SetWriteDeadline(c.e.opts.Clock.Now().Add(d))
	}
	var err error
	if p := f.Prepared(); p != nil {
		err = c.writePrepared(p)
	} else {
		err = c.tr.WriteFrame(op, data)
	}
	if err == nil && c.stats != nil {
		c.stats.out.Add(op, len(data))
	}
	c.wmu.Unlock()
	if err != nil {
		c.writeFailed(err)
		return err
	}
	if m := c.e.mobs; m != nil {
		m.Message(MessageEvent{Adapter: c.e.ad.Name, Direction: Out, Op: op, Bytes: len(data)})
	}
	return nil
}

// writePrepared writes p through a PreparedWriter, or as a plain frame.
// Called with wmu held.
func (c *conn) writePrepared(p *websock.Prepared) error {
	if pw, ok := c.tr.(PreparedWriter); ok {
		return pw.WritePrepared(p)
	}
	return c.tr.WriteFrame(p.Op(), p.Data())
}

// writeClose writes a close frame within the write timeout, unless one
// went out already; nothing is written after it.
func (c *conn) writeClose(code websock.CloseCode, text string) error {
	return c.writeCloseBy(code, text, c.e.writeDeadline(noLimit))
}

// writeCloseBy writes a close frame that must be written by deadline (the
// zero time: no deadline), unless one went out already.
func (c *conn) writeCloseBy(code websock.CloseCode, text string, deadline time.Time) error {
	c.wmu.Lock()
	if c.closeSent {
		c.wmu.Unlock()
		return nil
	}
	c.closeSent = true
	c.tr.SetWriteDeadline(deadline)
	err := c.tr.WriteClose(code, text)
	n := closePayloadLen(code, text)
	if err == nil {
		c.sent = code
		if c.stats != nil {
			c.stats.out.Add(websock.OpClose, n)
		}
	}
	c.wmu.Unlock()
	if err != nil {
		c.writeFailed(err)
		return err
	}
	if m := c.e.mobs; m != nil {
		m.Message(MessageEvent{Adapter: c.e.ad.Name, Direction: Out, Op: websock.OpClose, Bytes: n})
	}
	return nil
}

// writeFailed ends the connection after a failed write: a write past its
// deadline is a slow consumer, a Timeout reported as such; any other
// failure an error.
func (c *conn) writeFailed(err error) {
	if isTimeout(err) {
		r := websock.Reason{Kind: websock.KindTimeout, Code: websock.CloseAbnormal,
			Err: fmt.Errorf("%w: %w: %w", websock.ErrWriteTimeout, websock.ErrWriteFailed, err)}
		if c.decide(r) {
			if o := c.e.obs; o != nil {
				o.Timeout(TimeoutEvent{Adapter: c.e.ad.Name, Info: c.Info(), Err: r.Err})
			}
		}
	} else {
		c.decide(errorReason(fmt.Errorf("%w: %w", websock.ErrWriteFailed, err), websock.CloseAbnormal, ""))
	}
	c.tr.Close()
}

// isTimeout reports whether err is a deadline that passed, as the
// libraries report one: os.ErrDeadlineExceeded, a net.Error that timed
// out, or context.DeadlineExceeded.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) ||
		(errors.As(err, &ne) && ne.Timeout())
}
