package adapters_test

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/websock-go/websock/conformance/reference"
	"github.com/websock-go/websock/websock"
)

// The engine's lifecycle, checked directly on the reference adapter, which
// needs no WebSocket library and no network.

// recorder is a Handler that echoes and records its callbacks in order.
type recorder struct {
	mu         sync.Mutex
	calls      []string
	reason     websock.Reason
	terminated chan struct{} // closed by the first Terminate
	abandoned  chan error
}

func newRecorder() *recorder {
	return &recorder{terminated: make(chan struct{}), abandoned: make(chan error, 1)}
}

func (r *recorder) record(call string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, call)
}

func (r *recorder) log() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.calls)
}

func (r *recorder) Init(websock.Conn) websock.Result { r.record("Init"); return websock.OK() }
func (r *recorder) HandleIn(f websock.Frame) websock.Result {
	r.record("HandleIn")
	return websock.Push(f)
}
func (r *recorder) HandleInfo(any) websock.Result { r.record("HandleInfo"); return websock.OK() }
func (r *recorder) Abandon(err error)             { r.record("Abandon"); r.abandoned <- err }

func (r *recorder) Terminate(reason websock.Reason) {
	r.record("Terminate")
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.reason.Kind == 0 {
		r.reason = reason
		close(r.terminated)
	}
}

// waitTerminate waits for r's Terminate and returns its reason.
func (r *recorder) waitTerminate(t *testing.T) websock.Reason {
	t.Helper()
	select {
	case <-r.terminated:
	case <-time.After(10 * time.Second):
		t.Fatal("Terminate was not called within 10s")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.reason
}

// start returns a reference Handler that accepts through accept, shut
// down when the test ends; no goroutine may outlive it.
func start(t *testing.T, accept websock.AcceptFunc) *reference.Handler {
	t.Helper()
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) })
	ws, err := reference.New(accept, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := ws.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	return ws
}

// client is a minimal WebSocket client over an in-memory connection.
type client struct {
	nc net.Conn
	br *bufio.Reader
}

const upgradeRequest = "GET / HTTP/1.1\r\nHost: reference\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
	"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"

// upgrade sends the upgrade request on nc and reads the 101 answer.
func upgrade(t *testing.T, nc net.Conn) *client {
	t.Helper()
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(nc, upgradeRequest); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(nc)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("upgrade answered %v, %v; want 101", resp, err)
	}
	return &client{nc: nc, br: br}
}

// send writes one masked frame.
func (c *client) send(t *testing.T, op byte, payload []byte) {
	t.Helper()
	key := [4]byte{1, 2, 3, 4}
	frame := append([]byte{0x80 | op, 0x80 | byte(len(payload))}, key[:]...)
	for i, b := range payload {
		frame = append(frame, b^key[i&3])
	}
	if _, err := c.nc.Write(frame); err != nil {
		t.Fatal(err)
	}
}

// read reads one short unmasked frame.
func (c *client) read(t *testing.T) (op byte, payload []byte) {
	t.Helper()
	var h [2]byte
	if _, err := io.ReadFull(c.br, h[:]); err != nil {
		t.Fatal(err)
	}
	payload = make([]byte, h[1]&0x7f)
	if _, err := io.ReadFull(c.br, payload); err != nil {
		t.Fatal(err)
	}
	return h[0] & 0x0f, payload
}

// wantClose reads the server's close frame and checks its code.
func (c *client) wantClose(t *testing.T, code websock.CloseCode) {
	t.Helper()
	op, p := c.read(t)
	if op != 0x8 || len(p) < 2 || websock.CloseCode(binary.BigEndian.Uint16(p)) != code {
		t.Fatalf("got frame %#x %q; want close %d", op, p, code)
	}
}

func TestTerminateOnceAndLast(t *testing.T) {
	r := newRecorder()
	ws := start(t, func(*websock.Request) (websock.Handler, error) { return r, nil })
	nc, err := ws.Dial(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	c := upgrade(t, nc)
	c.send(t, 0x1, []byte("hi"))
	if op, p := c.read(t); op != 0x1 || string(p) != "hi" {
		t.Fatalf("got %#x %q; want the echo", op, p)
	}
	c.send(t, 0x8, binary.BigEndian.AppendUint16(nil, 4000))
	c.wantClose(t, 4000)
	reason := r.waitTerminate(t)
	if reason.Kind != websock.KindRemote || reason.Code != 4000 {
		t.Errorf("Terminate got %v; want Remote with 4000", reason)
	}
	// Shutdown returns once every connection has ended: nothing runs
	// after it.
	if err := ws.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got, want := r.log(), []string{"Init", "HandleIn", "Terminate"}; !slices.Equal(got, want) {
		t.Errorf("callbacks %q; want %q: Terminate once, and last", got, want)
	}
	if n := ws.Live(); n != 0 {
		t.Errorf("Live() = %d after the connection ended; want 0", n)
	}
}

func TestShutdownTerminatesLiveConnection(t *testing.T) {
	r := newRecorder()
	ws := start(t, func(*websock.Request) (websock.Handler, error) { return r, nil })
	nc, err := ws.Dial(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	c := upgrade(t, nc)
	c.send(t, 0x1, []byte("hi"))
	c.read(t) // the echo: the connection runs
	if n := ws.Live(); n != 1 {
		t.Fatalf("Live() = %d; want 1", n)
	}
	done := make(chan error, 1)
	go func() { done <- ws.Shutdown(context.Background()) }()
	c.wantClose(t, websock.CloseGoingAway)
	c.send(t, 0x8, binary.BigEndian.AppendUint16(nil, 1001))
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// Shutdown returned, so Terminate has run.
	select {
	case <-r.terminated:
	default:
		t.Fatal("Shutdown returned before Terminate")
	}
	if reason := r.waitTerminate(t); reason.Kind != websock.KindShutdown || !errors.Is(reason, websock.ErrShutdown) {
		t.Errorf("Terminate got %v; want Shutdown wrapping ErrShutdown", reason)
	}
	if _, err := ws.Dial(context.Background()); err == nil {
		t.Error("Dial succeeded after Shutdown; want it refused")
	}
	if got, want := r.log(), []string{"Init", "HandleIn", "Terminate"}; !slices.Equal(got, want) {
		t.Errorf("callbacks %q; want %q", got, want)
	}
}

// TestAbandonWhenUpgradeFails makes the upgrade fail after the AcceptFunc
// returned a Handler: the client goes away before the server's 101, whose
// write then fails. The Handler gets Abandon, and never Init or Terminate.
func TestAbandonWhenUpgradeFails(t *testing.T) {
	r := newRecorder()
	clients := make(chan net.Conn, 1)
	ws := start(t, func(*websock.Request) (websock.Handler, error) {
		(<-clients).Close()
		return r, nil
	})
	nc, err := ws.Dial(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	clients <- nc
	if _, err := io.WriteString(nc, upgradeRequest); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-r.abandoned:
		if !errors.Is(err, io.ErrClosedPipe) {
			t.Errorf("Abandon got %v; want the failed write's error", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Abandon was not called within 10s of a failed upgrade")
	}
	if err := ws.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got, want := r.log(), []string{"Abandon"}; !slices.Equal(got, want) {
		t.Errorf("callbacks %q; want %q: a Handler that never starts gets Abandon only", got, want)
	}
}

// infoHandler changes its connection's info in Init, then reports the
// info HandleIn sees.
type infoHandler struct {
	conn  websock.Conn
	infos chan [2]*websock.ConnInfo
}

func (h *infoHandler) Init(c websock.Conn) websock.Result {
	h.conn = c
	info := c.Info()
	info.Header.Set("X-Set-In-Init", "kept")
	info.URL.RawQuery = "changed=1"
	info.Subprotocol = "set-in-init"
	return websock.OK()
}

func (h *infoHandler) HandleIn(f websock.Frame) websock.Result {
	h.infos <- [2]*websock.ConnInfo{h.conn.Info(), h.conn.Info()}
	return websock.Push(f)
}

func (h *infoHandler) HandleInfo(any) websock.Result { return websock.OK() }
func (h *infoHandler) Terminate(websock.Reason)      {}

// TestInfoAfterInit: once Init has returned, Info gives the upgrade
// request's headers and URL, with the changes Init made, and the same
// pointer on each call.
func TestInfoAfterInit(t *testing.T) {
	h := &infoHandler{infos: make(chan [2]*websock.ConnInfo, 1)}
	ws := start(t, func(*websock.Request) (websock.Handler, error) { return h, nil })
	nc, err := ws.Dial(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	c := upgrade(t, nc)
	c.send(t, 0x1, []byte("hi"))
	c.read(t)
	infos := <-h.infos
	info := infos[0]
	if infos[1] != info {
		t.Errorf("two calls of Info after Init gave %p and %p; want the same ConnInfo", info, infos[1])
	}
	want := http.Header{
		"Upgrade": {"websocket"}, "Connection": {"Upgrade"},
		"Sec-Websocket-Key": {"dGhlIHNhbXBsZSBub25jZQ=="}, "Sec-Websocket-Version": {"13"},
		"X-Set-In-Init": {"kept"},
	}
	for k, vs := range want {
		if got := info.Header[k]; !slices.Equal(got, vs) {
			t.Errorf("Info().Header[%q] = %q after Init; want %q", k, got, vs)
		}
	}
	if len(info.Header) != len(want) {
		t.Errorf("Info().Header after Init = %v; want %v", info.Header, want)
	}
	if info.URL == nil || info.URL.Path != "/" || info.URL.RawQuery != "changed=1" {
		t.Errorf("Info().URL after Init = %v; want / with the query Init set", info.URL)
	}
	if info.Subprotocol != "set-in-init" || info.Adapter == "" {
		t.Errorf("Info() after Init = %+v; want the subprotocol Init set and the adapter's name", info)
	}
	c.send(t, 0x8, binary.BigEndian.AppendUint16(nil, 1000))
	c.wantClose(t, 1000)
}
