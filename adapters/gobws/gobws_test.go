package gobws_test

import (
	"bufio"
	"bytes"
	"compress/flate"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsflate"
	"go.uber.org/goleak"

	"github.com/websock-go/websock/adapters"
	"github.com/websock-go/websock/adapters/gobws"
	"github.com/websock-go/websock/conformance"
	"github.com/websock-go/websock/websock"
)

func TestConformance(t *testing.T) {
	conformance.Run(t, conformance.Adapter{Adapter: gobws.Adapter, Serve: conformance.ServeHTTP(gobws.New)})
}

func TestClientConformance(t *testing.T) {
	conformance.RunClient(t, conformance.ClientAdapter{Adapter: gobws.ClientAdapter, Dial: gobws.Dial})
}

// The tests below cover what the conformance suite does not: the frame
// handling this adapter does itself on top of gobwas/ws.

// recorder is a handler that echoes messages and records how the
// connection ended.
type recorder struct {
	reasons chan websock.Reason
}

func newRecorder() *recorder { return &recorder{reasons: make(chan websock.Reason, 1)} }

func (r *recorder) Init(websock.Conn) websock.Result           { return websock.OK() }
func (r *recorder) HandleIn(f websock.Frame) websock.Result    { return websock.Push(f) }
func (r *recorder) HandleInfo(any) websock.Result              { return websock.OK() }
func (r *recorder) Terminate(reason websock.Reason)            { r.reasons <- reason }
func (r *recorder) HandleControl(websock.Frame) websock.Result { return websock.OK() }

func (r *recorder) reason(t *testing.T) websock.Reason {
	t.Helper()
	select {
	case reason := <-r.reasons:
		return reason
	case <-time.After(10 * time.Second):
		t.Fatal("Terminate was not called within 10s")
	}
	return websock.Reason{}
}

// serve starts a gobws endpoint on 127.0.0.1 whose connections run the
// handlers handed to the returned channel (an echo handler when none is
// waiting), and stops it when the test ends.
func serve(t *testing.T, opts *adapters.Options) (addr string, handlers chan *recorder) {
	t.Helper()
	return serveWith(t, gobws.New, opts)
}

// serveWith is serve with the Handler newHandler makes.
func serveWith(t *testing.T, newHandler func(websock.AcceptFunc, *gobws.Options) (*gobws.Handler, error),
	opts *adapters.Options) (addr string, handlers chan *recorder) {
	t.Helper()
	t.Cleanup(func() { goleak.VerifyNone(t, goleak.IgnoreCurrent()) })
	handlers = make(chan *recorder, 4)
	h, err := newHandler(func(*websock.Request) (websock.Handler, error) {
		select {
		case r := <-handlers:
			return r, nil
		default:
			return newRecorder(), nil
		}
	}, opts)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	done := make(chan struct{})
	go func() { defer close(done); srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := h.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		srv.Shutdown(ctx)
		<-done
	})
	return ln.Addr().String(), handlers
}

// client is a raw WebSocket client that can send any frame.
type client struct {
	t  *testing.T
	nc net.Conn
	br *bufio.Reader
}

// dial connects to addr, writing extra right after the handshake request
// (in the same write) when given, and checks the upgrade succeeded.
func dial(t *testing.T, addr, header string, extra []byte) (*client, *http.Response) {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	req := "GET / HTTP/1.1\r\nHost: " + addr + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" + header + "\r\n"
	if _, err := nc.Write(append([]byte(req), extra...)); err != nil {
		t.Fatal(err)
	}
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(nc)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("upgrade answered %s", resp.Status)
	}
	return &client{t: t, nc: nc, br: br}, resp
}

// frameBytes returns a masked client frame.
func frameBytes(fin bool, rsv byte, op ws.OpCode, p []byte) []byte {
	var buf bytes.Buffer
	f := ws.MaskFrameWith(ws.Frame{Header: ws.Header{Fin: fin, Rsv: rsv, OpCode: op, Length: int64(len(p))}, Payload: p}, [4]byte{1, 2, 3, 4})
	ws.WriteFrame(&buf, f)
	return buf.Bytes()
}

func (c *client) send(fin bool, rsv byte, op ws.OpCode, p []byte) {
	c.t.Helper()
	if _, err := c.nc.Write(frameBytes(fin, rsv, op, p)); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

func (c *client) read() (ws.Header, []byte) {
	c.t.Helper()
	h, err := ws.ReadHeader(c.br)
	if err != nil {
		c.t.Fatalf("reading a frame: %v", err)
	}
	p := make([]byte, h.Length)
	if _, err := io.ReadFull(c.br, p); err != nil {
		c.t.Fatalf("reading a frame: %v", err)
	}
	return h, p
}

// expectClose reads frames until a close frame and returns its code.
func (c *client) expectClose() websock.CloseCode {
	c.t.Helper()
	for {
		h, p := c.read()
		if h.OpCode == ws.OpClose {
			if len(p) < 2 {
				return websock.CloseNoStatus
			}
			return websock.CloseCode(binary.BigEndian.Uint16(p))
		}
	}
}

func compress(p []byte) []byte {
	var buf bytes.Buffer
	w, _ := flate.NewWriter(&buf, flate.BestCompression)
	w.Write(p)
	w.Flush()
	return bytes.TrimSuffix(buf.Bytes(), []byte{0, 0, 0xff, 0xff})
}

const offerDeflate = "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"

func TestCompressedFragmentedWithPing(t *testing.T) {
	addr, _ := serve(t, &adapters.Options{Compression: true})
	c, resp := dial(t, addr, offerDeflate, nil)
	ext := resp.Header.Get("Sec-WebSocket-Extensions")
	if !strings.Contains(ext, "permessage-deflate") || !strings.Contains(ext, "client_no_context_takeover") {
		t.Fatalf("Sec-WebSocket-Extensions answered %q; want permessage-deflate without client context takeover", ext)
	}
	msg := strings.Repeat("κόσμε, compress me. ", 400)
	z := compress([]byte(msg))
	a, b := len(z)/3, 2*len(z)/3
	c.send(false, 0x4, ws.OpText, z[:a])
	c.send(true, 0, ws.OpPing, []byte("between"))
	c.send(false, 0, ws.OpContinuation, z[a:b])
	c.send(true, 0, ws.OpContinuation, z[b:])

	h, p := c.read()
	if h.OpCode != ws.OpPong || string(p) != "between" {
		t.Fatalf("got %v %q; want the pong to the ping between fragments first", h.OpCode, p)
	}
	h, p = c.read()
	if h.OpCode != ws.OpText || h.Rsv != 0x4 {
		t.Fatalf("got %v with RSV %#x; want a compressed text message", h.OpCode, h.Rsv)
	}
	got, err := wsflate.DefaultHelper.Decompress(p)
	if err != nil || string(got) != msg {
		t.Fatalf("decompressed echo: %d bytes, err %v; want the %d bytes sent", len(got), err, len(msg))
	}

	// Uncompressed messages are fine too, and an empty one compresses.
	c.send(true, 0, ws.OpBinary, nil)
	h, p = c.read()
	if got, err := wsflate.DefaultHelper.Decompress(p); h.OpCode != ws.OpBinary || err != nil || len(got) != 0 {
		t.Fatalf("empty message echoed as %v %x (%v)", h.OpCode, p, err)
	}
}

func TestCompressionDeclinedWithoutOption(t *testing.T) {
	addr, _ := serve(t, nil)
	c, resp := dial(t, addr, offerDeflate, nil)
	if ext := resp.Header.Get("Sec-WebSocket-Extensions"); ext != "" {
		t.Fatalf("Sec-WebSocket-Extensions answered %q with Compression off", ext)
	}
	c.send(true, 0x4, ws.OpText, compress([]byte("x")))
	if code := c.expectClose(); code != websock.CloseProtocolError {
		t.Fatalf("RSV1 without permessage-deflate closed with %v; want 1002", code)
	}
}

func TestCompressionBitMisplaced(t *testing.T) {
	for name, frames := range map[string][][]byte{
		"continuation": {frameBytes(false, 0, ws.OpText, []byte("a")), frameBytes(true, 0x4, ws.OpContinuation, []byte("b"))},
		"control":      {frameBytes(true, 0x4, ws.OpPing, nil)},
		"RSV2":         {frameBytes(true, 0x2, ws.OpText, []byte("a"))},
	} {
		t.Run(name, func(t *testing.T) {
			addr, handlers := serve(t, &adapters.Options{Compression: true})
			r := newRecorder()
			handlers <- r
			c, _ := dial(t, addr, offerDeflate, nil)
			for _, f := range frames {
				c.nc.Write(f)
			}
			if code := c.expectClose(); code != websock.CloseProtocolError {
				t.Fatalf("closed with %v; want 1002", code)
			}
			c.nc.Close() // end the server's lingering close
			if reason := r.reason(t); !errors.Is(reason.Err, websock.ErrProtocol) {
				t.Fatalf("Terminate saw %v; want ErrProtocol", reason)
			}
		})
	}
}

func TestCorruptCompressedData(t *testing.T) {
	addr, _ := serve(t, &adapters.Options{Compression: true})
	c, _ := dial(t, addr, offerDeflate, nil)
	c.send(true, 0x4, ws.OpBinary, []byte{0xff, 0xff, 0xff, 0xff})
	if code := c.expectClose(); code != websock.CloseProtocolError {
		t.Fatalf("corrupt deflate data closed with %v; want 1002", code)
	}
}

func TestCompressedInvalidUTF8(t *testing.T) {
	addr, _ := serve(t, &adapters.Options{Compression: true})
	c, _ := dial(t, addr, offerDeflate, nil)
	c.send(true, 0x4, ws.OpText, compress([]byte("ok \xff not ok")))
	if code := c.expectClose(); code != websock.CloseInvalidPayload {
		t.Fatalf("invalid UTF-8 in a compressed text message closed with %v; want 1007", code)
	}
}

// TestSizeCheckedBeforeBuffering sends only a header that declares a
// payload far over the maximum: the server must refuse it from the
// header, without waiting for a payload that never comes.
func TestSizeCheckedBeforeBuffering(t *testing.T) {
	addr, handlers := serve(t, &adapters.Options{MaxMessageSize: 1 << 20})
	r := newRecorder()
	handlers <- r
	c, _ := dial(t, addr, "", nil)
	hdr := frameBytes(true, 0, ws.OpBinary, nil)[:2] // fin, binary, masked, length 0
	hdr[1] = 0x80 | 127
	hdr = binary.BigEndian.AppendUint64(hdr, 1<<40)
	hdr = append(hdr, 1, 2, 3, 4)
	c.nc.Write(hdr)
	if code := c.expectClose(); code != websock.CloseMessageTooBig {
		t.Fatalf("closed with %v; want 1009", code)
	}
	c.nc.Close() // end the server's lingering close
	if reason := r.reason(t); !errors.Is(reason.Err, websock.ErrMessageTooBig) {
		t.Fatalf("Terminate saw %v; want ErrMessageTooBig", reason)
	}
}

// TestInvalidUTF8FailsFast sends the start of a large text frame whose
// first bytes are not UTF-8: the server must close without waiting for the
// rest.
func TestInvalidUTF8FailsFast(t *testing.T) {
	addr, _ := serve(t, nil)
	c, _ := dial(t, addr, "", nil)
	f := frameBytes(true, 0, ws.OpText, append([]byte("\xff"), make([]byte, 1<<20)...))
	c.nc.Write(f[:100<<10]) // the header and 100 KiB of the payload
	if code := c.expectClose(); code != websock.CloseInvalidPayload {
		t.Fatalf("closed with %v; want 1007", code)
	}
}

func TestCloseFrames(t *testing.T) {
	for _, tc := range []struct {
		payload []byte
		want    websock.CloseCode
	}{
		{binary.BigEndian.AppendUint16(nil, 1012), 1012},
		{binary.BigEndian.AppendUint16(nil, 1014), 1014},
		{binary.BigEndian.AppendUint16(nil, 4999), 4999},
		{append(binary.BigEndian.AppendUint16(nil, 1000), "bad \xff reason"...), websock.CloseProtocolError},
		{binary.BigEndian.AppendUint16(nil, 1004), websock.CloseProtocolError},
		{nil, websock.CloseNoStatus},
	} {
		t.Run(fmt.Sprintf("%x", tc.payload), func(t *testing.T) {
			addr, _ := serve(t, nil)
			c, _ := dial(t, addr, "", nil)
			c.send(true, 0, ws.OpClose, tc.payload)
			if code := c.expectClose(); code != tc.want {
				t.Fatalf("close %x answered with %v; want %v", tc.payload, code, tc.want)
			}
		})
	}
}

// TestFramesRightAfterHandshake sends frames in the same packet as the
// handshake, so that net/http has them buffered when the upgrade happens.
func TestFramesRightAfterHandshake(t *testing.T) {
	addr, _ := serve(t, nil)
	extra := append(frameBytes(true, 0, ws.OpText, []byte("early")), frameBytes(true, 0, ws.OpPing, []byte("p"))...)
	c, _ := dial(t, addr, "", extra)
	if h, p := c.read(); h.OpCode != ws.OpText || string(p) != "early" {
		t.Fatalf("got %v %q; want the early message echoed", h.OpCode, p)
	}
	if h, p := c.read(); h.OpCode != ws.OpPong || string(p) != "p" {
		t.Fatalf("got %v %q; want the pong", h.OpCode, p)
	}
}

func TestManySmallAndLargeMessages(t *testing.T) {
	for _, compressed := range []bool{false, true} {
		t.Run(fmt.Sprint("compressed=", compressed), func(t *testing.T) {
			addr, _ := serve(t, &adapters.Options{Compression: compressed})
			header := ""
			if compressed {
				header = offerDeflate
			}
			c, _ := dial(t, addr, header, nil)
			for _, n := range []int{0, 1, 125, 126, 65535, 65536, 100 << 10, 3} {
				msg := bytes.Repeat([]byte("abcdefghij"), n/10+1)[:n]
				payload, rsv := msg, byte(0)
				if compressed {
					payload, rsv = compress(msg), 0x4
				}
				c.send(true, rsv, ws.OpBinary, payload)
				h, p := c.read()
				if compressed {
					var err error
					if p, err = wsflate.DefaultHelper.Decompress(p); err != nil {
						t.Fatal(err)
					}
				}
				if h.OpCode != ws.OpBinary || !bytes.Equal(p, msg) {
					t.Fatalf("%d bytes echoed as %v with %d bytes", n, h.OpCode, len(p))
				}
			}
		})
	}
}

// TestServeConn upgrades with gobwas's zero-copy ws.Upgrader on a raw
// listener and runs the connection with ServeConn.
func TestServeConn(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	h, err := gobws.New(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	reasons := make(chan websock.Reason, 1)
	go func() {
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		ext := wsflate.Extension{Parameters: wsflate.DefaultParameters}
		hs, err := ws.Upgrader{Negotiate: ext.Negotiate, Protocol: func(p []byte) bool { return string(p) == "chat" }}.Upgrade(nc)
		if err != nil {
			nc.Close()
			return
		}
		reasons <- h.ServeConn(nc, nil, hs, nil, newRecorder())
	}()
	c, resp := dial(t, ln.Addr().String(), offerDeflate+"Sec-WebSocket-Protocol: chat\r\n", nil)
	if resp.Header.Get("Sec-WebSocket-Protocol") != "chat" {
		t.Fatalf("subprotocol %q; want chat", resp.Header.Get("Sec-WebSocket-Protocol"))
	}
	c.send(true, 0x4, ws.OpText, compress([]byte("hello")))
	hdr, p := c.read()
	if got, err := wsflate.DefaultHelper.Decompress(p); hdr.Rsv != 0x4 || err != nil || string(got) != "hello" {
		t.Fatalf("echo: RSV %#x %q %v; want compressed hello", hdr.Rsv, got, err)
	}
	c.send(true, 0, ws.OpClose, binary.BigEndian.AppendUint16(nil, 1000))
	if code := c.expectClose(); code != websock.CloseNormal {
		t.Fatalf("close echoed as %v", code)
	}
	select {
	case r := <-reasons:
		if r.Kind != websock.KindRemote || r.Code != websock.CloseNormal {
			t.Fatalf("ServeConn ended with %v; want a remote 1000", r)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("ServeConn did not return")
	}
}

func TestCompressionOfferWithUnknownParameterDeclined(t *testing.T) {
	addr, _ := serve(t, &adapters.Options{Compression: true})
	c, resp := dial(t, addr, "Sec-WebSocket-Extensions: permessage-deflate; foo=1, permessage-deflate\r\n", nil)
	if ext := resp.Header.Get("Sec-WebSocket-Extensions"); !strings.HasPrefix(ext, "permessage-deflate") {
		t.Fatalf("Sec-WebSocket-Extensions answered %q; want the first offer declined and the second accepted", ext)
	}
	c.send(true, 0x4, ws.OpText, compress([]byte("hi")))
	if h, _ := c.read(); h.OpCode != ws.OpText {
		t.Fatalf("got %v; want the echo", h.OpCode)
	}
}

func TestBadKeyRefusedBeforeAccept(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	called := false
	h, err := gobws.New(func(*websock.Request) (websock.Handler, error) { called = true; return newRecorder(), nil }, nil)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, "/", nil)
	req.Header = http.Header{"Connection": {"Upgrade"}, "Upgrade": {"websocket"},
		"Sec-Websocket-Key": {"short"}, "Sec-Websocket-Version": {"13"}}
	w := &recordingWriter{header: http.Header{}}
	h.ServeHTTP(w, req)
	if w.status != http.StatusBadRequest || called {
		t.Fatalf("status %d, AcceptFunc called %v; want 400 before the AcceptFunc runs", w.status, called)
	}
}

type recordingWriter struct {
	header http.Header
	status int
}

func (w *recordingWriter) Header() http.Header         { return w.header }
func (w *recordingWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *recordingWriter) WriteHeader(status int)      { w.status = status }

// TestCompressedWireBounded sends a compressed message made of empty
// deflate blocks, which inflates to nothing however long it goes on: the
// compressed size is bounded too.
func TestCompressedWireBounded(t *testing.T) {
	addr, _ := serve(t, &adapters.Options{Compression: true, MaxMessageSize: 1000})
	c, _ := dial(t, addr, offerDeflate, nil)
	empty := bytes.Repeat([]byte{0x00, 0x00, 0x00, 0xff, 0xff}, 100) // empty stored blocks
	c.send(false, 0x4, ws.OpBinary, empty)
	for range 10 {
		if _, err := c.nc.Write(frameBytes(false, 0, ws.OpContinuation, empty)); err != nil {
			break // closed already
		}
	}
	if code := c.expectClose(); code != websock.CloseMessageTooBig {
		t.Fatalf("closed with %v; want 1009", code)
	}
}
