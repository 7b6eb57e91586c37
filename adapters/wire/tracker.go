package wire

import (
	"fmt"

	"github.com/websock-go/websock/adapters/internal/utf8stream"
	"github.com/websock-go/websock/websock"
)

// Tracker follows the frames a client sends a server, as bytes fed to it
// from anywhere: a [Conn] feeds it what the library reads through it, a
// push library's callback what its poller read, a [Parser] what it
// parses. It copies nothing and allocates nothing per frame.
//
// It always follows the frame headers, gathers the payload of the peer's
// first close frame ([Tracker.PeerClose]), and stops following once that
// frame has been fed. With TrackerOptions.ValidateUTF8 it checks the text
// messages as their bytes arrive, and fails at the first byte that
// cannot begin valid UTF-8, before the message is whole; with
// TrackerOptions.Strict it checks every rule of RFC 6455 section 5 a
// server enforces on what a client sends: frames masked, no reserved bit
// set that no extension defines (RSV1 only on the first frame of a
// compressed message, with TrackerOptions.Compression), no reserved
// opcode, control frames final and at most 125 bytes, continuation
// frames only inside a fragmented message and no new message inside one,
// no payload length with its most significant bit set. Once a rule is
// broken Feed returns the error, now and from then on.
//
// A Tracker is not safe for concurrent use: feed it from one goroutine at
// a time, in the order the bytes arrived.
type Tracker struct {
	t       tracker
	opts    TrackerOptions
	inMsg   bool // a fragmented data message is under way (Strict)
	text    bool // the data message being read is text to validate
	utf8    utf8stream.Validator
	done    bool                           // follows nothing more
	err     error                          // the rule broken, once one is
	closed  bool                           // the peer's close frame was fed whole
	stopped bool                           // a control frame broke its rules without Strict: the library fails on it
	unmask  bool                           // payload bytes are unmasked in place as they are fed (Parser)
	start   func() error                   // when set, called once a data frame's header is read
	payload func(p []byte, end bool) error // when set, gets the payload bytes of data frames, then end
	control func(op byte, p []byte) error  // when set, gets each control frame once whole
	ctlBuf  [MaxControl]byte
	ctlN    int
}

// TrackerOptions configures a Tracker. The zero value follows frames and
// checks nothing, as a Conn under a library that checks them does.
type TrackerOptions struct {
	// Strict checks the rules of RFC 6455 section 5 listed on Tracker.
	Strict bool

	// Compression: permessage-deflate was negotiated, so RSV1 may be set
	// on the first frame of a data message (Strict), and such a message's
	// bytes are not checked as UTF-8, being no text until inflated.
	Compression bool

	// ValidateUTF8 checks uncompressed text messages as their bytes
	// arrive.
	ValidateUTF8 bool
}

// NewTracker returns a Tracker of a connection whose handshake is over.
func NewTracker(o TrackerOptions) *Tracker { return &Tracker{opts: o} }

// errInvalidText is what the Tracker reports once a text message the peer
// sends is not UTF-8.
var errInvalidText = fmt.Errorf("%w: text message", websock.ErrInvalidUTF8)

func protocolError(format string, args ...any) error {
	return fmt.Errorf("%w: %s", websock.ErrProtocol, fmt.Sprintf(format, args...))
}

// Feed follows p, the next bytes the peer sent. It returns how many bytes
// of p it followed: all of them, or, when the first byte of the peer's
// first close frame is not p[0], those before it, so that the caller can
// hand the frames before the close frame over first and feed the rest
// again. Once the peer's close frame has been fed whole, Feed follows
// nothing more and returns len(p). It returns a non-nil error, wrapping
// websock.ErrProtocol or websock.ErrInvalidUTF8, once p breaks a rule the
// Tracker checks; n then counts the bytes before the chunk that broke it.
func (tr *Tracker) Feed(p []byte) (n int, err error) {
	if tr.err != nil {
		return 0, tr.err
	}
	t := &tr.t
	for i := 0; i < len(p); {
		if tr.done {
			return len(p), nil
		}
		if t.left > 0 {
			off := t.size - t.left
			k := int(min(uint64(len(p)-i), t.left))
			seg := p[i : i+k]
			if tr.unmask && t.masked {
				unmask(t.key, off, seg)
			}
			if tr.text && t.op <= opText && !tr.checkText(seg, off) {
				return i, tr.err
			}
			t.payload(p[i:i+k], tr.unmask)
			i += k
			if err := tr.framePayload(seg); err != nil {
				return tr.fail(i, err)
			}
			if t.left == 0 {
				if err := tr.frameEnd(); err != nil {
					return i, err
				}
			}
			continue
		}
		if t.hn == 0 && p[i]&0x0f == opClose && i > 0 {
			return i, nil
		}
		done := t.headerByte(p[i])
		i++
		if tr.opts.Strict && t.hn == 3 && t.hdr[1]&0x7f == 127 && t.hdr[2]&0x80 != 0 {
			return tr.fail(i-1, protocolError("a payload length with its most significant bit set"))
		}
		if !done {
			continue
		}
		if err := tr.header(); err != nil {
			return tr.fail(i-1, err)
		}
		if tr.done {
			return len(p), nil
		}
		if t.left == 0 {
			if err := tr.frameEnd(); err != nil {
				return i, err
			}
		}
	}
	return len(p), nil
}

// fail records err, the rule broken, and ends following.
func (tr *Tracker) fail(n int, err error) (int, error) {
	tr.err, tr.done, tr.text = err, true, false
	return n, err
}

// header checks the header just read, and starts following its frame.
func (tr *Tracker) header() error {
	t := &tr.t
	control := t.op&0x8 != 0
	if tr.opts.Strict {
		rsv1 := t.b0&0x40 != 0
		switch {
		case t.op > opBinary && t.op != opClose && t.op != opPing && t.op != opPong:
			return protocolError("reserved opcode %#x", t.op)
		case t.b0&0x30 != 0:
			return protocolError("RSV2 or RSV3 set; no extension defines them")
		case rsv1 && (!tr.opts.Compression || t.op == 0 || control):
			return protocolError("RSV1 set on a frame permessage-deflate does not compress")
		case !t.masked:
			return protocolError("an unmasked frame from the client")
		case control && !t.validControl():
			return protocolError("a control frame fragmented or over 125 bytes")
		case t.op == 0 && !tr.inMsg:
			return protocolError("a continuation frame with no message to continue")
		case (t.op == opText || t.op == opBinary) && tr.inMsg:
			return protocolError("a new message began inside a fragmented one")
		}
		if !control {
			tr.inMsg = t.b0&0x80 == 0
		}
	} else if control && !t.validControl() {
		// The library fails on it: there is no close to report.
		tr.done, tr.stopped = true, true
		return nil
	}
	tr.ctlN = 0
	if !control && tr.start != nil {
		if err := tr.start(); err != nil {
			return err
		}
	}
	if tr.opts.ValidateUTF8 {
		switch t.op {
		case opText:
			tr.text = t.b0&0x40 == 0 // RSV1: compressed, no text until inflated
			tr.utf8.Reset()
		case opBinary:
			tr.text = false
		}
	}
	return nil
}

// framePayload passes seg, payload bytes of the current frame, to the
// Parser when it listens, and gathers those of a control frame.
func (tr *Tracker) framePayload(seg []byte) error {
	t := &tr.t
	if t.op&0x8 != 0 {
		if tr.control != nil {
			tr.ctlN += copy(tr.ctlBuf[tr.ctlN:], seg)
		}
		return nil
	}
	if tr.payload != nil && len(seg) > 0 {
		return tr.payload(seg, false)
	}
	return nil
}

// frameEnd ends the frame whose payload was just fed whole.
func (tr *Tracker) frameEnd() error {
	t := &tr.t
	if tr.text && t.op <= opText && t.b0&0x80 != 0 {
		tr.text = false
		if !tr.utf8.End() {
			tr.err, tr.done = errInvalidText, true
			return tr.err
		}
	}
	var err error
	switch {
	case t.op == opClose:
		tr.closed, tr.done = true, true
		if tr.control != nil {
			err = tr.control(opClose, t.gathered())
		}
	case t.op&0x8 != 0:
		if tr.control != nil {
			err = tr.control(t.op, tr.ctlBuf[:tr.ctlN])
		}
	case tr.payload != nil:
		err = tr.payload(nil, true)
	}
	if err != nil {
		tr.err, tr.done = err, true
	}
	return err
}

// checkText validates p, payload bytes of the current frame of a text
// message starting at offset off in it, and fails if they cannot
// continue valid UTF-8.
func (tr *Tracker) checkText(p []byte, off uint64) bool {
	if tr.unmask || !tr.t.masked {
		if !tr.utf8.Write(p) {
			tr.fail(0, errInvalidText)
			return false
		}
		return true
	}
	var buf [512]byte
	for len(p) > 0 {
		n := copy(buf[:], p)
		for j := range buf[:n] {
			buf[j] ^= tr.t.key[(off+uint64(j))&3]
		}
		if !tr.utf8.Write(buf[:n]) {
			tr.fail(0, errInvalidText)
			return false
		}
		p, off = p[n:], off+uint64(n)
	}
	return true
}

// PeerClose returns the payload of the peer's first close frame, unmasked,
// and whether it has been fed whole; [CloseError] says what it means. The
// payload is the Tracker's and must not be modified.
func (tr *Tracker) PeerClose() (payload []byte, ok bool) {
	if !tr.closed {
		return nil, false
	}
	return tr.t.gathered(), true
}

// Err returns the rule the peer broke, or nil.
func (tr *Tracker) Err() error { return tr.err }

// Following reports whether the Tracker still follows frames: false once
// the peer's close frame was fed, a rule was broken, or (without Strict)
// a malformed control frame, on which the library fails, was seen.
func (tr *Tracker) Following() bool { return !tr.done }

// InFrame reports whether a frame has started and not been fed whole.
func (tr *Tracker) InFrame() bool { return tr.t.hn > 0 || tr.t.left > 0 }
