package websock

import "fmt"

// Opcode is the type of a WebSocket frame (RFC 6455, section 5.2).
type Opcode uint8

// The opcodes a handler sees and sends.
const (
	OpText   Opcode = 0x1
	OpBinary Opcode = 0x2
	OpClose  Opcode = 0x8
	OpPing   Opcode = 0x9
	OpPong   Opcode = 0xA
)

// String returns the opcode's name, such as "text".
func (o Opcode) String() string {
	switch o {
	case OpText:
		return "text"
	case OpBinary:
		return "binary"
	case OpClose:
		return "close"
	case OpPing:
		return "ping"
	case OpPong:
		return "pong"
	}
	return fmt.Sprintf("opcode(%#x)", uint8(o))
}

// IsControl reports whether o is a control opcode (close, ping or pong).
func (o Opcode) IsControl() bool { return o&0x8 != 0 }

// Frame is a whole message or control frame: its opcode and payload.
//
// A Frame received in a callback is valid only until that callback returns;
// copy Data to keep it. A Frame returned in a Result may refer to the data a
// callback received: the engine writes it before it reads the next message.
//
// A Frame made by [Prepared.Frame] also refers to its [Prepared] message,
// whose shared encoding the engine writes.
type Frame struct {
	Op   Opcode
	Data []byte

	prepared *Prepared // set by Prepared.Frame
}

// Text returns a text frame. The payload must be valid UTF-8.
func Text(data []byte) Frame { return Frame{Op: OpText, Data: data} }

// TextString returns a text frame holding s.
func TextString(s string) Frame { return Frame{Op: OpText, Data: []byte(s)} }

// Binary returns a binary frame.
func Binary(data []byte) Frame { return Frame{Op: OpBinary, Data: data} }

// Ping returns a ping frame; its payload must be at most 125 bytes.
func Ping(data []byte) Frame { return Frame{Op: OpPing, Data: data} }

// Pong returns an unsolicited pong frame; its payload must be at most 125
// bytes. The engine already answers every ping: a handler never needs to.
func Pong(data []byte) Frame { return Frame{Op: OpPong, Data: data} }
