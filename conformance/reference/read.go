package reference

import (
	"bufio"
	"bytes"
	"compress/flate"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"slices"
	"unicode/utf8"

	"github.com/websock-go/websock/adapters"
	"github.com/websock-go/websock/conformance/internal/faults"
	"github.com/websock-go/websock/websock"
)

// transport is the adapters.Transport of one upgraded connection.
type transport struct {
	nc       net.Conn
	br       *bufio.Reader
	max      int64 // MaxMessageSize; 0 means no limit
	validate bool  // check that text is UTF-8
	deflate  deflate
	faults   faults.Set

	msg     []byte        // the data message being reassembled, reused
	inflate io.ReadCloser // reused from message to message
	history []byte        // the last 32 KiB inflated, when the client keeps context
}

func newTransport(nc net.Conn, br *bufio.Reader, o adapters.Options, d deflate, f faults.Set) *transport {
	return &transport{nc: nc, br: br, max: o.MaxMessageSize, validate: !o.SkipUTF8Validation, deflate: d, faults: f}
}

// ValidatesUTF8 tells the engine that Read checks text itself, as it
// arrives (see adapters.UTF8Validator).
func (t *transport) ValidatesUTF8() bool { return true }

// The opcodes (RFC 6455 section 5.2).
const (
	opContinuation = 0x0
	opText         = 0x1
	opBinary       = 0x2
	opClose        = 0x8
	opPing         = 0x9
	opPong         = 0xA
)

// header is a frame's header (RFC 6455 section 5.2).
type header struct {
	fin        bool
	compressed bool // RSV1, which permessage-deflate gives a meaning
	op         byte
	length     int64
	mask       [4]byte
}

// protocolError is bad input: the engine closes 1002.
func protocolError(format string, args ...any) error {
	return fmt.Errorf("%w: %s", websock.ErrProtocol, fmt.Sprintf(format, args...))
}

// Read reads frames until the connection ends: control frames are
// reported as they come, data frames are reassembled into messages.
func (t *transport) Read(ev adapters.Events) error {
	var (
		op         byte // the opcode of the message being reassembled; 0 between messages
		compressed bool
		utf8Done   int // how many bytes of t.msg are known to be whole, valid code points
	)
	for {
		h, err := t.readHeader()
		if err != nil {
			return err
		}
		switch h.op {
		case opPing, opPong, opClose:
			payload, err := t.readPayload(nil, h, nil)
			if err != nil {
				return err
			}
			switch h.op {
			case opPing:
				ev.Ping(payload) // the engine answers with a pong
			case opPong:
				ev.Control(websock.OpPong, payload)
			case opClose:
				return closeError(payload)
			}
			continue
		case opText, opBinary:
			if op != 0 {
				return protocolError("a new message began inside a fragmented one")
			}
			op, compressed, utf8Done, t.msg = h.op, h.compressed, 0, t.msg[:0]
		case opContinuation:
			if op == 0 {
				return protocolError("a continuation frame with no message to continue")
			}
			if t.faults.NoReassembly {
				t.msg, utf8Done = t.msg[:0], 0
			}
		}

		// MaxMessageSize counts the message as the handler sees it: a
		// compressed one is checked again once inflated, and may take a
		// little more room compressed than inflated.
		limit := t.max
		if compressed {
			limit += t.max/1024 + 64
		}
		if t.max > 0 && int64(len(t.msg))+h.length > limit && !t.faults.NoSizeLimit {
			return fmt.Errorf("%w: more than %d bytes", websock.ErrMessageTooBig, t.max)
		}
		var check func([]byte) error
		if op == opText && t.validate && !compressed && !t.faults.NoUTF8 {
			check = func(text []byte) error { // as the bytes arrive: bad text fails at once
				if !validUTF8(text, &utf8Done, false) {
					return errText
				}
				return nil
			}
		}
		if t.msg, err = t.readPayload(t.msg, h, check); err != nil {
			return err
		}
		if check != nil && h.fin && !validUTF8(t.msg, &utf8Done, true) {
			return errText
		}
		if !h.fin && !t.faults.NoReassembly {
			continue
		}
		data := t.msg
		if compressed {
			if data, err = t.inflateMessage(data); err != nil {
				return err
			}
			if op == opText && t.validate && !t.faults.NoUTF8 && !utf8.Valid(data) {
				return errText
			}
		}
		if err := ev.Message(websock.Opcode(op), data); err != nil {
			return err
		}
		if h.fin {
			op = 0
		}
	}
}

// readHeader reads a frame's header and checks it against what a client
// may send (RFC 6455 sections 5.1 to 5.5, RFC 7692 section 6).
func (t *transport) readHeader() (header, error) {
	var b [2]byte
	if _, err := io.ReadFull(t.br, b[:]); err != nil {
		return header{}, err
	}
	h := header{fin: b[0]&0x80 != 0, compressed: b[0]&0x40 != 0, op: b[0] & 0x0f, length: int64(b[1] & 0x7f)}
	control := h.op&0x8 != 0
	switch {
	case h.op > opBinary && h.op != opClose && h.op != opPing && h.op != opPong:
		return h, protocolError("reserved opcode %#x", h.op)
	case b[0]&0x30 != 0:
		return h, protocolError("RSV2 or RSV3 set; no extension defines them")
	case h.compressed && (!t.deflate.on || h.op == opContinuation || control):
		return h, protocolError("RSV1 set on a frame permessage-deflate does not compress")
	case b[1]&0x80 == 0:
		return h, protocolError("an unmasked frame from the client")
	case control && (!h.fin || h.length > 125):
		return h, protocolError("a control frame fragmented or over 125 bytes")
	}
	switch h.length {
	case 126:
		var n [2]byte
		if _, err := io.ReadFull(t.br, n[:]); err != nil {
			return h, err
		}
		h.length = int64(binary.BigEndian.Uint16(n[:]))
	case 127:
		var n [8]byte
		if _, err := io.ReadFull(t.br, n[:]); err != nil {
			return h, err
		}
		if n[0]&0x80 != 0 {
			return h, protocolError("a payload length with its most significant bit set")
		}
		h.length = int64(binary.BigEndian.Uint64(n[:]))
	}
	_, err := io.ReadFull(t.br, h.mask[:])
	return h, err
}

// readPayload appends h's payload, unmasked, to dst, as its bytes
// arrive: check, when not nil, sees dst after every read, so that bad
// text fails before the rest of the frame is sent. dst grows as the bytes
// arrive, so a length a peer announces allocates nothing until it is
// sent.
func (t *transport) readPayload(dst []byte, h header, check func([]byte) error) ([]byte, error) {
	for read, left := 0, h.length; left > 0; {
		if cap(dst) == len(dst) {
			dst = slices.Grow(dst, int(min(left, 64<<10)))
		}
		room := dst[len(dst):min(int64(cap(dst)), int64(len(dst))+left)]
		n, err := t.br.Read(room)
		for i := range room[:n] {
			room[i] ^= h.mask[(read+i)&3]
		}
		dst, read, left = dst[:len(dst)+n], read+n, left-int64(n)
		if check != nil && n > 0 {
			if err := check(dst); err != nil {
				return dst, err
			}
		}
		if err == io.EOF && left > 0 {
			err = io.ErrUnexpectedEOF // the connection ended mid-frame
		}
		if err != nil && left > 0 {
			return dst, err
		}
	}
	return dst, nil
}

var errText = fmt.Errorf("%w: in a text message", websock.ErrInvalidUTF8)

// validUTF8 reports whether text, a text message received up to here, can
// still be valid UTF-8: *done bytes were checked before, and a code point
// cut short at the end is left for the next fragment unless final.
func validUTF8(text []byte, done *int, final bool) bool {
	for *done < len(text) {
		r, size := utf8.DecodeRune(text[*done:])
		if r == utf8.RuneError && size == 1 {
			return !final && !utf8.FullRune(text[*done:])
		}
		*done += size
	}
	return true
}

// deflateTail ends a compressed message: RFC 7692 section 7.2.2 has the
// client remove 0x00 0x00 0xff 0xff, and an empty final block follows, so
// that the inflater sees the end of a stream.
var deflateTail = []byte{0x00, 0x00, 0xff, 0xff, 0x01, 0x00, 0x00, 0xff, 0xff}

// inflateMessage inflates a compressed message, reading at most one byte
// more than MaxMessageSize: a small message that inflates to a huge one
// costs no more than the limit.
func (t *transport) inflateMessage(p []byte) ([]byte, error) {
	src := io.MultiReader(bytes.NewReader(p), bytes.NewReader(deflateTail))
	if t.inflate == nil {
		t.inflate = flate.NewReaderDict(src, t.history)
	} else {
		t.inflate.(flate.Resetter).Reset(src, t.history)
	}
	var r io.Reader = t.inflate
	if t.max > 0 && !t.faults.NoSizeLimit {
		r = io.LimitReader(r, t.max+1)
	}
	out, err := io.ReadAll(r)
	if err != nil {
		return nil, protocolError("a compressed message does not inflate: %v", err)
	}
	if t.max > 0 && int64(len(out)) > t.max && !t.faults.NoSizeLimit {
		return nil, fmt.Errorf("%w: more than %d bytes once inflated", websock.ErrMessageTooBig, t.max)
	}
	if t.deflate.takeover {
		t.history = append(t.history, out...)
		t.history = t.history[max(0, len(t.history)-32<<10):]
	}
	return out, nil
}

// closeError is what Read returns for a close frame's payload: a
// *websock.CloseError, which the engine checks (a code that may not be
// sent and a reason that is not UTF-8 are its to refuse), with code 1005
// for an empty payload. A payload of one byte, or one that carries 1005
// itself, which the engine could not tell from an empty one, is a
// protocol error.
func closeError(p []byte) error {
	switch {
	case len(p) == 0:
		return &websock.CloseError{Code: websock.CloseNoStatus}
	case len(p) == 1:
		return protocolError("a close frame with a 1-byte payload")
	}
	code := websock.CloseCode(binary.BigEndian.Uint16(p))
	if code == websock.CloseNoStatus {
		return protocolError("close code 1005, which may not be sent (RFC 6455 section 7.4.1)")
	}
	return &websock.CloseError{Code: code, Text: string(p[2:])}
}
