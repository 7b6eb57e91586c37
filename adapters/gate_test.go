package adapters_test

import (
	"errors"
	"os"
	"testing"
	"time"

	"github.com/websock-go/websock/adapters"
)

// TestWriteGateHighWater checks that Admit lets writes through up to the
// high-water mark, waits above it until Written makes room, and fails at
// the deadline or once closed.
func TestWriteGateHighWater(t *testing.T) {
	g := adapters.NewWriteGate(adapters.Options{}, 100)
	if err := g.Admit(60); err != nil {
		t.Fatalf("first Admit: %v", err)
	}
	if err := g.Admit(40); err != nil {
		t.Fatalf("Admit up to the mark: %v", err)
	}
	admitted := make(chan error, 1)
	go func() { admitted <- g.Admit(10) }()
	select {
	case err := <-admitted:
		t.Fatalf("Admit above the mark returned %v before anything was written", err)
	case <-time.After(20 * time.Millisecond):
	}
	g.Written(60)
	if err := <-admitted; err != nil {
		t.Fatalf("Admit once room was made: %v", err)
	}
	if q := g.Queued(); q != 50 {
		t.Fatalf("Queued = %d; want 50", q)
	}

	g.SetDeadline(time.Now().Add(-time.Second))
	if err := g.Admit(100); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Admit past the deadline = %v; want os.ErrDeadlineExceeded", err)
	}
	g.SetDeadline(time.Time{})
	waiting := make(chan error, 1)
	go func() { waiting <- g.Admit(100) }()
	g.Close()
	if err := <-waiting; !errors.Is(err, adapters.ErrWriteGateClosed) {
		t.Fatalf("Admit on a closed gate = %v; want ErrWriteGateClosed", err)
	}
}

// TestWriteGateFrames checks that at most Options.MailboxSize frames are
// queued at once, and that one write larger than the mark goes through
// when nothing else is queued.
func TestWriteGateFrames(t *testing.T) {
	g := adapters.NewWriteGate(adapters.Options{MailboxSize: 2}, 1<<20)
	for i := range 2 {
		if err := g.Admit(1); err != nil {
			t.Fatalf("Admit %d: %v", i, err)
		}
	}
	g.SetDeadline(time.Now().Add(-time.Second))
	if err := g.Admit(1); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("a third frame = %v; want a wait that ends at the deadline", err)
	}
	g.Written(2)
	if err := g.Admit(4 << 20); err != nil {
		t.Fatalf("a write over the mark with nothing queued: %v", err)
	}
}
