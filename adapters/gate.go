package adapters

import (
	"fmt"
	"net"
	"os"
	"sync"
	"time"
)

// DefaultWriteGateBytes is the high-water mark of a [WriteGate] when the
// adapter sets none: 1 MiB, about what a socket's send buffer and a
// blocking library's write buffer hold together. A single write larger
// than it still goes through once nothing else is queued.
const DefaultWriteGateBytes = 1 << 20

// WriteGate gives the writes of a library that never blocks (it queues
// what it cannot write at once, without limit, as
// github.com/lesismal/nbio does) the backpressure of a blocking write:
// the Transport calls [WriteGate.Admit] before each write, which waits
// while more than a high-water mark of bytes, or more than
// Options.MailboxSize frames, are queued in the library and not yet on
// the wire; and reports what the library says it wrote with
// [WriteGate.Written]. A wait ends at the write deadline the engine set
// (Options.WriteTimeout, or a Shutdown's deadline), failing the write as
// a blocking write would time out, so that a peer that stops reading is
// noticed, and the library's queue stays bounded.
//
// Its methods may be called from any goroutine.
type WriteGate struct {
	high   int
	frames int

	mu       sync.Mutex
	queued   int // bytes handed to the library, not yet reported written
	pending  []int
	deadline time.Time
	closed   bool
	changed  chan struct{} // made by a wait, closed when queued falls or the gate closes; nil when none waits
}

// ErrWriteGateClosed is what [WriteGate.Admit] returns once the gate was
// closed (the connection is closing).
var ErrWriteGateClosed = fmt.Errorf("websock: write gate closed: %w", net.ErrClosed)

// NewWriteGate returns a WriteGate for a connection served with o (the
// engine's Options): its high-water mark is highBytes, or
// DefaultWriteGateBytes when that is 0; it lets through at most Options.MailboxSize frames queued at once.
func NewWriteGate(o Options, highBytes int) *WriteGate {
	if highBytes <= 0 {
		highBytes = DefaultWriteGateBytes
	}
	frames := o.MailboxSize
	if frames <= 0 {
		frames = DefaultMailboxSize
	}
	return &WriteGate{high: highBytes, frames: frames}
}

// SetDeadline sets when the waits of Admit that follow give up; the zero
// time means never. A Transport calls it from its SetWriteDeadline.
func (g *WriteGate) SetDeadline(t time.Time) {
	g.mu.Lock()
	g.deadline = t
	g.wakeLocked()
	g.mu.Unlock()
}

// Admit waits until a write of n bytes may be handed to the library: at
// once while the library holds at most the high-water mark and fewer
// frames than Options.MailboxSize, or else once it reports enough
// written. It then counts the n bytes as queued. It returns an error
// wrapping os.ErrDeadlineExceeded when the deadline passes first, and
// ErrWriteGateClosed once the gate is closed.
func (g *WriteGate) Admit(n int) error {
	g.mu.Lock()
	for {
		switch {
		case g.closed:
			g.mu.Unlock()
			return ErrWriteGateClosed
		case g.queued == 0 || (g.queued+n <= g.high && len(g.pending) < g.frames):
			g.queued += n
			g.pending = append(g.pending, n)
			g.mu.Unlock()
			return nil
		case !g.deadline.IsZero() && !time.Now().Before(g.deadline):
			q := g.queued
			g.mu.Unlock()
			return fmt.Errorf("websock: the peer is not reading: %d bytes still queued in the library at the write deadline: %w", q, os.ErrDeadlineExceeded)
		}
		if g.changed == nil {
			g.changed = make(chan struct{})
		}
		changed, deadline := g.changed, g.deadline
		g.mu.Unlock()
		if deadline.IsZero() {
			<-changed
		} else {
			t := time.NewTimer(time.Until(deadline))
			select {
			case <-changed:
			case <-t.C:
			}
			t.Stop()
		}
		g.mu.Lock()
	}
}

// Written reports that the library wrote n more bytes of what was
// admitted (nbio's OnWrittenSize reports them as they go).
func (g *WriteGate) Written(n int) {
	if n <= 0 {
		return
	}
	g.mu.Lock()
	g.queued = max(0, g.queued-n)
	for n > 0 && len(g.pending) > 0 {
		k := min(n, g.pending[0])
		g.pending[0] -= k
		n -= k
		if g.pending[0] == 0 {
			g.pending = g.pending[1:]
		}
	}
	if len(g.pending) == 0 {
		g.pending = nil
	}
	g.wakeLocked()
	g.mu.Unlock()
}

// Queued returns how many admitted bytes the library has not reported
// written.
func (g *WriteGate) Queued() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.queued
}

// Close fails every wait, now and from then on.
func (g *WriteGate) Close() {
	g.mu.Lock()
	g.closed = true
	g.wakeLocked()
	g.mu.Unlock()
}

func (g *WriteGate) wakeLocked() {
	if g.changed != nil {
		close(g.changed)
		g.changed = nil
	}
}
