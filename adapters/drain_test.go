package adapters_test

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/websock-go/websock/adapters"
	"github.com/websock-go/websock/conformance/reference"
	"github.com/websock-go/websock/websock"
)

// A paced drain whose batches cannot end before the context's deadline
// sends every remaining connection its close frame while there is still
// CloseTimeout left, instead of cutting them off at the deadline.
func TestDrainRushesBeforeTheDeadline(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	const conns = 3
	rs := make(chan *recorder, conns)
	obs := &drainObserver{}
	var logs lockedBuffer
	ws, err := reference.New(func(*websock.Request) (websock.Handler, error) {
		r := newRecorder()
		rs <- r
		return r, nil
	}, &reference.Options{DrainBatch: 1, DrainInterval: time.Hour, CloseTimeout: time.Second,
		Observer: obs, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	var clients []*client
	for range conns {
		nc, err := ws.Dial(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		c := upgrade(t, nc)
		c.send(t, 0x1, []byte("hi"))
		c.read(t) // the echo: the connection runs
		clients = append(clients, c)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	shut := make(chan error, 1)
	go func() { shut <- ws.Shutdown(ctx) }()
	for _, c := range clients {
		c.nc.SetDeadline(time.Now().Add(10 * time.Second))
		c.wantClose(t, websock.CloseGoingAway)
		// The reply may find the connection closed already: the first
		// batch's CloseTimeout can run out while the test reads another.
		c.nc.Write([]byte{0x88, 0x82, 0, 0, 0, 0, 0x03, 0xe9})
	}
	if err := <-shut; err != nil {
		t.Errorf("Shutdown = %v; want nil: every connection had its close frame and CloseTimeout before the deadline", err)
	}
	for range conns {
		if r := (<-rs).waitTerminate(t); r.Kind != websock.KindShutdown {
			t.Errorf("Terminate got %v; want Shutdown", r)
		}
	}

	// The drain that could not keep its pace said so, with the numbers.
	var rushed []adapters.DrainEvent
	for _, ev := range obs.events() {
		if ev.Phase == adapters.DrainRushed {
			rushed = append(rushed, ev)
		}
	}
	if len(rushed) != 1 || rushed[0].Pace == nil {
		t.Fatalf("drain events %+v; want one DrainRushed with its Pace", obs.events())
	}
	p := rushed[0].Pace
	if p.Batch != 1 || p.Interval != time.Hour || p.Paced != 1 || p.Rushed != 2 || p.Needed != 2*time.Hour || p.Allowed <= 0 || p.Allowed > 2*time.Second {
		t.Errorf("DrainRushed Pace %+v; want batch 1, interval 1h, 1 paced, 2 rushed, 2h needed, at most 2s allowed", *p)
	}
	if line := logs.String(); !strings.Contains(line, "level=WARN") || !strings.Contains(line, "cannot keep its pace") ||
		!strings.Contains(line, "rushed=2") || !strings.Contains(line, "needed=2h0m0s") {
		t.Errorf("the Logger got %q; want a Warn line with the pace's numbers", line)
	}
}

// drainObserver records the drain events.
type drainObserver struct {
	adapters.NopObserver
	mu  sync.Mutex
	evs []adapters.DrainEvent
}

func (o *drainObserver) Drain(ev adapters.DrainEvent) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.evs = append(o.evs, ev)
}

func (o *drainObserver) events() []adapters.DrainEvent {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]adapters.DrainEvent(nil), o.evs...)
}

// lockedBuffer collects log lines written from several goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
