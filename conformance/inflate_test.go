package conformance

import (
	"bytes"
	"compress/flate"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"
)

// TestInflateWindow checks the suite's decoder against compress/flate,
// and that it refuses back-references beyond the window or the history.
func TestInflateWindow(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	inputs := [][]byte{nil, []byte("a"), []byte(strings.Repeat("compress me, please. ", 500)), windowProbe(rng)}
	for i := 0; i < 20; i++ {
		b := make([]byte, rng.IntN(100000))
		for j := range b {
			b[j] = "abcdefgh"[rng.IntN(8)]
		}
		inputs = append(inputs, b)
	}
	for _, level := range []int{flate.HuffmanOnly, flate.BestSpeed, flate.DefaultCompression, flate.BestCompression, flate.NoCompression} {
		for i, in := range inputs {
			p := compressLevel(in, nil, level)
			got, err := inflate(p, nil, 32<<10, 1<<30)
			if err != nil || !bytes.Equal(got, in) {
				t.Fatalf("level %d input %d: %v (got %d bytes, want %d)", level, i, err, len(got), len(in))
			}
		}
	}
	// A dictionary is history the stream may refer to.
	dict := []byte(strings.Repeat("history! ", 100))
	p := compressLevel(dict, dict, flate.BestCompression)
	if got, err := inflate(p, dict, 32<<10, 1<<30); err != nil || !bytes.Equal(got, dict) {
		t.Fatalf("with history: %v", err)
	}
	if _, err := inflate(p, nil, 32<<10, 1<<30); err == nil {
		t.Fatal("a reference into history that is not there was accepted")
	}
	// A full-window compressor refers further than 512 bytes.
	p = compressLevel(windowProbe(rng), nil, flate.BestCompression)
	if _, err := inflate(p, nil, 1<<9, 1<<30); err == nil {
		t.Fatal("a back-reference beyond a window of 512 bytes was accepted")
	}
	if _, err := inflate(compressLevel(make([]byte, 1<<20), nil, flate.BestCompression), nil, 32<<10, 1000); err == nil {
		t.Fatal("the limit was not enforced")
	}
}

func compressLevel(p, dict []byte, level int) []byte {
	var buf bytes.Buffer
	w, _ := flate.NewWriterDict(&buf, level, dict)
	w.Write(p)
	w.Flush()
	return bytes.TrimSuffix(buf.Bytes(), []byte{0x00, 0x00, 0xff, 0xff})
}

// TestClientContextTakeover checks the client's compressor and decoder
// with context takeover: each message compressed with the previous ones
// as context, read back with the history.
func TestClientContextTakeover(t *testing.T) {
	for _, ext := range []string{"permessage-deflate", "permessage-deflate; client_max_window_bits=9", "permessage-deflate; client_no_context_takeover"} {
		c := &client{deflate: true, resp: &http.Response{Header: http.Header{"Sec-Websocket-Extensions": {ext}}}}
		server := &client{deflate: true, resp: c.resp}
		for i := 0; i < 50; i++ {
			msg := []byte(strings.Repeat("again and again ", i%5+1))
			p := c.compressMessage(msg)
			window := 1 << 15
			if c.agreement().clientBits < 15 {
				window = 1 << c.agreement().clientBits
			}
			hist := server.history
			if c.agreement().clientNoContext {
				hist = nil
			}
			got, err := inflate(p, hist, window, 1<<20)
			if err != nil || !bytes.Equal(got, msg) {
				t.Fatalf("%s: message %d: %v", ext, i, err)
			}
			server.history = append(server.history, got...)
		}
	}
}
