package adapters

import (
	"io"

	"github.com/websock-go/websock/websock"
)

// MessageBuffer reads whole messages from a library's per-message
// io.Reader into one buffer reused from message to message, so that
// reading allocates nothing in steady state, and enforces the maximum
// message size on the bytes read (after decompression, which is what a
// compression bomb inflates). The zero value is ready to use.
type MessageBuffer struct {
	buf []byte
}

// keepBuf is the largest message whose buffer is kept for the next one;
// the buffer of a bigger message is dropped, so an idle connection stays
// small. (Reading a message of exactly keepBuf bytes grows the buffer a
// little past it, to see the end: hence the 2*keepBuf bound on capacity.)
const keepBuf = 64 << 10

// ReadMessage reads r to its end and returns the message, valid until the
// next call. It stops with websock.ErrMessageTooBig as soon as more than
// max bytes arrived (max 0: no limit), reading at most max+1 bytes; other
// errors are r's, for the adapter to classify.
func (m *MessageBuffer) ReadMessage(r io.Reader, max int64) ([]byte, error) {
	if len(m.buf) > keepBuf || cap(m.buf) > 2*keepBuf {
		m.buf = nil // the last message was big: do not keep its buffer
	}
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
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return nil, err
		}
	}
}
