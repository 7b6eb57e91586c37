package coderstyle

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/websock-go/websock/websock"
)

// errMaskedFrame fails a client connection whose server masked a frame,
// which the libraries' clients accept.
var errMaskedFrame = fmt.Errorf("%w: the server sent a masked frame (RFC 6455 section 5.1)", websock.ErrProtocol)

// tracker follows the frames of one direction by their headers.
type tracker struct {
	hdr  [14]byte
	n    int    // header bytes read
	left uint64 // payload bytes left in the frame
}

// feed follows b, calling header with the first two bytes of each frame
// header once it is whole; an error from header stops it.
func (t *tracker) feed(b []byte, header func(b0, b1 byte) error) error {
	for len(b) > 0 {
		if t.left > 0 {
			k := min(t.left, uint64(len(b)))
			t.left, b = t.left-k, b[k:]
			continue
		}
		t.hdr[t.n], t.n, b = b[0], t.n+1, b[1:]
		if t.n < 2 {
			continue
		}
		l, need := uint64(t.hdr[1]&0x7f), 2
		switch l {
		case 126:
			need = 4
		case 127:
			need = 10
		}
		if t.hdr[1]&0x80 != 0 {
			need += 4
		}
		if t.n < need {
			continue
		}
		switch l {
		case 126:
			l = uint64(binary.BigEndian.Uint16(t.hdr[2:]))
		case 127:
			l = binary.BigEndian.Uint64(t.hdr[2:])
		}
		if err := header(t.hdr[0], t.hdr[1]); err != nil {
			return err
		}
		t.left, t.n = l, 0
	}
	return nil
}

// midFrame reports whether part of a frame has been followed.
func (t *tracker) midFrame() bool { return t.n > 0 || t.left > 0 }

// serverFrames is the connection under a library's client: it follows the
// headers of the frames the server sends, fails the read on a masked one,
// and keeps the error that ended reading, so that the transport can tell a
// connection lost mid-message from a message that ended.
type serverFrames struct {
	net.Conn
	in tracker

	mu  sync.Mutex
	err error
}

func (c *serverFrames) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if ferr := c.in.feed(p[:n], func(_, b1 byte) error {
		if b1&0x80 != 0 {
			return errMaskedFrame
		}
		return nil
	}); ferr != nil {
		n, err = 0, ferr
	}
	if err != nil {
		c.mu.Lock()
		if c.err == nil {
			c.err = err
		}
		c.mu.Unlock()
	}
	return n, err
}

// readErr returns the error that ended reading, if reading ended.
func (c *serverFrames) readErr() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// frameWriter writes the engine's control and close frames between the
// library's frames: a *wire.Conn on the server's side, a *clientWire on
// the client's.
type frameWriter interface {
	WriteControl(op websock.Opcode, payload []byte, deadline time.Time) error
	WriteClose(code websock.CloseCode, text string, deadline time.Time) error
	SetWriteDeadline(t time.Time) error
	CloseSent() bool
	Close() error
	NetConn() net.Conn
}

// clientWire is the connection under a library's client connection: it
// writes the engine's ping, pong and close frames, masked, between the
// library's frames, and drops everything the library writes after a close
// frame went out (its answer to the server's close, which the engine
// sends). The libraries write each control frame with one Write, and the
// engine never writes while a data frame of its own is being written, so
// a frame of the engine's never lands inside one of the library's.
type clientWire struct {
	net.Conn
	nc net.Conn // the network connection, under Conn

	mu        sync.Mutex
	out       tracker // the library's frames
	closeSent bool
}

// errMidFrame refuses a frame of the engine's while one of the library's
// is partly written (its write failed or timed out).
var errMidFrame = errors.New("websock: the library's last frame was cut short; no frame can follow it")

var _ frameWriter = (*clientWire)(nil)

func (c *clientWire) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closeSent {
		return len(p), nil
	}
	closing := false
	c.out.feed(p, func(b0, _ byte) error {
		closing = closing || b0&0x0f == byte(websock.OpClose)
		return nil
	})
	n, err := c.Conn.Write(p)
	if closing {
		c.closeSent = true // the library's own close frame: nothing may follow it
	}
	return n, err
}

// WriteControl writes a ping or pong, unless a close frame went out.
func (c *clientWire) WriteControl(op websock.Opcode, payload []byte, deadline time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closeSent {
		return nil
	}
	return c.writeOwn(op, payload, deadline)
}

// WriteClose writes a close frame, unless one went out already.
func (c *clientWire) WriteClose(code websock.CloseCode, text string, deadline time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closeSent {
		return nil
	}
	if c.out.midFrame() {
		return errMidFrame
	}
	c.closeSent = true
	var p []byte
	if code != websock.CloseNoStatus {
		p = binary.BigEndian.AppendUint16(nil, uint16(code))
		p = append(p, text[:min(len(text), 123)]...)
	}
	return c.writeOwn(websock.OpClose, p, deadline)
}

// writeOwn writes one masked frame. Called with mu held.
func (c *clientWire) writeOwn(op websock.Opcode, payload []byte, deadline time.Time) error {
	if c.out.midFrame() {
		return errMidFrame
	}
	if len(payload) > 125 {
		return fmt.Errorf("%w: a control frame of %d bytes", websock.ErrProtocol, len(payload))
	}
	b := make([]byte, 6, 6+len(payload))
	b[0], b[1] = 0x80|byte(op), 0x80|byte(len(payload))
	rand.Read(b[2:6])
	for i, v := range payload {
		b = append(b, v^b[2+i&3])
	}
	c.Conn.SetWriteDeadline(deadline)
	_, err := c.Conn.Write(b)
	c.Conn.SetWriteDeadline(time.Time{})
	return err
}

// CloseSent reports whether a close frame went out.
func (c *clientWire) CloseSent() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closeSent
}

// NetConn returns the network connection.
func (c *clientWire) NetConn() net.Conn { return c.nc }
