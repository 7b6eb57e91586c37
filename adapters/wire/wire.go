package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/websock-go/websock/websock"
)

// MaxControl is the largest payload of a control frame (RFC 6455,
// section 5.5).
const MaxControl = 125

const (
	opText   = byte(websock.OpText)
	opBinary = byte(websock.OpBinary)
	opClose  = byte(websock.OpClose)
	opPing   = byte(websock.OpPing)
	opPong   = byte(websock.OpPong)
)

var (
	// ErrBadControl is returned by [Conn.WriteControl] for a frame it
	// does not write: an opcode other than ping or pong, or a payload
	// over [MaxControl] bytes.
	ErrBadControl = errors.New("wire: WriteControl writes pings and pongs of at most 125 bytes")

	// ErrMidFrame is returned by [Conn.WriteControl] and [Conn.WriteClose]
	// when called while the library has written part of a frame (or of its
	// handshake response) and not the rest: a frame of the adapter's own
	// would corrupt it. Write control frames between the library's writes,
	// never concurrently with one that writes a frame in pieces.
	ErrMidFrame = errors.New("wire: the library is half way through writing a frame")
)

// mode is what a direction of a Conn follows.
type mode uint8

const (
	modeFrames   mode = iota // WebSocket frames
	modeDetect               // the first byte tells: 'H' starts an HTTP response, anything else a frame
	modeResponse             // an HTTP response, up to its blank line, then frames
	modeHTTP                 // an HTTP exchange, passed through until Upgraded
)

// Conn is a net.Conn under a WebSocket library's server connection: see
// the package documentation. Its methods may be called concurrently.
type Conn struct {
	nc net.Conn

	// The read side, used by the library's reading goroutine only (and by
	// Upgraded, before it starts).
	in       Tracker
	inMode   mode
	inTail   uint32 // the last 4 bytes read in modeHTTP
	held     []byte // bytes read but not yet handed over: the peer's close frame and what follows
	heldBuf  [256]byte
	heldErr  error // the read error to return once held is drained
	peerDone bool  // the read side follows nothing more
	readErr  error // the error every Read returns from now on

	mu sync.Mutex // guards what follows

	out       tracker
	outMode   mode
	crlf      int  // how much of "\r\n\r\n" ends what was written in modeResponse
	collect   bool // the library is writing a close frame, gathered in libFrame
	libFrame  []byte
	libBuf    [14 + MaxControl]byte
	closeSent bool
	passing   bool   // the rest of a malformed close frame's payload goes as written
	libClose  []byte // the payload of the library's close frame, when libClosed
	libClosed bool
	libCopy   [MaxControl]byte
	peer      []byte // the payload of the peer's close frame, when peerClosed
	peerCopy  [MaxControl]byte
	peerOK    bool
	ctl       [2 + MaxControl]byte // a frame of the Conn's own being written
}

var _ net.Conn = (*Conn)(nil)

// New returns a Conn over nc, a connection whose handshake is over: it
// follows frames from the first byte in both directions.
func New(nc net.Conn) *Conn { return &Conn{nc: nc} }

// newHijacked returns the Conn of a connection net/http hijacked: the
// library may still write the HTTP response through it.
func newHijacked(nc net.Conn) *Conn { return &Conn{nc: nc, outMode: modeDetect} }

// Upgraded tells a Conn accepted by a [Listener] that the HTTP exchange
// is over: the server has written the 101 response and the library is
// about to read and write frames. It does nothing on a Conn that follows
// frames already.
//
// If the server read past the end of the upgrade request before the
// hijack (a client that sent frames before the 101 response arrived), the
// frames it buffered never pass through the Conn: the read side then
// follows nothing, and PeerClose reports no close frame.
func (c *Conn) Upgraded() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.outMode == modeHTTP {
		c.outMode = modeFrames
	}
	if c.inMode == modeHTTP {
		c.inMode = modeFrames
		c.peerDone = c.inTail != 0x0d0a0d0a // "\r\n\r\n": the request ended the last read
	}
}

// ValidateUTF8 makes c validate the text messages the peer sends as their
// bytes arrive, before the library gets them: once the bytes read cannot
// begin valid UTF-8, Read fails, now and from then on, with an error
// wrapping websock.ErrInvalidUTF8, and the bytes of that read are not
// handed over. A library whose reads wait for a whole frame payload (or a
// whole message) could not report it sooner. A compressed message (RSV1
// set on its first frame) is not validated: its bytes are not text until
// the library inflates them. Call it before the library reads its first
// frame.
func (c *Conn) ValidateUTF8() { c.in.opts.ValidateUTF8 = true }

// NetConn returns the connection under c, for what must bypass the
// frame tracking (half-closing it, draining it once the connection has
// ended).
func (c *Conn) NetConn() net.Conn { return c.nc }

// Read reads what the library reads, and follows the frames in it. The
// bytes of the peer's first close frame are handed over by a Read of their
// own, so that the library has dealt with every frame before it when it
// gets them.
func (c *Conn) Read(p []byte) (int, error) {
	if c.readErr != nil {
		return 0, c.readErr
	}
	if len(c.held) > 0 {
		n := c.followIn(p[:copy(p, c.held)])
		if c.readErr != nil {
			return 0, c.readErr
		}
		c.held = c.held[n:]
		if len(c.held) == 0 && c.heldErr != nil {
			err := c.heldErr
			c.heldErr = nil
			return n, err
		}
		return n, nil
	}
	if c.heldErr != nil {
		err := c.heldErr
		c.heldErr = nil
		return 0, err
	}
	n, err := c.nc.Read(p)
	if n == 0 || c.peerDone {
		return n, err
	}
	if c.inMode == modeHTTP {
		for _, b := range p[max(0, n-4):n] {
			c.inTail = c.inTail<<8 | uint32(b)
		}
		return n, err
	}
	m := c.followIn(p[:n])
	if c.readErr != nil {
		return 0, c.readErr
	}
	if m < n {
		c.held = append(c.heldBuf[:0], p[m:n]...)
		c.heldErr = err
		return m, nil
	}
	return n, err
}

// followIn follows p, read from the peer, with the Conn's Tracker. It
// returns how many bytes of p the library may have now: all of them, or
// those before the first byte of the peer's first close frame when that
// is not p[0].
func (c *Conn) followIn(p []byte) int {
	if c.peerDone {
		return len(p)
	}
	n, err := c.in.Feed(p)
	if err != nil {
		c.peerDone, c.readErr = true, err
		return n
	}
	if payload, ok := c.in.PeerClose(); ok {
		c.peerDone = true
		c.mu.Lock()
		c.peer = append(c.peerCopy[:0], payload...)
		c.peerOK = true
		c.mu.Unlock()
	} else if !c.in.Following() {
		c.peerDone = true
	}
	return n
}

// PeerClose returns the payload of the close frame the peer sent, and
// whether the library has been handed all of it; [CloseError] says what
// it means. It reports only the peer's first close frame, and only when
// every frame before it was handed to the library first: a library that
// failed on an earlier frame never saw it. The payload must not be
// modified.
func (c *Conn) PeerClose() (payload []byte, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.peer, c.peerOK
}

// LibraryClose returns the payload of the close frame the library wrote
// itself, as it wrote it, and whether it wrote one before any other close
// frame went out. What went out in its place, if anything, is described in
// the package documentation. The payload must not be modified.
func (c *Conn) LibraryClose() (payload []byte, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.libClose, c.libClosed
}

// CloseSent reports whether a close frame has gone out, the library's or
// one written with WriteClose. Nothing is written after it.
func (c *Conn) CloseSent() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closeSent
}

// Write writes p, the library's output, up to and including its first
// close frame (or the frame sent in its place); it drops what follows, and
// everything once a close frame has gone out. It reports all of p written
// unless the connection failed.
func (c *Conn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.outMode == modeHTTP {
		return c.nc.Write(p)
	}
	if c.passing {
		return c.passRest(p)
	}
	if c.closeSent || len(p) == 0 {
		return len(p), nil
	}
	i := 0
	if c.outMode == modeDetect {
		c.outMode = modeFrames
		if p[0] == 'H' { // 0x48 is no frame a server may write: a non-final close with RSV1
			c.outMode = modeResponse
		}
	}
	if c.outMode == modeResponse {
		for i < len(p) && c.crlf < 4 {
			if p[i] == "\r\n\r\n"[c.crlf] {
				c.crlf++
			} else if p[i] == '\r' {
				c.crlf = 1
			} else {
				c.crlf = 0
			}
			i++
		}
		if c.crlf == 4 {
			c.outMode = modeFrames
		}
	}
	from := 0 // the first byte of p not yet written, or len(p): none is to be
	if c.collect {
		from = len(p) // gathered, not written
	}
	t := &c.out
	for i < len(p) {
		if t.left > 0 {
			k := min(uint64(len(p)-i), t.left)
			if c.collect {
				c.libFrame = append(c.libFrame, p[i:i+int(k)]...)
			}
			t.left -= k
			i += int(k)
			if t.left == 0 && c.collect {
				return c.libCloseDone(p, from)
			}
			continue
		}
		if t.hn == 0 && p[i]&0x0f == opClose {
			if n, err := c.nc.Write(p[from:i]); err != nil {
				return from + n, err
			}
			c.collect, c.libFrame, from = true, c.libBuf[:0], len(p)
		}
		if c.collect {
			c.libFrame = append(c.libFrame, p[i])
		}
		done := t.headerByte(p[i])
		i++
		if done && c.collect {
			if !t.validControl() || t.masked {
				// Not a close frame a server may send, nor one to judge:
				// it goes as written, however many writes its payload
				// takes, and is the last thing that does.
				c.collect, c.closeSent, c.passing = false, true, true
				if _, err := c.nc.Write(c.libFrame); err != nil {
					return 0, err
				}
				if _, err := c.passRest(p[i:]); err != nil {
					return i, err
				}
				return len(p), nil
			}
			if t.left == 0 {
				return c.libCloseDone(p, from)
			}
		}
	}
	if from < i {
		if n, err := c.nc.Write(p[from:i]); err != nil {
			return from + n, err
		}
	}
	return len(p), nil
}

// passRest writes what p holds of the rest of the payload of a close
// frame that goes as written, and drops what follows it. Called with mu
// held.
func (c *Conn) passRest(p []byte) (int, error) {
	k := min(uint64(len(p)), c.out.left)
	c.out.left -= k
	c.passing = c.out.left > 0
	if k > 0 {
		if n, err := c.nc.Write(p[:k]); err != nil {
			return n, err
		}
	}
	return len(p), nil
}

// libCloseDone writes, in place of the close frame the library has just
// finished in p (gathered in libFrame, header and payload), the close
// frame to send, and drops the rest of p. Called with mu held.
func (c *Conn) libCloseDone(p []byte, from int) (int, error) {
	c.collect, c.closeSent, c.libClosed = false, true, true
	payload := c.libFrame[len(c.libFrame)-int(c.out.size):]
	c.libClose = append(c.libCopy[:0], payload...)
	b, own := c.libFrame, true
	switch {
	case c.peerOK:
		b = answer(c.ctl[:2], c.peer)
	case malformed(payload):
		b = answer(c.ctl[:2], payload) // 1002 instead
	case len(c.libFrame) != 2+len(payload):
		// The length in an extended field, which a control frame may not
		// use (RFC 6455 section 5.2: the minimal encoding): framed again.
		b = append(c.ctl[:2], payload...)
	default:
		own = false
	}
	if own {
		b[0], b[1] = 0x80|opClose, byte(len(b)-2)
	}
	if _, err := c.nc.Write(b); err != nil {
		return from, err
	}
	return len(p), nil
}

// malformed reports whether p is not the payload of a close frame that
// may be sent: 1 byte, a code that may not be sent, a reason that is not
// UTF-8.
func malformed(p []byte) bool {
	switch len(p) {
	case 0:
		return false
	case 1:
		return true
	}
	return !websock.CloseCode(binary.BigEndian.Uint16(p)).Sendable() || !utf8.Valid(p[2:])
}

// answer appends to b the payload of the close frame that answers a close
// frame with payload p: the code echoed, nothing for nothing, or 1002 with
// what was wrong when p is malformed.
func answer(b, p []byte) []byte {
	switch {
	case len(p) == 0:
		return b
	case len(p) == 1:
		return append(binary.BigEndian.AppendUint16(b, uint16(websock.CloseProtocolError)), "close payload of 1 byte"...)
	}
	code := websock.CloseCode(binary.BigEndian.Uint16(p))
	switch {
	case !code.Sendable():
		return append(binary.BigEndian.AppendUint16(b, uint16(websock.CloseProtocolError)), "invalid close code"...)
	case !utf8.Valid(p[2:]):
		return append(binary.BigEndian.AppendUint16(b, uint16(websock.CloseProtocolError)), "invalid UTF-8 in close reason"...)
	}
	return binary.BigEndian.AppendUint16(b, uint16(code))
}

// CloseError returns what the payload of a close frame received from the
// peer means (RFC 6455, sections 5.5.1, 7.1.5, 7.1.6 and 7.4): a
// *websock.CloseError with its code and reason (websock.CloseNoStatus and
// no reason for an empty payload), or, for a malformed payload (1 byte, a
// code that may not be sent, a reason that is not UTF-8), an error
// wrapping websock.ErrProtocol that says what was wrong.
func CloseError(payload []byte) error {
	switch {
	case len(payload) == 0:
		return &websock.CloseError{Code: websock.CloseNoStatus}
	case len(payload) == 1:
		return fmt.Errorf("%w: close frame with a 1-byte payload; it must be empty or start with a 2-byte code (RFC 6455 section 5.5.1)", websock.ErrProtocol)
	}
	code := websock.CloseCode(binary.BigEndian.Uint16(payload))
	switch {
	case !code.Sendable():
		return fmt.Errorf("%w: close code %d may not be sent (RFC 6455 section 7.4)", websock.ErrProtocol, uint16(code))
	case !utf8.Valid(payload[2:]):
		return fmt.Errorf("%w: close reason is not valid UTF-8 (close code %d)", websock.ErrProtocol, uint16(code))
	}
	return &websock.CloseError{Code: code, Text: string(payload[2:])}
}

// WriteControl writes a ping or pong frame with payload, with deadline
// (the zero time: none) on the connection under c, between the library's
// frames. After a close frame has gone out it writes nothing and returns
// nil.
func (c *Conn) WriteControl(op websock.Opcode, payload []byte, deadline time.Time) error {
	if (op != websock.OpPing && op != websock.OpPong) || len(payload) > MaxControl {
		return fmt.Errorf("%w: opcode %v with %d bytes", ErrBadControl, op, len(payload))
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closeSent {
		return nil
	}
	if c.midFrame() {
		return ErrMidFrame
	}
	return c.writeOwn(op, append(c.ctl[:2], payload...), deadline)
}

// WriteClose writes a close frame with code and text (text cut to fit in
// a control frame), or with an empty payload when code is
// websock.CloseNoStatus, with deadline (the zero time: none), unless a
// close frame has gone out already: it then writes nothing and returns
// nil. It does not wait for the peer's close frame.
func (c *Conn) WriteClose(code websock.CloseCode, text string, deadline time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closeSent {
		return nil
	}
	if c.midFrame() {
		return ErrMidFrame
	}
	c.closeSent = true
	b := c.ctl[:2]
	if code != websock.CloseNoStatus {
		b = binary.BigEndian.AppendUint16(b, uint16(code))
		b = append(b, text[:min(len(text), MaxControl-2)]...)
	}
	return c.writeOwn(websock.OpClose, b, deadline)
}

// midFrame reports whether the library has written part of a frame or of
// its response. Called with mu held.
func (c *Conn) midFrame() bool {
	return c.out.hn > 0 || c.out.left > 0 || c.collect || c.outMode == modeResponse
}

// writeOwn writes the frame whose payload follows the two header bytes in
// b. Called with mu held.
func (c *Conn) writeOwn(op websock.Opcode, b []byte, deadline time.Time) error {
	b[0] = 0x80 | byte(op) // FIN
	b[1] = byte(len(b) - 2)
	return c.writeBy(b, deadline)
}

// writeBy writes b, a whole frame, with deadline (the zero time: none).
// Called with mu held.
func (c *Conn) writeBy(b []byte, deadline time.Time) error {
	c.nc.SetWriteDeadline(deadline)
	_, err := c.nc.Write(b)
	c.nc.SetWriteDeadline(time.Time{}) // the library's writes keep their own deadlines
	return err
}

// Close closes the connection under c.
func (c *Conn) Close() error { return c.nc.Close() }

// LocalAddr returns the local address of the connection under c.
func (c *Conn) LocalAddr() net.Addr { return c.nc.LocalAddr() }

// RemoteAddr returns the remote address of the connection under c.
func (c *Conn) RemoteAddr() net.Addr { return c.nc.RemoteAddr() }

// SetDeadline sets the deadlines of the connection under c.
func (c *Conn) SetDeadline(t time.Time) error { return c.nc.SetDeadline(t) }

// SetReadDeadline sets the read deadline of the connection under c.
func (c *Conn) SetReadDeadline(t time.Time) error { return c.nc.SetReadDeadline(t) }

// SetWriteDeadline sets the write deadline of the connection under c.
func (c *Conn) SetWriteDeadline(t time.Time) error { return c.nc.SetWriteDeadline(t) }

// tracker follows a stream of frames by their headers.
type tracker struct {
	hdr    [14]byte // the header being read
	hn     int      // how many bytes of it were seen
	need   int      // its length, once its second byte was seen
	b0     byte     // the first byte of the current frame's header
	op     byte     // the current frame's opcode
	masked bool
	key    [4]byte
	size   uint64 // the current frame's payload length
	left   uint64 // payload bytes of it still to come

	// gather holds the payload of the current frame, unmasked, when it is
	// a close frame.
	gather  [MaxControl]byte
	gathern int
}

// headerByte feeds the next byte of a header; it reports whether the
// header is now whole.
func (t *tracker) headerByte(b byte) bool {
	t.hdr[t.hn] = b
	t.hn++
	if t.hn == 2 {
		t.need = headerLen(t.hdr[1])
	}
	if t.hn < 2 || t.hn < t.need {
		return false
	}
	h := t.hdr[:t.hn]
	t.b0, t.op, t.masked = h[0], h[0]&0x0f, h[1]&0x80 != 0
	switch h[1] & 0x7f {
	case 126:
		t.size = uint64(binary.BigEndian.Uint16(h[2:]))
	case 127:
		t.size = binary.BigEndian.Uint64(h[2:])
	default:
		t.size = uint64(h[1] & 0x7f)
	}
	if t.masked {
		copy(t.key[:], h[len(h)-4:])
	}
	t.left, t.hn, t.gathern = t.size, 0, 0
	return true
}

// validControl reports whether the frame whose header was just read is a
// well-formed control frame: final, no RSV bits, at most MaxControl bytes.
func (t *tracker) validControl() bool {
	return t.b0&0xf0 == 0x80 && t.size <= MaxControl
}

// payload consumes the current frame's payload at the start of p, up to
// its end, gathering it when it is a close frame (unmasking it, unless
// unmasked says the caller did); it returns how many bytes it consumed.
func (t *tracker) payload(p []byte, unmasked bool) int {
	k := int(min(uint64(len(p)), t.left))
	if t.op == opClose {
		for _, b := range p[:k] {
			if t.masked && !unmasked {
				b ^= t.key[t.gathern&3]
			}
			t.gather[t.gathern] = b
			t.gathern++
		}
	}
	t.left -= uint64(k)
	return k
}

// gathered returns the payload of the close frame just read.
func (t *tracker) gathered() []byte { return t.gather[:t.gathern] }

// headerLen returns the length of a frame header whose second byte is b1.
func headerLen(b1 byte) int {
	n := 2
	switch b1 & 0x7f {
	case 126:
		n += 2
	case 127:
		n += 8
	}
	if b1&0x80 != 0 {
		n += 4
	}
	return n
}
