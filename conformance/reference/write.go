package reference

import (
	"encoding/binary"
	"net"
	"time"

	"github.com/websock-go/websock/websock"
)

// WriteFrame writes one unfragmented frame. The engine never calls two
// writes at once, so the frame's bytes go out together.
func (t *transport) WriteFrame(op websock.Opcode, data []byte) error {
	return t.writeFrame(byte(op), data)
}

// WriteClose writes a close frame: the code and text, or an empty payload
// for websock.CloseNoStatus.
func (t *transport) WriteClose(code websock.CloseCode, text string) error {
	var p []byte
	if code != websock.CloseNoStatus {
		p = binary.BigEndian.AppendUint16(nil, uint16(code))
		p = append(p, text...)
	}
	return t.writeFrame(opClose, p)
}

// writeFrame writes a final frame, unmasked as a server's must be (RFC
// 6455 section 5.1), and uncompressed: RFC 7692 lets a server compress
// none of its messages.
func (t *transport) writeFrame(op byte, payload []byte) error {
	h := []byte{0x80 | op}
	switch n := len(payload); {
	case n <= 125:
		h = append(h, byte(n))
	case n <= 0xffff:
		h = binary.BigEndian.AppendUint16(append(h, 126), uint16(n))
	default:
		h = binary.BigEndian.AppendUint64(append(h, 127), uint64(n))
	}
	b := net.Buffers{h, payload}
	_, err := b.WriteTo(t.nc)
	return err
}

// SetWriteDeadline sets the deadline of the writes that follow.
func (t *transport) SetWriteDeadline(d time.Time) error { return t.nc.SetWriteDeadline(d) }

// Close closes the connection: a Read or write under way returns.
func (t *transport) Close() error { return t.nc.Close() }
