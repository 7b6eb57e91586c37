package adapters

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"io"
	"strings"
	"testing"

	"github.com/websock-go/websock/websock"
)

// parseServerFrame splits a whole unmasked frame into its first byte and
// payload, failing t when it is not one.
func parseServerFrame(t *testing.T, b []byte) (b0 byte, payload []byte) {
	t.Helper()
	if len(b) < 2 || b[1]&0x80 != 0 {
		t.Fatalf("frame %x: short or masked", b[:min(len(b), 10)])
	}
	n, rest := uint64(b[1]&0x7f), b[2:]
	switch n {
	case 126:
		n, rest = uint64(binary.BigEndian.Uint16(rest)), rest[2:]
		if n < 126 {
			t.Errorf("length %d in 16 bits; RFC 6455 section 5.2 wants the shortest form", n)
		}
	case 127:
		n, rest = binary.BigEndian.Uint64(rest), rest[8:]
		if n <= 0xffff {
			t.Errorf("length %d in 64 bits; RFC 6455 section 5.2 wants the shortest form", n)
		}
	}
	if uint64(len(rest)) != n {
		t.Fatalf("header says %d payload bytes; the frame holds %d", n, len(rest))
	}
	return b[0], rest
}

func TestServerFramePlain(t *testing.T) {
	for _, n := range []int{0, 125, 126, 0xffff, 0x10000} {
		data := bytes.Repeat([]byte{'x'}, n)
		p := websock.NewPrepared(websock.OpBinary, data)
		for _, deflate := range []bool{false, true} {
			op := websock.OpBinary
			if deflate {
				// A control frame is never compressed, deflate or not.
				p, op = websock.NewPrepared(websock.OpPing, data[:min(n, 125)]), websock.OpPing
			}
			b, err := ServerFrame(p, deflate, 15)
			if err != nil {
				t.Fatal(err)
			}
			b0, payload := parseServerFrame(t, b)
			if b0 != 0x80|byte(op) || !bytes.Equal(payload, p.Data()) {
				t.Errorf("%d bytes, deflate %v: first byte %#x, payload of %d bytes; want %#x and the data", n, deflate, b0, len(payload), 0x80|byte(op))
			}
		}
	}
}

func TestServerFrameCompressed(t *testing.T) {
	data := []byte(strings.Repeat("compress me once, share me often. ", 300))
	p := websock.NewPrepared(websock.OpText, data)
	for _, bits := range []int{0, 15, 12, 8} {
		b, err := ServerFrame(p, true, bits)
		if err != nil {
			t.Fatal(err)
		}
		b0, payload := parseServerFrame(t, b)
		if b0 != 0xc1 { // FIN, RSV1, text
			t.Errorf("window bits %d: first byte %#x; want 0xc1", bits, b0)
		}
		if len(payload) >= len(data) {
			t.Errorf("window bits %d: %d bytes compressed to %d", bits, len(data), len(payload))
		}
		// RFC 7692 section 7.2.2: append 0x00 0x00 0xff 0xff and inflate.
		out, err := io.ReadAll(flate.NewReader(io.MultiReader(bytes.NewReader(payload), bytes.NewReader([]byte{0, 0, 0xff, 0xff, 1, 0, 0, 0xff, 0xff}))))
		if err != nil || !bytes.Equal(out, data) {
			t.Errorf("window bits %d: inflated to %d bytes (%v); want the %d bytes prepared", bits, len(out), err, len(data))
		}
	}
}

// TestServerFrameShared checks that connections asking for the same
// encoding share one, and that the encodings differ where they must.
func TestServerFrameShared(t *testing.T) {
	p := websock.NewPrepared(websock.OpText, []byte(strings.Repeat("shared ", 200)))
	frame := func(deflate bool, bits int) []byte {
		b, err := ServerFrame(p, deflate, bits)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	same := func(a, b []byte) bool { return &a[0] == &b[0] }
	if !same(frame(false, 0), frame(false, 10)) || !same(frame(true, 0), frame(true, 15)) || !same(frame(true, 8), frame(true, 14)) {
		t.Error("equal encodings were made more than once")
	}
	if same(frame(false, 0), frame(true, 0)) || same(frame(true, 15), frame(true, 14)) {
		t.Error("distinct encodings share bytes")
	}
	if n := testing.AllocsPerRun(100, func() { frame(true, 15) }); n != 0 {
		t.Errorf("an encoding made already costs %v allocations; want 0", n)
	}
}
