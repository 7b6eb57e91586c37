package gws_test

import (
	"bufio"
	"bytes"
	"compress/flate"
	"context"
	"encoding/binary"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/websock-go/websock/adapters/gws"
	"github.com/websock-go/websock/websock"
)

// The cases below are what gws gets wrong on its own and the adapter
// corrects; the conformance suite does not send them.

// serve starts an echo endpoint on 127.0.0.1 and returns its address.
func serve(t *testing.T, opts *gws.Options) string {
	t.Helper()
	h, err := gws.New(func(*websock.Request) (websock.Handler, error) {
		return websock.HandlerFunc(func(f websock.Frame) websock.Result { return websock.Push(f) }), nil
	}, opts)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	go srv.Serve(ln)
	t.Cleanup(func() {
		h.Shutdown(context.Background())
		srv.Shutdown(context.Background())
	})
	return ln.Addr().String()
}

// dial upgrades a raw connection, offering compression if deflate, and
// writes first right after the request, in the same write.
func dial(t *testing.T, addr string, deflate bool, first []byte) (net.Conn, *bufio.Reader) {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	req := "GET / HTTP/1.1\r\nHost: " + addr + "\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n" +
		"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
	if deflate {
		req += "Sec-WebSocket-Extensions: permessage-deflate; client_no_context_takeover; server_no_context_takeover\r\n"
	}
	if _, err := nc.Write(append([]byte(req+"\r\n"), first...)); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(nc)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("upgrade: %v %v", resp, err)
	}
	if got := strings.Contains(resp.Header.Get("Sec-WebSocket-Extensions"), "permessage-deflate"); got != deflate {
		t.Fatalf("compression negotiated: %v; want %v", got, deflate)
	}
	return nc, br
}

// frame returns a masked client frame with first byte b0 (FIN, RSV,
// opcode) and payload p; a zero mask keeps p as is.
func frame(b0 byte, p []byte) []byte {
	f := []byte{b0}
	switch {
	case len(p) < 126:
		f = append(f, 0x80|byte(len(p)))
	default:
		f = append(f, 0x80|127)
		f = binary.BigEndian.AppendUint64(f, uint64(len(p)))
	}
	return append(append(f, 0, 0, 0, 0), p...)
}

// next reads the server's next frame: its first byte and payload.
func next(t *testing.T, br *bufio.Reader) (byte, []byte) {
	t.Helper()
	var h [2]byte
	if _, err := io.ReadFull(br, h[:]); err != nil {
		t.Fatalf("reading a frame: %v", err)
	}
	n := int(h[1] & 0x7f)
	switch n {
	case 126:
		var l [2]byte
		io.ReadFull(br, l[:])
		n = int(binary.BigEndian.Uint16(l[:]))
	case 127:
		var l [8]byte
		io.ReadFull(br, l[:])
		n = int(binary.BigEndian.Uint64(l[:]))
	}
	p := make([]byte, n)
	if _, err := io.ReadFull(br, p); err != nil {
		t.Fatalf("reading a frame: %v", err)
	}
	return h[0], p
}

func wantClose(t *testing.T, br *bufio.Reader, code uint16) {
	t.Helper()
	b0, p := next(t, br)
	if b0 != 0x88 || len(p) < 2 || binary.BigEndian.Uint16(p) != code {
		t.Fatalf("got frame %#x %q; want close %d", b0, p, code)
	}
}

func TestLengthTopBit(t *testing.T) {
	addr := serve(t, nil)
	nc, br := dial(t, addr, false, nil)
	nc.Write([]byte{0x82, 0x80 | 127, 0x80, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0})
	wantClose(t, br, 1002)
}

func TestReservedBitsWithCompression(t *testing.T) {
	addr := serve(t, &gws.Options{Compression: true})
	for name, frames := range map[string][]byte{
		"RSV2":         frame(0x80|0x20|0x1, []byte("x")),
		"RSV3":         frame(0x80|0x10|0x2, []byte("x")),
		"RSV1 on ping": frame(0x80|0x40|0x9, nil),
		"RSV1 on continuation": append( // the second frame continues the first: opcode 0
			frame(0x1, []byte("a")), frame(0x80|0x40, []byte("b"))...),
	} {
		t.Run(name, func(t *testing.T) {
			nc, br := dial(t, addr, true, nil)
			nc.Write(frames)
			wantClose(t, br, 1002)
		})
	}
}

func TestFrameAfterRequest(t *testing.T) {
	addr := serve(t, nil)
	_, br := dial(t, addr, false, frame(0x81, []byte("early")))
	if b0, p := next(t, br); b0 != 0x81 || string(p) != "early" {
		t.Fatalf("got %#x %q; want the text message sent with the request echoed", b0, p)
	}
}

func TestIncompressibleAtLimit(t *testing.T) {
	addr := serve(t, &gws.Options{Compression: true, MaxMessageSize: 4096})
	nc, br := dial(t, addr, true, nil)
	msg := make([]byte, 4096)
	for i := range msg {
		msg[i] = byte(i * 7919 >> 3)
	}
	var buf bytes.Buffer
	w, _ := flate.NewWriter(&buf, flate.NoCompression) // larger than msg
	w.Write(msg)
	w.Flush()
	nc.Write(frame(0x80|0x40|0x2, bytes.TrimSuffix(buf.Bytes(), []byte{0, 0, 0xff, 0xff})))
	b0, p := next(t, br)
	if b0&0x40 != 0 {
		r := flate.NewReader(io.MultiReader(bytes.NewReader(p), bytes.NewReader([]byte{0, 0, 0xff, 0xff, 1, 0, 0, 0xff, 0xff})))
		p, _ = io.ReadAll(r)
	}
	if b0&0x0f != 0x2 || !bytes.Equal(p, msg) {
		t.Fatalf("got %#x, %d bytes; want the message of exactly MaxMessageSize back", b0, len(p))
	}
}

// pusher pushes a message on every HandleInfo, forever, and reports how the
// connection ended.
type pusher struct {
	conn websock.Conn
	end  chan websock.Reason
}

func (p *pusher) Init(c websock.Conn) websock.Result { p.conn = c; c.Send(0); return websock.OK() }
func (p *pusher) HandleIn(websock.Frame) websock.Result {
	return websock.OK()
}
func (p *pusher) HandleInfo(any) websock.Result {
	p.conn.Send(0)
	return websock.Push(websock.TextString("push"))
}
func (p *pusher) Terminate(r websock.Reason) { p.end <- r }

// A peer's close that arrives while the server pushes ends the connection
// as a remote close, not as a failed write.
func TestCloseWhilePushing(t *testing.T) {
	end := make(chan websock.Reason, 1)
	h, err := gws.New(func(*websock.Request) (websock.Handler, error) { return &pusher{end: end}, nil }, nil)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	go srv.Serve(ln)
	defer srv.Shutdown(context.Background())
	defer h.Shutdown(context.Background())
	for i := 0; i < 50; i++ {
		nc, br := dial(t, ln.Addr().String(), false, nil)
		next(t, br)
		nc.Write(frame(0x88, []byte{0x03, 0xe8}))
		go io.Copy(io.Discard, br)
		if r := <-end; r.Kind != websock.KindRemote || r.Code != websock.CloseNormal {
			t.Fatalf("connection %d ended with %v; want the peer's close", i, r)
		}
		nc.Close()
	}
}
