package coderstyle

import (
	"cmp"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/websock-go/websock/adapters/internal/utf8stream"
	"github.com/websock-go/websock/adapters/wire"
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
	at   int    // in a header callback: the offset of the header's last byte in what feed follows
}

// feed follows b. It calls header with the first two bytes of each frame
// header and its payload length once the header is whole, and payload,
// when not nil, with each run of payload bytes and whether it ends the
// frame. An error from either stops it; feed then returns the offset in b
// of the byte that caused it (header: the header's last byte; payload: the
// offset the callback reports within its run).
func (t *tracker) feed(b []byte, header func(b0, b1 byte, size uint64) error, payload func(p []byte, end bool) (int, error)) (int, error) {
	for i := 0; i < len(b); {
		if t.left > 0 {
			k := int(min(t.left, uint64(len(b)-i)))
			t.left -= uint64(k)
			if payload != nil {
				if j, err := payload(b[i:i+k], t.left == 0); err != nil {
					return i + j, err
				}
			}
			i += k
			continue
		}
		t.hdr[t.n], t.n = b[i], t.n+1
		i++
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
		t.left, t.n, t.at = l, 0, i-1
		if err := header(t.hdr[0], t.hdr[1], l); err != nil {
			return i - 1, err
		}
	}
	return len(b), nil
}

// midFrame reports whether part of a frame has been followed.
func (t *tracker) midFrame() bool { return t.n > 0 || t.left > 0 }

// serverFrames is the connection under a library's client: it follows the
// frames the server sends before the library reads them, and fails the
// read, as soon as the byte that shows it arrives, on a masked frame, on
// invalid UTF-8 in a text message (unless validation is off; a compressed
// message is left to the engine, which validates it inflated) and on a
// close frame whose payload is malformed, which the libraries' clients
// would otherwise accept, or read whole first, or echo. It keeps the error
// that ended reading, so that the transport can tell a connection lost
// mid-message from a message that ended.
//
// A failing read hands over the bytes before the one that failed, and the
// next read returns the error: the messages the server sent before the
// bad one reach the handler. A close frame with a payload is held back,
// from the last byte of its header, until it is whole and checked, so
// that the library never starts reading one it would echo: a library that
// fails within a control frame's payload may close the connection before
// the engine's close frame can go out (nhooyr.io/websocket does: the
// timeout it sets for the payload fires once the read has failed).
type serverFrames struct {
	net.Conn
	in       tracker
	validate bool // validate text as UTF-8

	op     byte // the opcode of the frame being followed
	fin    bool
	text   bool // the data message being followed is text to validate
	utf8   utf8stream.Validator
	close  []byte // the payload of a close frame being followed
	closeB [wire.MaxControl]byte

	holdAt  int    // in feed: where a close frame's held bytes begin, or -1
	closeOK bool   // in feed: a close frame ended, valid
	held    []byte // bytes followed but not yet handed over
	holding bool   // held begins with a close frame not yet whole
	heldErr error  // the read error that came with held bytes
	pending error  // returned once held is drained

	mu  sync.Mutex
	err error
}

func (c *serverFrames) Read(p []byte) (int, error) {
	for {
		if len(c.held) > 0 && !c.holding {
			n := copy(p, c.held)
			c.held = c.held[n:]
			return n, nil
		}
		if err := cmp.Or(c.pending, c.heldErr); err != nil {
			c.pending, c.heldErr = nil, nil
			c.ended(err)
			return 0, err
		}
		if c.holding {
			var b [2 + wire.MaxControl]byte
			n, err := c.Conn.Read(b[:])
			c.follow(b[:n], true)
			if err != nil && c.pending == nil {
				c.holding, c.held, c.pending = false, nil, err // the connection ended within the close frame
			}
			continue
		}
		n, err := c.Conn.Read(p)
		m := c.follow(p[:n], false)
		if m < n || c.pending != nil {
			c.heldErr = err
			if m == 0 {
				continue
			}
			return m, nil
		}
		if err != nil {
			c.ended(err)
		}
		return n, err
	}
}

// follow follows b, just read: bytes appended to held when held is set,
// else bytes of the caller's, of which it returns how many may be handed
// over now (the rest is held).
func (c *serverFrames) follow(b []byte, held bool) int {
	c.holdAt, c.closeOK = -1, false
	i, err := c.in.feed(b, c.header, c.payload)
	if err != nil {
		c.pending, c.holding, c.held = err, false, nil
		if held {
			return 0
		}
		if c.holdAt >= 0 {
			i = min(i, c.holdAt)
		}
		return i
	}
	if held {
		c.held = append(c.held, b...)
		c.holding = !c.closeOK
		return 0
	}
	if c.holdAt >= 0 {
		c.held, c.holding = append([]byte(nil), b[c.holdAt:]...), true
		return c.holdAt
	}
	return len(b)
}

// ended records err as the error that ended reading, unless one did.
func (c *serverFrames) ended(err error) {
	c.mu.Lock()
	if c.err == nil {
		c.err = err
	}
	c.mu.Unlock()
}

// header starts following a frame.
func (c *serverFrames) header(b0, b1 byte, size uint64) error {
	if b1&0x80 != 0 {
		return errMaskedFrame
	}
	c.op, c.fin = b0&0x0f, b0&0x80 != 0
	switch c.op {
	case byte(websock.OpText):
		c.text = c.validate && b0&0x40 == 0 // RSV1: compressed
		c.utf8.Reset()
	case byte(websock.OpBinary):
		c.text = false
	case byte(websock.OpClose):
		c.close = c.closeB[:0]
		if size > 0 && size <= wire.MaxControl && c.holdAt < 0 { // the library fails a longer one on its header
			c.holdAt = c.in.at
		}
	}
	if size == 0 {
		_, err := c.payload(nil, true)
		return err
	}
	return nil
}

// payload follows the payload bytes p of the current frame, which end it
// when end is set.
func (c *serverFrames) payload(p []byte, end bool) (int, error) {
	switch c.op {
	case 0, byte(websock.OpText): // a continuation, or the first frame of text
		if !c.text {
			return 0, nil
		}
		if v := c.utf8; !c.utf8.Write(p) {
			return firstInvalid(v, p), errInvalidText
		}
		if end && c.fin {
			c.text = false
			if !c.utf8.End() {
				return max(len(p)-1, 0), errInvalidText
			}
		}
	case byte(websock.OpClose):
		if len(c.close)+len(p) > cap(c.close) {
			return 0, nil // the library fails a control frame over 125 bytes itself
		}
		c.close = append(c.close, p...)
		if end {
			if err := closeFault(c.close); err != nil {
				return max(len(p)-1, 0), err
			}
			c.holdAt, c.closeOK = -1, true
		}
	}
	return 0, nil
}

// firstInvalid returns the offset in p of the octet at which the text
// that v (the validator before p) has seen, followed by p, stops being a
// valid beginning of UTF-8, given that it does with all of p. A prefix
// that fails stays failed with more octets, so a binary search finds it.
func firstInvalid(v utf8stream.Validator, p []byte) int {
	lo, hi := 0, len(p) // p[:lo] passes, p[:hi] fails
	for hi-lo > 1 {
		mid, w := (lo+hi)/2, v
		if w.Write(p[:mid]) {
			lo = mid
		} else {
			hi = mid
		}
	}
	return max(hi-1, 0)
}

// errInvalidText fails a client connection whose server sent text that
// is not UTF-8.
var errInvalidText = fmt.Errorf("%w: the server sent a text message that is not UTF-8 (RFC 6455 section 8.1)", websock.ErrInvalidUTF8)

// closeFault returns what makes p, the payload of the server's close
// frame, malformed, if anything (a 1-byte payload, a code that may not be
// sent, a reason that is not UTF-8), as an error wrapping
// websock.ErrProtocol: the engine closes 1002, as the wire does on every
// server and the other clients do.
func closeFault(p []byte) error {
	var ce *websock.CloseError
	if err := wire.CloseError(p); !errors.As(err, &ce) {
		return err
	}
	return nil
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
	c.out.feed(p, func(b0, _ byte, _ uint64) error {
		closing = closing || b0&0x0f == byte(websock.OpClose)
		return nil
	}, nil)
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
