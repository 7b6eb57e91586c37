package gobws_test

import (
	"context"
	"errors"
	"io"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsflate"

	"github.com/websock-go/websock/adapters"
	"github.com/websock-go/websock/adapters/gobws"
	"github.com/websock-go/websock/conformance"
	"github.com/websock-go/websock/websock"
)

func TestNetpollConformance(t *testing.T) {
	conformance.Run(t, conformance.Adapter{Adapter: gobws.NetpollAdapter, Serve: conformance.ServeHTTP(gobws.NewNetpoll)})
}

// TestNetpollFragmentsAcrossEvents sends a message in fragments that
// arrive in separate readiness events, with a ping between them whose
// pong shows the server read everything before it: the message read so
// far is kept between events and completed by the last fragment.
func TestNetpollFragmentsAcrossEvents(t *testing.T) {
	addr, _ := serveWith(t, gobws.NewNetpoll, nil)
	c, _ := dial(t, addr, "", nil)
	parts := []string{"κόσμε ", "across ", "events"}
	for i, p := range parts {
		op := ws.OpContinuation
		if i == 0 {
			op = ws.OpText
		}
		c.send(i == len(parts)-1, 0, op, []byte(p))
		if i < len(parts)-1 {
			c.send(true, 0, ws.OpPing, []byte{byte(i)})
			if h, p := c.read(); h.OpCode != ws.OpPong || len(p) != 1 || p[0] != byte(i) {
				t.Fatalf("got %v %q; want the pong to ping %d", h.OpCode, p, i)
			}
		}
	}
	h, p := c.read()
	if want := strings.Join(parts, ""); h.OpCode != ws.OpText || string(p) != want {
		t.Fatalf("got %v %q; want the text message %q", h.OpCode, p, want)
	}

	// A frame whose header arrives in two reads is read on.
	f := frameBytes(true, 0, ws.OpBinary, []byte("split header"))
	if _, err := c.nc.Write(f[:1]); err != nil {
		t.Fatal(err)
	}
	if _, err := c.nc.Write(f[1:]); err != nil {
		t.Fatal(err)
	}
	if h, p := c.read(); h.OpCode != ws.OpBinary || string(p) != "split header" {
		t.Fatalf("got %v %q; want the binary message %q", h.OpCode, p, "split header")
	}
}

// TestNetpollCompressedFragments sends a compressed message in fragments
// with a ping between them, over the netpoll mode: the compressed message
// is read to its end.
func TestNetpollCompressedFragments(t *testing.T) {
	addr, _ := serveWith(t, gobws.NewNetpoll, &adapters.Options{Compression: true})
	c, _ := dial(t, addr, offerDeflate, nil)
	msg := strings.Repeat("compressed over readiness events. ", 200)
	z := compress([]byte(msg))
	c.send(false, 0x4, ws.OpText, z[:len(z)/2])
	c.send(true, 0, ws.OpPing, []byte("between"))
	if h, p := c.read(); h.OpCode != ws.OpPong || string(p) != "between" {
		t.Fatalf("got %v %q; want the pong to the ping between fragments", h.OpCode, p)
	}
	c.send(true, 0, ws.OpContinuation, z[len(z)/2:])
	h, p := c.read()
	if h.OpCode != ws.OpText || h.Rsv != 0x4 {
		t.Fatalf("got %v with RSV %#x; want a compressed text message", h.OpCode, h.Rsv)
	}
	got, err := wsflate.DefaultHelper.Decompress(p)
	if err != nil || string(got) != msg {
		t.Fatalf("decompressed echo: %d bytes, err %v; want the %d bytes sent", len(got), err, len(msg))
	}
}

// TestNetpollStalledFrame starts a frame and never finishes it: the
// connection ends (the pool goroutine waiting for the rest of the frame
// gives up with the idle timeout) and Terminate is called.
func TestNetpollStalledFrame(t *testing.T) {
	addr, handlers := serveWith(t, gobws.NewNetpoll, &adapters.Options{IdleTimeout: 200 * time.Millisecond, CloseTimeout: 100 * time.Millisecond})
	r := newRecorder()
	handlers <- r
	c, _ := dial(t, addr, "", nil)
	f := frameBytes(true, 0, ws.OpBinary, []byte("never finished"))
	if _, err := c.nc.Write(f[:len(f)-3]); err != nil {
		t.Fatal(err)
	}
	reason := r.reason(t)
	if reason.Kind != websock.KindTimeout && !errors.Is(reason.Err, websock.ErrConnectionLost) {
		t.Errorf("Terminate(%v); want the idle timeout or a lost connection", reason)
	}
}

// TestNetpollServeConnWithoutDescriptor runs a connection that has no
// file descriptor (net.Pipe) through a netpoll Handler's ServeConn: it
// runs on a goroutine of its own instead, to the same end.
func TestNetpollServeConnWithoutDescriptor(t *testing.T) {
	h, err := gobws.NewNetpoll(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv, cl := net.Pipe()
	defer cl.Close()
	done := make(chan websock.Reason, 1)
	go func() {
		echo := websock.HandlerFunc(func(f websock.Frame) websock.Result { return websock.Push(f) })
		done <- h.ServeConn(srv, nil, ws.Handshake{}, nil, echo)
	}()
	cl.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := cl.Write(frameBytes(true, 0, ws.OpText, []byte("piped"))); err != nil {
		t.Fatal(err)
	}
	fh, err := ws.ReadHeader(cl)
	if err != nil || fh.Length > 125 {
		t.Fatalf("reading the echo: header %+v, err %v", fh, err)
	}
	p := make([]byte, fh.Length)
	if _, err := io.ReadFull(cl, p); err != nil || fh.OpCode != ws.OpText || string(p) != "piped" {
		t.Fatalf("got %v %q, err %v; want the echo of %q", fh.OpCode, p, err, "piped")
	}
	if _, err := cl.Write(frameBytes(true, 0, ws.OpClose, ws.NewCloseFrameBody(ws.StatusNormalClosure, ""))); err != nil {
		t.Fatal(err)
	}
	if fh, err := ws.ReadHeader(cl); err != nil || fh.OpCode != ws.OpClose {
		t.Fatalf("got %v, err %v; want the close frame answering ours", fh.OpCode, err)
	}
	go io.Copy(io.Discard, cl) // the close payload, until the server closes its end
	if reason := <-done; reason.Kind != websock.KindRemote || reason.Code != websock.CloseNormal {
		t.Errorf("ServeConn returned %v; want the peer's normal close", reason)
	}
	if err := h.Shutdown(context.Background()); err != nil {
		t.Errorf("Shutdown: %v", err)
	}
}

// TestNetpollLingerLetsGo talks on a connection, then goes quiet: the
// goroutine that lingered on it lets it go (no goroutine waits in
// linger any more), and the connection still answers once it talks
// again, now through the poller.
func TestNetpollLingerLetsGo(t *testing.T) {
	addr, _ := serveWith(t, gobws.NewNetpoll, nil)
	c, _ := dial(t, addr, "", nil)
	for i := range 3 {
		c.send(true, 0, ws.OpBinary, []byte{byte(i)})
		if h, p := c.read(); h.OpCode != ws.OpBinary || len(p) != 1 || p[0] != byte(i) {
			t.Fatalf("got %v %q; want the echo of message %d", h.OpCode, p, i)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for lingering() {
		if time.Now().After(deadline) {
			t.Fatal("a goroutine still lingers on a connection quiet for 10s")
		}
		time.Sleep(5 * time.Millisecond)
	}
	c.send(true, 0, ws.OpText, []byte("again"))
	if h, p := c.read(); h.OpCode != ws.OpText || string(p) != "again" {
		t.Fatalf("got %v %q after the linger ended; want the echo of %q", h.OpCode, p, "again")
	}
}

// lingering reports whether a goroutine waits in a netpoll connection's
// linger.
func lingering() bool {
	buf := make([]byte, 1<<20)
	return strings.Contains(string(buf[:runtime.Stack(buf, true)]), "gobws.(*polled).linger(")
}
