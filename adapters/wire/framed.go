package wire

import (
	"errors"
	"time"

	"github.com/websock-go/websock/adapters"
	"github.com/websock-go/websock/websock"
)

// ErrNotAFrame is returned by [Conn.WriteFrame] for bytes it does not
// write: fewer than a frame header, or a close frame (use
// [Conn.WriteClose]).
var ErrNotAFrame = errors.New("wire: WriteFrame writes whole frames other than close frames")

// WriteFrame writes frame, the bytes of one whole unmasked frame a server
// sends (a prepared message's, as adapters.ServerFrame makes them), with
// deadline (the zero time: none) on the connection under c, between the
// library's frames, in one write. After a close frame has gone out it
// writes nothing and returns nil. While the library is part way through a
// frame it returns [ErrMidFrame]: write through the library instead.
//
// A library that keeps compression context between the messages it writes
// must not be bypassed this way; one that compresses each message on its
// own (no context takeover) never notices.
func (c *Conn) WriteFrame(frame []byte, deadline time.Time) error {
	if len(frame) < 2 || frame[0]&0x0f == opClose {
		return ErrNotAFrame
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closeSent {
		return nil
	}
	if c.midFrame() {
		return ErrMidFrame
	}
	return c.writeBy(frame, deadline)
}

// WritePrepared writes p's shared frame (see adapters.ServerFrame: deflate
// says permessage-deflate was negotiated, with a server window of 32 KiB)
// as WriteFrame does. It reports false, having written nothing, while the
// library is part way through a frame: write p through the library then.
func (c *Conn) WritePrepared(p *websock.Prepared, deflate bool, deadline time.Time) (bool, error) {
	b, err := adapters.ServerFrame(p, deflate, 15)
	if err != nil {
		return true, err
	}
	if err := c.WriteFrame(b, deadline); err != ErrMidFrame {
		return true, err
	}
	return false, nil
}
