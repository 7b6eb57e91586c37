package adapters_test

import (
	"errors"
	"io"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/websock-go/websock/adapters"
	"github.com/websock-go/websock/websock"
)

// memPush is a PushTransport whose writes go nowhere: its library is the
// test, which pushes into the Inbox itself.
type memPush struct {
	in     *adapters.Inbox
	once   sync.Once
	closed chan struct{}
}

func (m *memPush) Inbox() *adapters.Inbox                     { return m.in }
func (m *memPush) WriteFrame(websock.Opcode, []byte) error    { return nil }
func (m *memPush) WriteClose(websock.CloseCode, string) error { return nil }
func (m *memPush) SetWriteDeadline(time.Time) error           { return nil }
func (m *memPush) Close() error {
	m.once.Do(func() {
		close(m.closed)
		m.in.End(io.EOF) // what a library's close callback does
	})
	return nil
}

// gated is a handler whose HandleIn waits for release, and records what
// it got.
type gated struct {
	release chan struct{}
	mu      sync.Mutex
	got     []string
	reason  websock.Reason
}

func (h *gated) Init(websock.Conn) websock.Result { return websock.OK() }
func (h *gated) HandleIn(f websock.Frame) websock.Result {
	<-h.release
	h.mu.Lock()
	h.got = append(h.got, string(f.Data))
	h.mu.Unlock()
	return websock.OK()
}
func (h *gated) HandleInfo(any) websock.Result { return websock.OK() }
func (h *gated) Terminate(r websock.Reason)    { h.reason = r }

// TestInboxPausesAndOrders checks that messages pushed from the
// library's goroutine reach HandleIn in order, on the actor, that the
// Inbox asks the library to pause while HandleIn is slow and to resume
// once it caught up, and that End ends the connection with no goroutine
// left.
func TestInboxPausesAndOrders(t *testing.T) {
	defer goleak.VerifyNone(t)
	e, err := adapters.NewEngine(adapters.Adapter{Name: "mem", EventDriven: true}, nil, &adapters.Options{IdleTimeout: -1, PingInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	m := &memPush{in: adapters.NewInbox(nil), closed: make(chan struct{})}
	pauses := make(chan bool, 4)
	m.in.PauseAbove(10, func(stop bool) { pauses <- stop })
	h := &gated{release: make(chan struct{})}
	done := make(chan websock.Reason, 1)
	e.Start(m, h, &websock.ConnInfo{}, func(r websock.Reason) { done <- r })

	for _, s := range []string{"one", "two", "three", "four"} { // 15 bytes: over the mark
		m.in.Message(websock.OpText, []byte(s), false)
	}
	if stop := <-pauses; !stop {
		t.Fatal("the Inbox asked to resume before it asked to pause")
	}
	close(h.release)
	if stop := <-pauses; stop {
		t.Fatal("the Inbox asked to pause twice")
	}
	m.Close()
	r := <-done
	if !errors.Is(r, websock.ErrConnectionLost) {
		t.Errorf("Reason %v; want the connection lost (End with io.EOF)", r)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.got) != 4 || h.got[0] != "one" || h.got[3] != "four" {
		t.Errorf("HandleIn got %q; want the four messages in order", h.got)
	}
}
