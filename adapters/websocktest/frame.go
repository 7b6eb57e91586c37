package websocktest

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/websock-go/websock/websock"
)

// This file is the one frame codec of the package (RFC 6455 section 5):
// the test's side writes masked frames and reads unmasked ones, as a
// client does; the engine's side of the in-memory connection does the
// opposite; a scripted server for a client handler does what a server
// does.

const opContinuation websock.Opcode = 0

// frame is one frame read: final or not, with its unmasked payload.
type frame struct {
	op   websock.Opcode
	fin  bool
	data []byte
}

// errProtocol wraps websock.ErrProtocol: what was read breaks RFC 6455.
func errProtocol(format string, args ...any) error {
	return fmt.Errorf("%w: %s", websock.ErrProtocol, fmt.Sprintf(format, args...))
}

// readFrame reads one frame. masked says whether its sender must mask it
// (a client's frame); limit, when positive, bounds its payload.
func readFrame(br *bufio.Reader, masked bool, limit int64) (frame, error) {
	var b [2]byte
	if _, err := io.ReadFull(br, b[:]); err != nil {
		return frame{}, err
	}
	f := frame{op: websock.Opcode(b[0] & 0x0f), fin: b[0]&0x80 != 0}
	n := int64(b[1] & 0x7f)
	switch {
	case b[0]&0x70 != 0:
		return f, errProtocol("reserved bits set; no extension was negotiated")
	case f.op > websock.OpBinary && !f.op.IsControl(), f.op > websock.OpPong:
		return f, errProtocol("reserved opcode %#x", byte(f.op))
	case (b[1]&0x80 != 0) != masked:
		return f, errProtocol("a frame masked wrongly for its direction (masked: %v)", b[1]&0x80 != 0)
	case f.op.IsControl() && (!f.fin || n > 125):
		return f, errProtocol("a control frame fragmented or over 125 bytes")
	}
	switch n {
	case 126:
		var x [2]byte
		if _, err := io.ReadFull(br, x[:]); err != nil {
			return f, err
		}
		n = int64(binary.BigEndian.Uint16(x[:]))
	case 127:
		var x [8]byte
		if _, err := io.ReadFull(br, x[:]); err != nil {
			return f, err
		}
		if x[0]&0x80 != 0 {
			return f, errProtocol("a payload length with its most significant bit set")
		}
		n = int64(binary.BigEndian.Uint64(x[:]))
	}
	if limit > 0 && n > limit {
		return f, fmt.Errorf("%w: a frame of %d bytes, over the limit of %d", websock.ErrMessageTooBig, n, limit)
	}
	var key [4]byte
	if masked {
		if _, err := io.ReadFull(br, key[:]); err != nil {
			return f, err
		}
	}
	f.data = make([]byte, n)
	if _, err := io.ReadFull(br, f.data); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF // the connection ended mid-frame
		}
		return f, err
	}
	for i := range f.data {
		f.data[i] ^= key[i&3]
	}
	return f, nil
}

// appendFrame appends one frame to b, masked with key when mask is set.
func appendFrame(b []byte, op websock.Opcode, fin bool, payload []byte, mask bool, key [4]byte) []byte {
	first := byte(op)
	if fin {
		first |= 0x80
	}
	var m byte
	if mask {
		m = 0x80
	}
	switch n := len(payload); {
	case n <= 125:
		b = append(b, first, m|byte(n))
	case n <= 0xffff:
		b = binary.BigEndian.AppendUint16(append(b, first, m|126), uint16(n))
	default:
		b = binary.BigEndian.AppendUint64(append(b, first, m|127), uint64(n))
	}
	if !mask {
		return append(b, payload...)
	}
	b = append(b, key[:]...)
	start := len(b)
	b = append(b, payload...)
	for i := range payload {
		b[start+i] ^= key[i&3]
	}
	return b
}

// closePayload is the payload of a close frame with code and text; empty
// for websock.CloseNoStatus.
func closePayload(code websock.CloseCode, text string) []byte {
	if code == websock.CloseNoStatus {
		return nil
	}
	return append(binary.BigEndian.AppendUint16(nil, uint16(code)), text...)
}

// parseClose returns the code and text of a close frame's payload:
// websock.CloseNoStatus for an empty one.
func parseClose(p []byte) (websock.CloseCode, string, error) {
	switch len(p) {
	case 0:
		return websock.CloseNoStatus, "", nil
	case 1:
		return 0, "", errProtocol("a close frame with a 1-byte payload")
	}
	return websock.CloseCode(binary.BigEndian.Uint16(p)), string(p[2:]), nil
}
