package conformance

import (
	"bytes"
	"compress/flate"
	"io"
	"testing"
)

// FuzzInflate checks the suite's bounded decoder against compress/flate
// on any DEFLATE stream, with any history: with the full window it
// decodes exactly what compress/flate decodes, and fails exactly where it
// fails, or once the output passes the limit; with a smaller window it
// may refuse more, but never decodes anything else.
func FuzzInflate(f *testing.F) {
	in := []byte("compress me, compress me, compress me, please")
	f.Add(compressLevel(in, nil, flate.BestCompression), []byte{}, uint8(7), uint16(1000))
	f.Add(compressLevel(in, in, flate.BestCompression), in, uint8(1), uint16(100))
	f.Add(compressLevel(bytes.Repeat([]byte{0}, 5000), nil, flate.BestSpeed), []byte{}, uint8(0), uint16(40))
	f.Add(compressLevel(in, nil, flate.HuffmanOnly), []byte("x"), uint8(3), uint16(0))
	f.Add([]byte{0x01, 0x00, 0x00, 0xff, 0xff}, []byte{}, uint8(7), uint16(10))
	f.Add([]byte{0x07}, []byte{}, uint8(7), uint16(10))
	f.Fuzz(func(t *testing.T, p, hist []byte, bits uint8, limit uint16) {
		window := 1 << (8 + bits%8) // 256 to 32 KiB
		want, werr := io.ReadAll(io.LimitReader(flate.NewReaderDict(bytes.NewReader(p), hist), int64(limit)+1))
		over := len(want) > int(limit)
		got, err := inflateWindow(p, hist, 32<<10, int64(limit))
		switch {
		case over:
			if err == nil {
				t.Fatalf("decoded %d bytes, over the limit of %d, without error", len(got), limit)
			}
		case (err == nil) != (werr == nil):
			t.Fatalf("inflateWindow: %v; compress/flate: %v", err, werr)
		case err == nil && !bytes.Equal(got, want):
			t.Fatalf("decoded %x; compress/flate %x", got, want)
		}
		if len(got) > int(limit) {
			t.Fatalf("returned %d bytes, over the limit of %d", len(got), limit)
		}
		small, serr := inflateWindow(p, hist, window, int64(limit))
		if serr == nil && (err != nil || !bytes.Equal(small, got)) {
			t.Fatalf("window %d: decoded %x; full window: %x, %v", window, small, got, err)
		}
	})
}
