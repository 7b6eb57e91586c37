package adapters

import (
	"io"

	"github.com/websock-go/websock/adapters/internal/utf8stream"
	"github.com/websock-go/websock/websock"
)

// MessageBuffer reads whole messages from a library's per-message
// io.Reader into one buffer reused from message to message, so that
// reading allocates nothing in steady state. It enforces the maximum
// message size on the bytes read (after decompression, which is what a
// compression bomb inflates), and validates text messages as their bytes
// arrive, so that invalid UTF-8 fails the connection as soon as it is
// read rather than once the message is whole. The zero value is ready to
// use, and validates.
//
// A Transport whose messages all go through a validating MessageBuffer
// validates text itself: it implements [UTF8Validator] with
// ValidatesUTF8 returning [MessageBuffer.ValidatesUTF8], so that the
// engine does not check each message again.
type MessageBuffer struct {
	// SkipUTF8Validation turns validation off. Set it from
	// Options.SkipUTF8Validation.
	SkipUTF8Validation bool

	buf []byte
}

// keepBuf is the largest message whose buffer is kept for the next one;
// the buffer of a bigger message is dropped, so an idle connection stays
// small. (Reading a message of exactly keepBuf bytes grows the buffer a
// little past it, to see the end: hence the 2*keepBuf bound on capacity.)
const keepBuf = 64 << 10

// ValidatesUTF8 reports whether ReadMessage validates text messages.
func (m *MessageBuffer) ValidatesUTF8() bool { return !m.SkipUTF8Validation }

// Release drops the buffer of the last message, for a Transport's
// Release: a handler that keeps its websock.Conn after Terminate then no
// longer keeps the last message read (up to MaxMessageSize) with it.
func (m *MessageBuffer) Release() { m.buf = nil }

// ReadMessage reads r, a message of type op, to its end and returns the
// message, valid until the next call. It stops with
// websock.ErrMessageTooBig as soon as more than max bytes arrived (max 0:
// no limit), reading at most max+1 bytes, and, for a text message unless
// SkipUTF8Validation is set, with websock.ErrInvalidUTF8 as soon as the
// bytes read cannot begin valid UTF-8: it validates each read's bytes as
// they arrive. Other errors are r's, for the adapter to classify.
func (m *MessageBuffer) ReadMessage(r io.Reader, op websock.Opcode, max int64) ([]byte, error) {
	if len(m.buf) > keepBuf || cap(m.buf) > 2*keepBuf {
		m.buf = nil // the last message was big: do not keep its buffer
	}
	text := op == websock.OpText && !m.SkipUTF8Validation
	checked := 0 // the bytes validated: up to a whole code point
	buf := m.buf[:0]
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		end := cap(buf)
		if max > 0 && int64(end) > max+1 {
			end = int(max + 1) // no more than it takes to see the limit passed
		}
		n, err := r.Read(buf[len(buf):end])
		buf = buf[:len(buf)+n]
		m.buf = buf
		if max > 0 && int64(len(buf)) > max {
			return nil, websock.ErrMessageTooBig
		}
		if text && (n > 0 || err == io.EOF) {
			pending, ok := utf8stream.Check(buf[checked:], err == io.EOF)
			if !ok {
				return nil, websock.ErrInvalidUTF8
			}
			checked = len(buf) - pending
		}
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return nil, err
		}
	}
}
