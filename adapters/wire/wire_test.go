package wire

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/websock-go/websock/websock"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// pair returns the two ends of a loopback TCP connection.
func pair(t *testing.T) (server, client net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	select {
	case server = <-accepted:
	case <-time.After(5 * time.Second):
		t.Fatal("accept took over 5s")
	}
	if server == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { server.Close(); client.Close() })
	return server, client
}

// header returns the header of a final frame, masked with a zero key when
// masked.
func header(op byte, n int, masked bool) []byte {
	var h []byte
	switch {
	case n < 126:
		h = []byte{0x80 | op, byte(n)}
	case n < 1<<16:
		h = []byte{0x80 | op, 126, byte(n >> 8), byte(n)}
	default:
		h = []byte{0x80 | op, 127, 0, 0, 0, 0, byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}
	}
	if masked {
		h[1] |= 0x80
		h = append(h, 0, 0, 0, 0)
	}
	return h
}

// frame returns an unmasked frame, as a server writes it.
func frame(op byte, payload []byte) []byte {
	return append(header(op, len(payload), false), payload...)
}

// clientFrame returns a frame masked with key, as a client writes it.
func clientFrame(op byte, payload []byte, key [4]byte) []byte {
	h := header(op, len(payload), true)
	copy(h[len(h)-4:], key[:])
	for i, b := range payload {
		h = append(h, b^key[i&3])
	}
	return h
}

func cat(bs ...[]byte) []byte { return bytes.Join(bs, nil) }

// readAll reads c until it fails and then sends all it read.
func readAll(c net.Conn) <-chan []byte {
	got := make(chan []byte, 1)
	go func() {
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		b, _ := io.ReadAll(c)
		got <- b
	}()
	return got
}

var key = [4]byte{0x12, 0x34, 0x56, 0x78}

// TestWriteSide checks that the library's output passes up to its close
// frame, fed in every chunk size, with the Conn's own frames between; and
// that after it the Conn's close and ping and anything else are dropped.
func TestWriteSide(t *testing.T) {
	big := bytes.Repeat([]byte{0x88}, 70000) // payload bytes that look like close headers
	libClose := frame(opClose, []byte{0x03, 0xea})
	stream := cat(frame(0x1, []byte("hi")), frame(0x2, big), frame(0x2, big[:300]), libClose, frame(0x1, []byte("after")))
	want := stream[:len(stream)-len(frame(0x1, []byte("after")))]
	for _, chunk := range []int{len(stream), 1, 2, 3, 7, 100, 4096} {
		server, client := pair(t)
		c := New(server)
		got := readAll(client)
		for pos := 0; pos < len(stream); pos += chunk {
			p := stream[pos:min(pos+chunk, len(stream))]
			if n, err := c.Write(p); n != len(p) || err != nil {
				t.Fatalf("chunk %d: Write: %d, %v; want %d, nil", chunk, n, err, len(p))
			}
		}
		c.WriteClose(websock.CloseNormal, "late", time.Time{})
		c.WriteControl(websock.OpPong, nil, time.Time{})
		if p, ok := c.LibraryClose(); !ok || !bytes.Equal(p, []byte{0x03, 0xea}) || !c.CloseSent() {
			t.Errorf("chunk %d: LibraryClose %x, %v, CloseSent %v; want 03ea, true, true", chunk, p, ok, c.CloseSent())
		}
		c.Close()
		if b := <-got; !bytes.Equal(b, want) {
			t.Errorf("chunk %d: wrote %d bytes; want the %d up to the library's close frame", chunk, len(b), len(want))
		}
	}

	server, client := pair(t)
	c := New(server)
	got := readAll(client)
	text := frame(0x1, []byte("x"))
	c.Write(text)
	c.WriteControl(websock.OpPing, []byte("p"), time.Time{})
	c.Write(cat(libClose, text))
	c.WriteClose(websock.CloseNormal, "late", time.Time{})
	c.Write(text)
	c.Close()
	if b, want := <-got, cat(text, frame(0x9, []byte("p")), libClose); !bytes.Equal(b, want) {
		t.Errorf("wrote % x\nwant  % x", b, want)
	}
}

// TestOwnClose checks that after the Conn's own close frame the library's
// output, its close frame included, is dropped.
func TestOwnClose(t *testing.T) {
	server, client := pair(t)
	c := New(server)
	got := readAll(client)
	c.WriteClose(4000, "bye", time.Time{})
	c.Write(frame(opClose, []byte{0x0f, 0xa0}))
	c.WriteClose(websock.CloseNormal, "", time.Time{})
	if _, ok := c.LibraryClose(); ok {
		t.Error("LibraryClose reports a close frame the library wrote after the Conn's")
	}
	c.Close()
	if b, want := <-got, frame(opClose, []byte{0x0f, 0xa0, 'b', 'y', 'e'}); !bytes.Equal(b, want) {
		t.Errorf("wrote % x\nwant  % x", b, want)
	}
}

// TestReplacesCloseAnswer checks what goes out in place of the library's
// close frame: the RFC 6455 answer to the peer's close once it reached the
// library, 1002 for a malformed close of the library's own, and the
// library's frame otherwise.
func TestReplacesCloseAnswer(t *testing.T) {
	text := frame(0x1, []byte("x"))
	proto := func(reason string) []byte { return frame(opClose, append([]byte{0x03, 0xea}, reason...)) }
	for _, tc := range []struct {
		name      string
		peer      []byte // the peer's close payload; nil: none
		lib       []byte // the library's close payload
		want      []byte // the close frame that goes out
		peerError error  // what CloseError says of the peer's payload
	}{
		{"1014 refused by the library", []byte{0x03, 0xf6, 'b', 'y', 'e'}, []byte("\x03\xeabad close code 1014"), frame(opClose, []byte{0x03, 0xf6}), nil},
		{"valid code echoed", []byte{0x0f, 0xa1, 'd', 'o', 'n', 'e'}, []byte{0x0f, 0xa1, 'd', 'o', 'n', 'e'}, frame(opClose, []byte{0x0f, 0xa1}), nil},
		{"empty close", []byte{}, []byte{0x03, 0xe8}, frame(opClose, nil), nil},
		{"1-byte payload", []byte{0x03}, []byte{}, proto("close payload of 1 byte"), websock.ErrProtocol},
		{"invalid code", []byte{0x03, 0xed}, []byte{0x03, 0xed}, proto("invalid close code"), websock.ErrProtocol},
		{"reason not UTF-8", []byte{0x03, 0xe8, 'o', 'k', 0xff}, []byte{0x03, 0xe8, 'o', 'k', 0xff}, proto("invalid UTF-8 in close reason"), websock.ErrProtocol},
		{"library's own, valid", nil, []byte{0x03, 0xf1}, frame(opClose, []byte{0x03, 0xf1}), nil},
		{"library's own, reason not UTF-8", nil, []byte{0x03, 0xe8, 0xff}, proto("invalid UTF-8 in close reason"), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			server, client := pair(t)
			c := New(server)
			got := readAll(client)
			if tc.peer != nil {
				go client.Write(cat(clientFrame(0x1, []byte("hello"), key), clientFrame(opClose, tc.peer, key)))
				libRead(t, c, clientFrame(0x1, []byte("hello"), key), len(clientFrame(opClose, tc.peer, key)))
				p, ok := c.PeerClose()
				if !ok || !bytes.Equal(p, tc.peer) {
					t.Fatalf("PeerClose %x, %v; want %x, true", p, ok, tc.peer)
				}
				err := CloseError(p)
				if tc.peerError != nil && !errors.Is(err, tc.peerError) {
					t.Errorf("CloseError(%x) = %v; want %v", p, err, tc.peerError)
				}
				var ce *websock.CloseError
				if tc.peerError == nil && !errors.As(err, &ce) {
					t.Errorf("CloseError(%x) = %v; want a *websock.CloseError", p, err)
				}
			}
			c.Write(text)
			c.Write(frame(opClose, tc.lib))
			c.Close()
			if b, want := <-got, cat(text, tc.want); !bytes.Equal(b, want) {
				t.Errorf("wrote % x\nwant  % x", b, want)
			}
		})
	}
}

// libRead reads from c as a library would: first exactly the bytes of
// before (the Conn must hand the close frame over in a read of its own),
// then n more.
func libRead(t *testing.T, c *Conn, before []byte, n int) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 4096)
	var got []byte
	for len(got) < len(before) {
		if _, ok := c.PeerClose(); ok {
			t.Fatal("PeerClose reports the close frame before the library got it")
		}
		m, err := c.Read(buf)
		if err != nil {
			t.Fatalf("Read: %v", err)
		}
		got = append(got, buf[:m]...)
	}
	if !bytes.Equal(got, before) {
		t.Fatalf("read % x\nbefore the close frame; want % x", got, before)
	}
	for k := 0; k < n; {
		m, err := c.Read(buf)
		if err != nil {
			t.Fatalf("Read: %v", err)
		}
		k += m
	}
}

// TestReadSide checks that the peer's close frame is found behind large
// and masked frames, fed in every chunk size, and handed over apart from
// the frames before it.
func TestReadSide(t *testing.T) {
	big := bytes.Repeat([]byte{0x88}, 70000)
	before := cat(clientFrame(0x2, big, key), clientFrame(0x9, []byte("ping"), key), clientFrame(0x1, big[:300], key))
	closeFrame := clientFrame(opClose, []byte{0x03, 0xf6, 'b', 'y', 'e'}, key)
	stream := cat(before, closeFrame, []byte("junk after the close"))
	for _, chunk := range []int{len(stream), 1, 2, 5, 100, 4096} {
		server, client := pair(t)
		c := New(server)
		go func() {
			for pos := 0; pos < len(stream); pos += chunk {
				if _, err := client.Write(stream[pos:min(pos+chunk, len(stream))]); err != nil {
					return
				}
			}
		}()
		libRead(t, c, before, len(closeFrame))
		if p, ok := c.PeerClose(); !ok || string(p) != "\x03\xf6bye" {
			t.Errorf("chunk %d: PeerClose %q, %v; want 1014 \"bye\"", chunk, p, ok)
		}
		var ce *websock.CloseError
		if p, _ := c.PeerClose(); !errors.As(CloseError(p), &ce) || ce.Code != websock.CloseBadGateway || ce.Text != "bye" {
			t.Errorf("chunk %d: CloseError %v; want 1014 \"bye\"", chunk, CloseError(p))
		}
	}
}

// TestReadSideBadClose checks that a close frame no library accepts
// (fragmented, or over 125 bytes) is not reported.
func TestReadSideBadClose(t *testing.T) {
	for _, f := range [][]byte{
		{0x08, 0x80, 0, 0, 0, 0},   // not final
		{0x88, 0x80 | 126, 0, 200}, // over 125 bytes
	} {
		server, client := pair(t)
		c := New(server)
		client.Write(f)
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		buf := make([]byte, 64)
		if _, err := c.Read(buf); err != nil {
			t.Fatal(err)
		}
		if p, ok := c.PeerClose(); ok {
			t.Errorf("frame % x: PeerClose %x, true; want none", f, p)
		}
	}
}

func TestWriteControlErrors(t *testing.T) {
	server, _ := pair(t)
	c := New(server)
	if err := c.WriteControl(websock.OpClose, nil, time.Time{}); !errors.Is(err, ErrBadControl) {
		t.Errorf("WriteControl(close): %v; want ErrBadControl", err)
	}
	if err := c.WriteControl(websock.OpPing, make([]byte, 126), time.Time{}); !errors.Is(err, ErrBadControl) {
		t.Errorf("WriteControl(126-byte ping): %v; want ErrBadControl", err)
	}
	c.Write(header(0x2, 10, false)) // a frame half written
	if err := c.WriteControl(websock.OpPing, nil, time.Time{}); !errors.Is(err, ErrMidFrame) {
		t.Errorf("WriteControl mid-frame: %v; want ErrMidFrame", err)
	}
	if err := c.WriteClose(websock.CloseNormal, "", time.Time{}); !errors.Is(err, ErrMidFrame) || c.CloseSent() {
		t.Errorf("WriteClose mid-frame: %v, CloseSent %v; want ErrMidFrame, false", err, c.CloseSent())
	}
	c.Write(make([]byte, 10))
	if err := c.WriteControl(websock.OpPing, nil, time.Time{}); err != nil {
		t.Errorf("WriteControl after the frame: %v", err)
	}
}

// TestResponseWriter checks the hijack through a real net/http server, for
// a library that writes the 101 response through the hijacked connection
// (and so must see it passed through untouched) and for one that has
// net/http write it first; and that what the client sent with its request
// reaches the library through the Conn.
func TestResponseWriter(t *testing.T) {
	const response = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
	for _, libWritesResponse := range []bool{true, false} {
		done := make(chan error, 1)
		hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rw := &ResponseWriter{ResponseWriter: w}
			if !libWritesResponse {
				rw.Header().Set("Upgrade", "websocket")
				rw.Header().Set("Connection", "Upgrade")
				rw.WriteHeader(http.StatusSwitchingProtocols)
			}
			nc, brw, err := rw.Hijack()
			if err != nil {
				done <- err
				return
			}
			defer nc.Close()
			if libWritesResponse {
				brw.WriteString(response)
			}
			brw.Write(frame(0x1, []byte("hi")))
			brw.Flush()
			rw.Conn().WriteControl(websock.OpPing, []byte("p"), time.Time{})
			nc.SetReadDeadline(time.Now().Add(5 * time.Second))
			buf := make([]byte, 64)
			for {
				if _, ok := rw.Conn().PeerClose(); ok {
					break
				}
				if _, err := brw.Read(buf); err != nil {
					done <- err
					return
				}
			}
			brw.Write(frame(opClose, []byte{0x03, 0xe8}))
			brw.Flush()
			done <- nil
		}))
		client, err := net.Dial("tcp", hs.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		client.SetDeadline(time.Now().Add(5 * time.Second))
		// The close frame comes with the request: the server reads it
		// ahead, and hands it over through the Conn.
		io.WriteString(client, "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
		client.Write(clientFrame(opClose, []byte{0x03, 0xe8}, key))
		br := bufio.NewReader(client)
		resp, err := http.ReadResponse(br, nil)
		if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
			t.Fatalf("response %v, %v; want 101", resp, err)
		}
		rest, _ := io.ReadAll(br)
		if err := <-done; err != nil {
			t.Errorf("library writes the response %v: server: %v", libWritesResponse, err)
		}
		if want := cat(frame(0x1, []byte("hi")), frame(0x9, []byte("p")), frame(opClose, []byte{0x03, 0xe8})); !bytes.Equal(rest, want) {
			t.Errorf("library writes the response %v: frames % x\nwant % x", libWritesResponse, rest, want)
		}
		client.Close()
		hs.Close()
	}
}

// TestListener checks that a Listener's Conn passes the HTTP exchange
// through untouched and follows frames once Upgraded, unless the server
// read past the request.
func TestListener(t *testing.T) {
	for _, ahead := range []bool{false, true} {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		wl := Listener{Listener: ln}
		client, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		nc, err := wl.Accept()
		if err != nil {
			t.Fatal(err)
		}
		c := nc.(*Conn)
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		req := "GET / HTTP/1.1\r\nHost: x\r\n\r\n"
		closeFrame := clientFrame(opClose, []byte{0x03, 0xf6}, key)
		// Read ahead: the server read the first bytes of the close frame
		// with the request, so the Conn cannot tell where frames begin.
		split := 0
		if ahead {
			split = 3
		}
		client.Write(cat([]byte(req), closeFrame[:split]))
		buf := make([]byte, 256)
		if _, err := io.ReadFull(c, buf[:len(req)+split]); err != nil {
			t.Fatal(err)
		}
		c.Write([]byte("HTTP/1.1 101 Switching Protocols\r\n\r\n\x88"))
		c.Upgraded()
		client.Write(closeFrame[split:])
		if _, err := io.ReadFull(c, buf[:len(closeFrame)-split]); err != nil {
			t.Fatal(err)
		}
		p, ok := c.PeerClose()
		if ok == ahead || (ok && string(p) != "\x03\xf6") {
			t.Errorf("read ahead %v: PeerClose %x, %v; want %v", ahead, p, ok, !ahead)
		}
		c.Write([]byte{0x80})
		c.Close()
		client.SetReadDeadline(time.Now().Add(5 * time.Second))
		got, _ := io.ReadAll(client)
		if want := "HTTP/1.1 101 Switching Protocols\r\n\r\n\x88\x80"; string(got) != want {
			t.Errorf("read ahead %v: wrote %q; want %q", ahead, got, want)
		}
		client.Close()
		ln.Close()
	}
}

// maskedFrame returns a frame the way a client sends it, masked with a key
// that is not zero.
func maskedFrame(b0 byte, payload string) []byte {
	key := [4]byte{0x12, 0x34, 0x56, 0x78}
	f := []byte{b0, 0x80 | byte(len(payload))}
	f = append(f, key[:]...)
	for i := range len(payload) {
		f = append(f, payload[i]^key[i&3])
	}
	return f
}

// TestValidateUTF8 checks that the read side fails as soon as the peer's
// text cannot be valid UTF-8, mid-frame, and lets valid text, binary data
// and compressed messages through.
func TestValidateUTF8(t *testing.T) {
	for _, tc := range []struct {
		name  string
		parts [][]byte // written one at a time; the last one makes it fail, if any does
		fail  bool
	}{
		{"valid", [][]byte{maskedFrame(0x01, "héllo "), maskedFrame(0x80, "wörld ✓")}, false},
		{"binary", [][]byte{maskedFrame(0x82, "\xff\xfe")}, false},
		{"compressed", [][]byte{maskedFrame(0xc1, "\xff\xfe")}, false},
		{"split code point", [][]byte{maskedFrame(0x01, "\xe2\x82"), maskedFrame(0x89, "p"), maskedFrame(0x80, "\xac")}, false},
		{"bad fragment", [][]byte{maskedFrame(0x01, "ok"), maskedFrame(0x00, "\xf4\x90\x80\x80")}, true},
		{"bad mid-frame", [][]byte{maskedFrame(0x81, "ok\xf4\x90rest")[:2+4+3], maskedFrame(0x81, "ok\xf4\x90rest")[6+3 : 6+4]}, true},
		{"cut short at the end", [][]byte{maskedFrame(0x81, "ok\xe2\x82")}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			server, client := pair(t)
			c := New(server)
			c.ValidateUTF8()
			buf := make([]byte, 256)
			for i, part := range tc.parts {
				if _, err := client.Write(part); err != nil {
					t.Fatal(err)
				}
				for got := 0; got < len(part); {
					n, err := c.Read(buf)
					got += n
					last := i == len(tc.parts)-1
					if err != nil {
						if !tc.fail || !last || !errors.Is(err, websock.ErrInvalidUTF8) {
							t.Fatalf("part %d: Read: %v", i, err)
						}
						if _, err := c.Read(buf); !errors.Is(err, websock.ErrInvalidUTF8) {
							t.Fatalf("Read after the failure: %v; want ErrInvalidUTF8 again", err)
						}
						return
					}
				}
			}
			if tc.fail {
				t.Fatal("every part was read without an error; want ErrInvalidUTF8 at the last")
			}
		})
	}
}
