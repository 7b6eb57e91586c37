package wire

import (
	"bytes"
	"errors"
	"io"
	"net"
	"testing"
	"unicode/utf8"

	"github.com/websock-go/websock/websock"
)

// memConn is a net.Conn over a byte stream: reads return its bytes in
// pieces whose lengths cycle through cuts (no cuts: all at once), then
// io.EOF; writes are appended to out.
type memConn struct {
	net.Conn
	in   []byte
	cuts []byte
	i    int
	out  bytes.Buffer
}

func (c *memConn) Read(b []byte) (int, error) {
	if len(c.in) == 0 {
		return 0, io.EOF
	}
	n := len(c.in)
	if len(c.cuts) > 0 {
		n = 1 + int(c.cuts[c.i%len(c.cuts)])
		c.i++
	}
	n = copy(b, c.in[:min(n, len(c.in))])
	c.in = c.in[n:]
	return n, nil
}

func (c *memConn) Write(b []byte) (int, error) { return c.out.Write(b) }

// readThrough reads stream through a validating Conn, in reads of at most
// size bytes, and returns what the library was handed, the error that
// ended it, and the peer's close.
func readThrough(t *testing.T, stream, cuts []byte, size int) (got, peer []byte, peerOK bool, err error) {
	c := New(&memConn{in: stream, cuts: cuts})
	c.ValidateUTF8()
	buf := make([]byte, size)
	for reads := 0; ; reads++ {
		if reads > 4*len(stream)+8 {
			t.Fatalf("still reading after %d reads of a %d-byte stream", reads, len(stream))
		}
		var n int
		n, err = c.Read(buf)
		got = append(got, buf[:n]...)
		if err != nil {
			break
		}
	}
	peer, peerOK = c.PeerClose()
	return got, bytes.Clone(peer), peerOK, err
}

// FuzzConnRead feeds the read side of a Conn any byte stream, cut into
// reads anywhere, and checks that it hands the library the stream
// unchanged, all of it unless the peer's text was not UTF-8, and that
// what it reports (the peer's close frame, the failure) does not depend on
// how the stream was cut.
func FuzzConnRead(f *testing.F) {
	key := [4]byte{1, 2, 3, 4}
	f.Add(cat(clientFrame(opText, []byte("héllo"), key), clientFrame(opClose, []byte{3, 232, 'o', 'k'}, key), []byte("after")), []byte{0, 2}, uint8(7))
	f.Add(cat(maskedFrame(0x01, "\xe2\x82"), maskedFrame(0x89, "p"), maskedFrame(0x80, "\xac")), []byte{1}, uint8(3))
	f.Add(cat(maskedFrame(0x81, "ok\xf4\x90rest")), []byte{}, uint8(255))
	f.Add(cat(maskedFrame(0xc1, "\xff\xfe"), maskedFrame(0x88, "\x03")), []byte{4}, uint8(1))
	f.Add(cat(header(opClose, 200, true), bytes.Repeat([]byte{1}, 200)), []byte{}, uint8(16))
	f.Add(cat(header(opBinary, 70000, false), []byte{1, 2}), []byte{3, 100}, uint8(64))
	f.Fuzz(func(t *testing.T, stream, cuts []byte, size uint8) {
		got, peer, peerOK, err := readThrough(t, stream, cuts, 1+int(size))
		if !bytes.HasPrefix(stream, got) {
			t.Fatalf("handed the library %x, which does not begin %x", got, stream)
		}
		switch {
		case errors.Is(err, websock.ErrInvalidUTF8):
		case err == io.EOF:
			if len(got) != len(stream) {
				t.Fatalf("handed %d of %d bytes, then io.EOF", len(got), len(stream))
			}
		default:
			t.Fatalf("Read failed with %v", err)
		}
		if len(peer) > MaxControl {
			t.Fatalf("a close payload of %d bytes", len(peer))
		}
		wgot, wpeer, wpeerOK, werr := readThrough(t, stream, nil, 1<<16)
		if (err == io.EOF) != (werr == io.EOF) || peerOK != wpeerOK || !bytes.Equal(peer, wpeer) {
			t.Fatalf("cut into reads: %d bytes, %v, close %x %v; all at once: %d bytes, %v, close %x %v",
				len(got), err, peer, peerOK, len(wgot), werr, wpeer, wpeerOK)
		}
	})
}

// writeThrough writes stream through a Conn in writes whose lengths cycle
// through cuts, and returns what reached the connection and the library's
// close.
func writeThrough(t *testing.T, stream, cuts []byte, hijacked bool) (out []byte, lib []byte, libOK bool) {
	nc := &memConn{}
	c := New(nc)
	if hijacked {
		c = newHijacked(nc)
	}
	for i := 0; len(stream) > 0; i++ {
		n := len(stream)
		if len(cuts) > 0 {
			n = min(n, 1+int(cuts[i%len(cuts)]))
		}
		if k, err := c.Write(stream[:n]); k != n || err != nil {
			t.Fatalf("Write of %d bytes: %d, %v", n, k, err)
		}
		stream = stream[n:]
	}
	lib, libOK = c.LibraryClose()
	return nc.out.Bytes(), bytes.Clone(lib), libOK
}

// FuzzConnWrite feeds the write side of a Conn any output, cut into writes
// anywhere, and checks that what reaches the connection does not depend on
// how it was cut, that it passes the output unchanged before the library's
// close frame, and that the close frame that goes out in its place, if
// any, is one a server may send.
func FuzzConnWrite(f *testing.F) {
	f.Add(cat(frame(opText, []byte("hi")), frame(opClose, []byte{3, 232}), frame(opText, []byte("dropped"))), []byte{0, 5}, false)
	f.Add(cat([]byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n"), frame(opClose, []byte{0, 5})), []byte{3}, true)
	f.Add(cat(frame(opClose, []byte{3})), []byte{}, false)
	f.Add(cat(frame(opClose, []byte{3, 232, 0xff})), []byte{1}, true)
	f.Add(cat(header(opClose, 300, false), bytes.Repeat([]byte{7}, 300)), []byte{9}, false)
	f.Fuzz(func(t *testing.T, stream, cuts []byte, hijacked bool) {
		out, lib, libOK := writeThrough(t, stream, cuts, hijacked)
		wout, wlib, wlibOK := writeThrough(t, stream, nil, hijacked)
		if !bytes.Equal(out, wout) || !bytes.Equal(lib, wlib) || libOK != wlibOK {
			t.Fatalf("cut into writes: %x, close %x %v; all at once: %x, close %x %v", out, lib, libOK, wout, wlib, wlibOK)
		}
		if !libOK {
			return
		}
		// The library's close frame went out, or one in its place: the
		// last frame written, a well-formed close frame.
		if len(lib) > MaxControl {
			t.Fatalf("library close payload of %d bytes", len(lib))
		}
		if len(out) < 2 {
			t.Fatalf("the library closed, and %x went out", out)
		}
		sent := lastClose(out)
		if sent == nil {
			t.Fatalf("the library closed, and %x went out, which does not end with a close frame", out)
		}
		if malformed(sent) {
			t.Fatalf("sent a malformed close payload %x", sent)
		}
		if err := CloseError(sent); errors.Is(err, websock.ErrProtocol) || (len(sent) > 2 && !utf8.Valid(sent[2:])) {
			t.Fatalf("sent close payload %x: %v", sent, err)
		}
	})
}

// lastClose returns the payload of the unmasked close frame that ends
// out, or nil if out does not end with one.
func lastClose(out []byte) []byte {
	for n := 0; n <= MaxControl && n+2 <= len(out); n++ {
		h := out[len(out)-n-2:]
		if h[0] == 0x80|opClose && int(h[1]) == n {
			return h[2:]
		}
	}
	return nil
}
