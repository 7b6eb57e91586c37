package longpoll

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/websock-go/websock/websock"
)

// A batch, the body of a poll's answer and of a POST, is the sequence
// number of its first message as a uvarint, then each message: its type
// (1 text, 2 binary, 8 close: the opcodes of RFC 6455), its length as a
// uvarint, and its bytes. A close message holds what a close frame does:
// nothing, or a 2-byte big-endian code and a UTF-8 reason.

// appendMessage appends one message to a batch.
func appendMessage(b []byte, op websock.Opcode, data []byte) []byte {
	b = append(b, byte(op))
	b = binary.AppendUvarint(b, uint64(len(data)))
	return append(b, data...)
}

// readMessage reads the next message of a batch, into buf if it is big
// enough: io.EOF when the batch has ended, an error wrapping
// websock.ErrMessageTooBig for one longer than max bytes (max 0: no
// limit), or websock.ErrProtocol for an unknown type; any other error
// means the body was cut short.
func readMessage(br *bufio.Reader, max int64, buf []byte) (websock.Opcode, []byte, error) {
	t, err := br.ReadByte()
	if err != nil {
		return 0, nil, err
	}
	op := websock.Opcode(t)
	if op != websock.OpText && op != websock.OpBinary && op != websock.OpClose {
		return 0, nil, fmt.Errorf("%w: unknown message type %d; use 1 (text), 2 (binary) or 8 (close)", websock.ErrProtocol, t)
	}
	n, err := binary.ReadUvarint(br)
	if err != nil {
		return 0, nil, noEOF(err)
	}
	if max > 0 && n > uint64(max) {
		return 0, nil, fmt.Errorf("%w: a message of %d bytes; the limit is %d", websock.ErrMessageTooBig, n, max)
	}
	if op == websock.OpClose && n > 125 {
		return 0, nil, fmt.Errorf("%w: a close message of %d bytes; it holds at most 125, as a close frame", websock.ErrProtocol, n)
	}
	data := buf[:0]
	if uint64(cap(data)) < n {
		data = make([]byte, n)
	}
	data = data[:n]
	if _, err := io.ReadFull(br, data); err != nil {
		return 0, nil, noEOF(err)
	}
	return op, data, nil
}

// noEOF turns an end of body inside a message into io.ErrUnexpectedEOF.
func noEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}
