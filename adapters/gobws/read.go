package gobws

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsflate"

	"github.com/websock-go/websock/adapters"
	"github.com/websock-go/websock/adapters/internal/utf8stream"
	"github.com/websock-go/websock/websock"
)

// chunkSize bounds each read of a payload into the message, and each
// inflation step; each read takes what has arrived, so that a message is
// validated and counted as it arrives rather than once it is whole.
const chunkSize = 64 << 10

var (
	errInvalidText = fmt.Errorf("%w: text message", websock.ErrInvalidUTF8)
	errCloseShort  = fmt.Errorf("%w: close frame with a 1-byte payload (RFC 6455 section 5.5.1)", websock.ErrProtocol)
	errNoProgress  = errors.New("gobws: connection read returned no data and no error")
)

// Read reads messages until the connection ends, reporting them and the
// control frames between them to ev.
func (t *transport) Read(ev adapters.Events) error {
	t.ev = ev
	return adapters.ReadMessages(ev, t.readMessage)
}

// readMessage reads frames until a whole text or binary message has been
// read, reporting the control frames that come first or between its
// fragments, and returns it. It is valid until the next call.
//
// Reading readiness events (see ReadReady), it returns errAgain when no
// frame has started; an uncompressed message whose next fragment has not
// started is kept, and the next call goes on with it.
func (t *transport) readMessage() (websock.Opcode, []byte, error) {
	var err error
	if t.partial {
		t.partial = false
		err = t.readPlain()
	} else {
		t.putMessage() // the engine is done with the previous message
		var h ws.Header
		var compressed bool
		h, compressed, err = t.nextFrame(false)
		if err != nil {
			return 0, nil, err
		}
		t.msg = getBuffer()
		t.frame, t.left, t.pos = h, h.Length, 0
		t.op = h.OpCode
		t.text = h.OpCode == ws.OpText && t.checkUTF8
		t.checked = 0
		if compressed {
			t.inflating = true
			err = t.inflate()
			t.inflating = false
		} else {
			err = t.readPlain()
		}
	}
	if err == errAgain {
		t.partial = true
		return 0, nil, err
	}
	if err == nil {
		err = t.validate(true)
	}
	if err != nil {
		return 0, nil, err
	}
	t.idle()
	return websock.Opcode(t.op), t.msg.b, nil
}

// nextFrame reads frame headers until that of a data frame, handling the
// control frames before it, and returns it with the compression bit
// cleared and whether it was set. inMessage says a fragmented message is
// being read, so that the frame must continue it.
func (t *transport) nextFrame(inMessage bool) (h ws.Header, compressed bool, err error) {
	state := ws.StateServerSide
	if t.client {
		state = ws.StateClientSide
	}
	if inMessage {
		state |= ws.StateFragmented
	}
	for {
		if t.polling && t.in.Buffered() == 0 && !t.inflating {
			// Reading a readiness event: what arrived is read, and the
			// next frame has not started.
			t.in.idle()
			return h, false, errAgain
		}
		if t.in.buf == nil {
			if err := t.in.wait(); err != nil {
				return h, false, err
			}
		}
		h, err = ws.ReadHeaderBuffer(&t.in, t.hdr[:])
		if err != nil {
			return h, false, headerError(err)
		}
		if t.deflate {
			// The compression bit is allowed on the first frame of a
			// data message only (RFC 7692, section 6).
			if h, compressed, err = wsflate.UnsetBit(h); err != nil {
				return h, false, protocolError(err)
			}
		}
		if err := ws.CheckHeader(h, state); err != nil {
			return h, false, protocolError(err)
		}
		if !h.OpCode.IsControl() {
			return h, compressed, nil
		}
		if err := t.control(h); err != nil {
			return h, false, err
		}
		if !inMessage {
			t.idle()
		}
	}
}

// idle gives back the read buffer when it holds nothing unread, so that
// an idle connection holds no buffer.
func (t *transport) idle() { t.in.idle() }

// control reads the payload of the control frame whose header is h and
// handles it: pings and pongs go to the engine, which answers pings; a
// close frame ends reading with the error the engine expects.
func (t *transport) control(h ws.Header) error {
	b := getBuffer()
	defer putBuffer(b)
	b.b = room(b.b, ws.MaxControlFramePayloadSize)
	p := b.b[:h.Length] // CheckHeader made sure it fits
	if _, err := io.ReadFull(&t.in, p); err != nil {
		return err
	}
	ws.Cipher(p, h.Mask, 0)
	switch h.OpCode {
	case ws.OpPing:
		t.ev.Ping(p)
	case ws.OpPong:
		t.ev.Control(websock.OpPong, p)
	case ws.OpClose:
		return closeError(p)
	}
	return nil
}

// closeError returns the error for the close frame payload p: the peer's
// *websock.CloseError, or a protocol error for a payload RFC 6455 section
// 5.5.1 forbids. A reason that is not UTF-8 is the engine's to refuse.
func closeError(p []byte) error {
	switch len(p) {
	case 0:
		return &websock.CloseError{Code: websock.CloseNoStatus}
	case 1:
		return errCloseShort
	}
	code := websock.CloseCode(binary.BigEndian.Uint16(p))
	if !code.Sendable() {
		return fmt.Errorf("%w: peer sent close code %d, which may not be sent (RFC 6455 section 7.4)", websock.ErrProtocol, code)
	}
	return &websock.CloseError{Code: code, Text: string(p[2:])}
}

// readPlain reads the payload of an uncompressed message into t.msg,
// frame by frame, validating text as it arrives. The maximum message size
// is checked against each frame's declared length before its payload is
// read.
func (t *transport) readPlain() error {
	for {
		// Subtract rather than add: a declared length may be near the
		// largest int64.
		if t.max > 0 && t.left > t.max-int64(len(t.msg.b)) {
			return fmt.Errorf("%w: a frame declares %d bytes after %d, over the maximum of %d",
				websock.ErrMessageTooBig, t.left, len(t.msg.b), t.max)
		}
		for t.left > 0 {
			b := grow(t.msg.b, t.max)
			n := int(min(t.left, chunkSize, int64(cap(b)-len(b))))
			// Read what has arrived, not a whole chunk, so that text is
			// validated as soon as its bytes are here.
			n, err := t.in.Read(b[len(b) : len(b)+n])
			if n == 0 && err == nil {
				err = errNoProgress
			}
			p := b[len(b) : len(b)+n]
			ws.Cipher(p, t.frame.Mask, t.pos)
			t.msg.b = b[:len(b)+n]
			t.left -= int64(n)
			t.pos += n
			if verr := t.validate(false); verr != nil {
				return verr
			}
			if err != nil && t.left > 0 {
				if err == io.EOF {
					err = io.ErrUnexpectedEOF // the connection ended mid-frame
				}
				return err
			}
		}
		if t.frame.Fin {
			return nil
		}
		h, _, err := t.nextFrame(true)
		if err != nil {
			return err
		}
		t.frame, t.left, t.pos = h, h.Length, 0
	}
}

// inflate decompresses a compressed message into t.msg, counting and
// validating its bytes as they come out and stopping as soon as it is
// over the maximum message size.
func (t *transport) inflate() error {
	t.err = nil
	t.wire = t.left
	if err := t.checkWire(); err != nil {
		return err
	}
	fr := getInflater(payload{t})
	defer putInflater(fr)
	limit := int64(0)
	if t.max > 0 {
		limit = t.max + 1 // one byte over the maximum tells it is over
	}
	for {
		b := grow(t.msg.b, limit)
		n, err := fr.Read(b[len(b):min(cap(b), len(b)+chunkSize)])
		t.msg.b = b[:len(b)+n]
		if t.max > 0 && int64(len(t.msg.b)) > t.max {
			return fmt.Errorf("%w: it inflates to more than the maximum of %d bytes", websock.ErrMessageTooBig, t.max)
		}
		if verr := t.validate(false); verr != nil {
			return verr
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			if t.err != nil {
				return t.err // reading the frames failed, not inflating
			}
			return fmt.Errorf("%w: permessage-deflate data: %w", websock.ErrProtocol, err)
		}
	}
	// A deflate stream may end before the message does; discard the rest.
	scratch := getBuffer()
	defer putBuffer(scratch)
	scratch.b = room(scratch.b, minBuffer)
	for {
		_, err := payload{t}.Read(scratch.b[:cap(scratch.b)])
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// checkWire bounds the compressed size of a message by the maximum
// message size, with room for what deflate adds to data it cannot
// compress (at most an eighth, with fixed Huffman codes), so that a peer
// cannot keep a message going forever with data that inflates to
// nothing, such as empty deflate blocks.
func (t *transport) checkWire() error {
	if t.max > 0 && t.wire > t.max+t.max/8+1024 {
		return fmt.Errorf("%w: %d compressed bytes, more than a message of at most %d bytes needs",
			websock.ErrMessageTooBig, t.wire, t.max)
	}
	return nil
}

// validate checks the bytes of a text message read since it last ran.
func (t *transport) validate(final bool) error {
	if !t.text {
		return nil
	}
	pending, ok := utf8stream.Check(t.msg.b[t.checked:], final)
	if !ok {
		return errInvalidText
	}
	t.checked = len(t.msg.b) - pending
	return nil
}

// payload reads the payload of a compressed message, across its
// fragments and the control frames between them, for the decompressor.
type payload struct{ t *transport }

func (p payload) Read(b []byte) (int, error) {
	t := p.t
	for t.left == 0 {
		if t.frame.Fin {
			return 0, io.EOF
		}
		h, _, err := t.nextFrame(true)
		if err == nil {
			t.wire += h.Length
			err = t.checkWire()
		}
		if err != nil {
			t.err = err
			return 0, err
		}
		t.frame, t.left, t.pos = h, h.Length, 0
	}
	b = b[:min(int64(len(b)), t.left)]
	n, err := t.in.Read(b)
	ws.Cipher(b[:n], t.frame.Mask, t.pos)
	t.left -= int64(n)
	t.pos += n
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF // the connection ended mid-frame
		}
		t.err = err
		return n, err
	}
	return n, nil
}

// headerError classifies an error from reading a frame header: a
// malformed length is a protocol error; anything else means the
// connection was lost.
func headerError(err error) error {
	if errors.Is(err, ws.ErrHeaderLengthMSB) || errors.Is(err, ws.ErrHeaderLengthUnexpected) {
		return protocolError(err)
	}
	return err
}

func protocolError(err error) error {
	return fmt.Errorf("%w: %w", websock.ErrProtocol, err)
}
