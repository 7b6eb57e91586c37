package adapters_test

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"unicode/utf8"

	"github.com/websock-go/websock/adapters"
	"github.com/websock-go/websock/websock"
)

// cutReader returns p in pieces whose lengths cycle through cuts (modulo
// 16; a zero is a Read that returns nothing), then io.EOF, with the last
// piece when last is set.
type cutReader struct {
	p    []byte
	cuts []byte
	i    int
	last bool
}

func (r *cutReader) Read(b []byte) (int, error) {
	if len(r.p) == 0 {
		return 0, io.EOF
	}
	n := len(r.p)
	if len(r.cuts) > 0 {
		n = int(r.cuts[r.i%len(r.cuts)] % 16)
		r.i++
		if r.i > 64*len(r.cuts) {
			n = len(r.p) // many empty reads: finish
		}
	}
	n = copy(b, r.p[:min(n, len(r.p))])
	r.p = r.p[n:]
	if len(r.p) == 0 && r.last {
		return n, io.EOF
	}
	return n, nil
}

// FuzzMessageBuffer reads messages of any content, cut into reads
// anywhere, through one MessageBuffer, and checks each outcome against
// the whole message: its bytes back unchanged, or ErrMessageTooBig when
// it is over the maximum, or ErrInvalidUTF8 when it is text that is not
// valid UTF-8 (either, when both hold), and never more than max+1 bytes
// read.
func FuzzMessageBuffer(f *testing.F) {
	f.Add([]byte("héllo"), []byte{1, 2}, true, uint8(0), false)
	f.Add([]byte{0xE2, 0x82, 0xAC, 0xE2}, []byte{3}, true, uint8(4), true)
	f.Add(bytes.Repeat([]byte("a"), 100), []byte{7, 0, 9}, false, uint8(50), false)
	f.Add([]byte{0xFF}, []byte{}, true, uint8(0), true)
	f.Fuzz(func(t *testing.T, msg, cuts []byte, text bool, max uint8, last bool) {
		var m adapters.MessageBuffer
		op := websock.OpBinary
		if text {
			op = websock.OpText
		}
		// Twice, so that the buffer kept from the first is reused.
		for range 2 {
			r := &cutReader{p: msg, cuts: cuts, last: last}
			got, err := m.ReadMessage(r, op, int64(max))
			tooBig := max > 0 && len(msg) > int(max)
			invalid := text && !utf8.Valid(msg)
			read := len(msg) - len(r.p)
			switch {
			case err == nil:
				if tooBig || invalid {
					t.Fatalf("read %d bytes (text %v, max %d) without error", len(msg), text, max)
				}
				if !bytes.Equal(got, msg) {
					t.Fatalf("read %x, want %x", got, msg)
				}
			case errors.Is(err, websock.ErrMessageTooBig):
				if !tooBig {
					t.Fatalf("%v on %d bytes, max %d", err, len(msg), max)
				}
				if read > int(max)+1 {
					t.Fatalf("read %d bytes before refusing a message over %d", read, max)
				}
			case errors.Is(err, websock.ErrInvalidUTF8):
				if !invalid {
					t.Fatalf("%v on valid %x", err, msg)
				}
			default:
				t.Fatalf("unexpected error %v", err)
			}
		}
	})
}
