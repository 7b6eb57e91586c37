package coderstyle

import (
	"bytes"
	"net"
	"testing"
	"time"

	"github.com/websock-go/websock/websock"
)

// header returns the header of an unmasked final frame.
func header(op byte, n int) []byte {
	switch {
	case n < 126:
		return []byte{0x80 | op, byte(n)}
	case n < 1<<16:
		return []byte{0x80 | op, 126, byte(n >> 8), byte(n)}
	}
	return []byte{0x80 | op, 127, 0, 0, 0, 0, byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}
}

func frameBytes(op byte, payload []byte) []byte { return append(header(op, len(payload)), payload...) }

func TestFrameTracker(t *testing.T) {
	big := bytes.Repeat([]byte{0x88}, 70000) // payload bytes that look like close headers
	closeFrame := frameBytes(opClose, []byte{0x03, 0xe8})
	stream := append(append(append(frameBytes(0x1, []byte("hi")), frameBytes(0x2, big)...),
		frameBytes(0x2, big[:300])...), closeFrame...)
	stream = append(stream, frameBytes(0x1, []byte("after"))...)
	closeEnd := len(stream) - len(frameBytes(0x1, []byte("after")))

	// Fed whole, and in every chunk size from 1 byte up: the close frame
	// is found where it ends, and nowhere else.
	for _, chunk := range []int{len(stream), 1, 2, 3, 7, 100, 4096} {
		var tr frameTracker
		pos, found := 0, false
		for pos < len(stream) && !found {
			p := stream[pos:min(pos+chunk, len(stream))]
			n, closed := tr.track(p)
			if closed {
				if pos+n != closeEnd {
					t.Fatalf("chunk %d: close frame reported ending at %d; want %d", chunk, pos+n, closeEnd)
				}
				found = true
			}
			if !closed && n != len(p) {
				t.Fatalf("chunk %d: track returned %d of %d bytes without a close", chunk, n, len(p))
			}
			pos += n
		}
		if !found {
			t.Fatalf("chunk %d: the close frame was not found", chunk)
		}
	}

	var tr frameTracker
	if n, closed := tr.track(frameBytes(opClose, nil)); !closed || n != 2 {
		t.Errorf("empty close frame: %d, %v; want 2, true", n, closed)
	}
}

func TestWire(t *testing.T) {
	server, client := net.Pipe()
	defer client.Close()
	w := &wire{Conn: server}
	defer w.Close()
	got := readAll(client)

	// The library's output passes up to its close frame; after it, the
	// engine's close and ping and anything else are dropped.
	text := frameBytes(0x1, []byte("x"))
	w.Write(text)
	w.writeControl(websock.OpPing, []byte("p"), time.Time{})
	libClose := frameBytes(opClose, []byte{0x03, 0xea})
	w.Write(append(append([]byte{}, libClose...), text...))
	w.writeClose(websock.CloseNormal, "late", time.Time{})
	w.writeControl(websock.OpPong, nil, time.Time{})
	w.Write(text)
	w.Close()

	want := append(append(append([]byte{}, text...), frameBytes(0x9, []byte("p"))...), libClose...)
	if b := <-got; !bytes.Equal(b, want) {
		t.Errorf("wire wrote % x\nwant        % x", b, want)
	}
}

// TestWireReplacesBadCloseEcho checks that the library's echo of a close
// whose reason is not UTF-8 goes out as a 1002 close instead, with the
// frames before it intact, and that a valid echo passes unchanged.
func TestWireReplacesBadCloseEcho(t *testing.T) {
	text := frameBytes(0x1, []byte("x"))
	badEcho := frameBytes(opClose, []byte{0x03, 0xe8, 'o', 'k', 0xff})
	goodEcho := frameBytes(opClose, []byte{0x03, 0xe8, 'o', 'k'})
	replaced := frameBytes(opClose, append([]byte{0x03, 0xea}, badReasonText...))
	for _, tc := range []struct {
		name   string
		writes [][]byte
		want   []byte
	}{
		{"bad reason after a frame, in one write", [][]byte{append(append([]byte{}, text...), badEcho...)},
			append(append([]byte{}, text...), replaced...)},
		{"bad reason in a write of its own", [][]byte{text, badEcho}, append(append([]byte{}, text...), replaced...)},
		{"valid reason", [][]byte{text, goodEcho}, append(append([]byte{}, text...), goodEcho...)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			server, client := net.Pipe()
			defer client.Close()
			w := &wire{Conn: server}
			got := readAll(client)
			for _, p := range tc.writes {
				if n, err := w.Write(p); err != nil || n != len(p) {
					t.Fatalf("Write: %d, %v; want %d, nil", n, err, len(p))
				}
			}
			w.Close()
			if b := <-got; !bytes.Equal(b, tc.want) {
				t.Errorf("wire wrote % x\nwant        % x", b, tc.want)
			}
		})
	}
}

// readAll reads c until it fails and then sends all it read.
func readAll(c net.Conn) <-chan []byte {
	got := make(chan []byte, 1)
	go func() {
		var all []byte
		buf := make([]byte, 512)
		for {
			n, err := c.Read(buf)
			all = append(all, buf[:n]...)
			if err != nil {
				got <- all
				return
			}
		}
	}()
	return got
}
