package adapters_test

import (
	"errors"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/websock-go/websock/adapters"
	"github.com/websock-go/websock/websock"
)

// writeLog is a Transport that reads one message and records what the
// engine writes.
type writeLog struct {
	mu     sync.Mutex
	frames []string // "op:data" of every WriteFrame
	read   bool
}

func (t *writeLog) Read(ev adapters.Events) error {
	return adapters.ReadMessages(ev, func() (websock.Opcode, []byte, error) {
		if t.read {
			return 0, nil, io.EOF
		}
		t.read = true
		return websock.OpText, []byte("go"), nil
	})
}

func (t *writeLog) WriteFrame(op websock.Opcode, data []byte) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.frames = append(t.frames, op.String()+":"+string(data))
	return nil
}

func (t *writeLog) WriteClose(websock.CloseCode, string) error { return nil }
func (t *writeLog) SetWriteDeadline(time.Time) error           { return nil }
func (t *writeLog) Close() error                               { return nil }

// preparedLog is a writeLog that is also a PreparedWriter.
type preparedLog struct {
	writeLog
	prepared []*websock.Prepared
}

func (t *preparedLog) WritePrepared(p *websock.Prepared) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.prepared = append(t.prepared, p)
	return nil
}

// TestPreparedWrites checks that the engine hands a prepared frame to a
// PreparedWriter, and to WriteFrame, as its message, on a Transport that
// is not one; other frames go to WriteFrame either way.
func TestPreparedWrites(t *testing.T) {
	p := websock.NewPrepared(websock.OpBinary, []byte("shared"))
	h := websock.HandlerFunc(func(websock.Frame) websock.Result {
		f := p.Frame()
		f.Op = websock.OpClose // ignored: a Frame made by Prepared.Frame writes p
		return websock.Push(websock.TextString("plain"), f)
	})
	run := func(tr adapters.Transport) {
		t.Helper()
		e, err := adapters.NewEngine(adapters.Adapter{Name: "test"}, nil, benchOptions())
		if err != nil {
			t.Fatal(err)
		}
		if r := e.Run(tr, h, &websock.ConnInfo{}); !errors.Is(r, websock.ErrConnectionLost) {
			t.Fatalf("connection ended with %v; want ErrConnectionLost", r)
		}
	}

	pw := &preparedLog{}
	run(pw)
	if len(pw.prepared) != 1 || pw.prepared[0] != p {
		t.Errorf("WritePrepared got %v; want the pushed Prepared once", pw.prepared)
	}
	if len(pw.frames) != 1 || pw.frames[0] != "text:plain" {
		t.Errorf("WriteFrame got %q; want the plain frame only", pw.frames)
	}

	w := &writeLog{}
	run(w)
	if want := []string{"text:plain", "binary:shared"}; len(w.frames) != 2 || w.frames[0] != want[0] || w.frames[1] != want[1] {
		t.Errorf("WriteFrame got %q; want %q: a Transport without WritePrepared gets the message's opcode and data", w.frames, want)
	}
}

// BenchmarkServePrepared is BenchmarkServeEcho pushing a prepared message
// in place of the echo: it must not allocate either.
func BenchmarkServePrepared(b *testing.B) {
	p := websock.NewPrepared(websock.OpBinary, make([]byte, 1024))
	h := websock.HandlerFunc(func(websock.Frame) websock.Result { return websock.Push(p.Frame()) })
	b.ReportAllocs()
	tr := benchServe(b, benchOptions(), h, websock.OpBinary, []byte("x"), b.N)
	if got := tr.writes.Load(); got != int64(b.N) {
		b.Fatalf("wrote %d frames; want %d", got, b.N)
	}
}
