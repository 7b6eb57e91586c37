package adapters

import (
	"errors"
	"io"
	"log/slog"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/websock-go/websock/websock"
)

func TestMailboxRing(t *testing.T) {
	var m mailbox
	next, want := 0, 0
	for round := 0; round < 50; round++ {
		for i := 0; i < round%7+1; i++ { // push a few, pop fewer: the ring wraps and grows
			m.push(next)
			next++
		}
		for i := 0; i < round%3+1 && m.len() > 0; i++ {
			if got := m.pop().(int); got != want {
				t.Fatalf("popped %d; want %d (first in, first out)", got, want)
			}
			want++
		}
	}
	for m.len() > 0 {
		if got := m.pop().(int); got != want {
			t.Fatalf("popped %d; want %d", got, want)
		}
		want++
	}
	if want != next {
		t.Fatalf("popped %d messages; pushed %d", want, next)
	}
	if len(m.buf) > mailboxKeep {
		t.Errorf("an empty mailbox kept a ring of %d slots; want at most %d", len(m.buf), mailboxKeep)
	}
}

// memTransport is a Transport with no peer: Read waits until Close, and
// writes succeed.
type memTransport struct {
	once   sync.Once
	closed chan struct{}
	codes  chan websock.CloseCode // the codes of the close frames written, if not nil
}

func newMemTransport() *memTransport { return &memTransport{closed: make(chan struct{})} }

func (t *memTransport) Read(Events) error                       { <-t.closed; return io.EOF }
func (t *memTransport) WriteFrame(websock.Opcode, []byte) error { return nil }
func (t *memTransport) WriteClose(code websock.CloseCode, _ string) error {
	if t.codes != nil {
		t.codes <- code
	}
	return nil
}
func (t *memTransport) SetWriteDeadline(time.Time) error { return nil }
func (t *memTransport) Close() error                     { t.once.Do(func() { close(t.closed) }); return nil }

// infoCounter hands its Conn out and counts HandleInfo calls.
type infoCounter struct {
	conn chan websock.Conn
	mu   sync.Mutex
	n    int
}

func (h *infoCounter) Init(c websock.Conn) websock.Result { h.conn <- c; return websock.OK() }
func (h *infoCounter) HandleIn(websock.Frame) websock.Result {
	return websock.OK()
}
func (h *infoCounter) HandleInfo(any) websock.Result {
	h.mu.Lock()
	h.n++
	h.mu.Unlock()
	runtime.Gosched() // slower than the producer: the mailbox stays busy
	return websock.OK()
}
func (h *infoCounter) Terminate(websock.Reason) {}

func (h *infoCounter) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.n
}

func heapInUse() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// TestMailboxSteadyStreamHeap keeps the mailbox busy with a long stream of
// messages and checks that the heap it leaves behind follows the messages
// queued, not the number ever sent.
func TestMailboxSteadyStreamHeap(t *testing.T) {
	const total = 300_000
	e, err := NewEngine(Adapter{Name: "mem"}, nil, &Options{MailboxSize: 128, IdleTimeout: -1, PingInterval: -1,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	h := &infoCounter{conn: make(chan websock.Conn, 1)}
	tr := newMemTransport()
	done := make(chan websock.Reason, 1)
	go func() { done <- e.Run(tr, h, &websock.ConnInfo{}) }()
	conn := <-h.conn

	before := heapInUse()
	msg := &struct{}{}
	deadline := time.Now().Add(60 * time.Second)
	for sent := 0; sent < total; {
		switch err := conn.Send(msg); {
		case err == nil:
			sent++
		case errors.Is(err, websock.ErrMailboxFull):
			runtime.Gosched()
		default:
			t.Fatal(err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("sent %d of %d messages in 60 s", sent, total)
		}
	}
	for h.count() < total && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if got := h.count(); got != total {
		t.Fatalf("HandleInfo ran %d times; want %d", got, total)
	}
	after := heapInUse()
	if grown := int64(after) - int64(before); grown > 1<<20 {
		t.Errorf("the heap grew by %d bytes after %d messages passed through a mailbox of 128; want it to follow what is queued (under 1 MiB)", grown, total)
	}
	tr.Close()
	<-done
}
