package coderstyle

import (
	"bytes"
	"errors"
	"io"
	"net"
	"testing"

	"github.com/websock-go/websock/websock"
)

// chunkConn reads its chunks one per Read, then io.EOF.
type chunkConn struct {
	net.Conn
	chunks [][]byte
}

func (c *chunkConn) Read(p []byte) (int, error) {
	if len(c.chunks) == 0 {
		return 0, io.EOF
	}
	n := copy(p, c.chunks[0])
	if c.chunks[0] = c.chunks[0][n:]; len(c.chunks[0]) == 0 {
		c.chunks = c.chunks[1:]
	}
	return n, nil
}

// readThrough reads stream, cut at i and j, through a serverFrames with
// reads of 7 bytes, and returns what it handed over and the error that
// ended it.
func readThrough(stream []byte, i, j int) ([]byte, error) {
	c := &serverFrames{Conn: &chunkConn{chunks: [][]byte{stream[:i], stream[i:j], stream[j:]}}, validate: true}
	var got []byte
	var buf [7]byte
	for {
		n, err := c.Read(buf[:])
		got = append(got, buf[:n]...)
		if err != nil {
			return got, err
		}
	}
}

// TestServerFramesCutAnywhere: valid frames pass through whole and in
// order wherever the reads cut them, and a malformed close frame is
// refused without its last byte ever being handed over.
func TestServerFramesCutAnywhere(t *testing.T) {
	valid := []byte("\x01\x03h\xc3\xa9\x89\x01p\x80\x03llo\x88\x05\x03\xe8bye")
	bad := []byte("\x81\x02ok\x88\x04\x03\xe8\xed\xa0")
	for i := 0; i <= len(valid); i++ {
		for j := i; j <= len(valid); j++ {
			if got, err := readThrough(valid, i, j); !bytes.Equal(got, valid) || err != io.EOF {
				t.Fatalf("cut at %d, %d: handed over %q, %v; want all of %q, EOF", i, j, got, err, valid)
			}
		}
	}
	for i := 0; i <= len(bad); i++ {
		for j := i; j <= len(bad); j++ {
			got, err := readThrough(bad, i, j)
			if !errors.Is(err, websock.ErrProtocol) || len(got) >= len(bad)-1 || !bytes.HasPrefix(bad, got) || len(got) < 4 && j >= 4 && i >= 4 {
				t.Fatalf("cut at %d, %d: handed over %q, %v; want the text frame at most and ErrProtocol", i, j, got, err)
			}
		}
	}
}

// TestServerFramesFailFast: invalid text fails the read before the rest
// of its frame arrives, and the bytes before it are handed over.
func TestServerFramesFailFast(t *testing.T) {
	c := &serverFrames{Conn: &chunkConn{chunks: [][]byte{[]byte("\x81\x02ok\x81\x40ok \xce\xba\xf4\x90")}}, validate: true}
	var buf [64]byte
	n, err := c.Read(buf[:])
	if err != nil || string(buf[:n]) != "\x81\x02ok\x81\x40ok \xce\xba\xf4" {
		t.Fatalf("first read %q, %v; want what precedes the invalid octet", buf[:n], err)
	}
	if _, err := c.Read(buf[:]); !errors.Is(err, websock.ErrInvalidUTF8) || !errors.Is(c.readErr(), websock.ErrInvalidUTF8) {
		t.Fatalf("second read %v (recorded %v), want ErrInvalidUTF8", err, c.readErr())
	}
}
