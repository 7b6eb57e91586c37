package adapters_test

import (
	"errors"
	"io"
	"log/slog"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/websock-go/websock/adapters"
	"github.com/websock-go/websock/websock"
)

// Microbenchmarks of the engine's hot path over an in-memory Transport:
// no network, no library, only what the engine does per message. Each
// benchmark times (and counts the allocations of) the steady state only:
// the fake transport starts the timer when it hands out the first message
// and stops it when it reports the end of the connection, so Init, setup
// and Terminate are left out. Run them with
//
//	go test -run '^$' -bench . -benchmem ./adapters/
//
// A pushed single frame must not allocate: every benchmark here should
// report 0 allocs/op.

// benchTransport returns msg from ReadMessage n times, then an error
// (io.EOF: the connection was lost), and counts the frames written. It
// starts b's timer at the first ReadMessage and stops it at the last.
type benchTransport struct {
	b      *testing.B
	op     websock.Opcode
	msg    []byte
	n      int
	reads  int
	writes atomic.Int64
	// block, when set, makes ReadMessage wait for it to close instead of
	// returning msg (for benchmarks that only Send).
	block chan struct{}
}

var _ adapters.Transport = (*benchTransport)(nil)

func (t *benchTransport) Read(ev adapters.Events) error {
	return adapters.ReadMessages(ev, t.readMessage)
}

func (t *benchTransport) readMessage() (websock.Opcode, []byte, error) {
	if t.block != nil {
		<-t.block
		return 0, nil, io.EOF
	}
	if t.reads == 0 {
		t.b.ResetTimer()
		t.b.StartTimer()
	}
	if t.reads == t.n {
		t.b.StopTimer()
		return 0, nil, io.EOF
	}
	t.reads++
	return t.op, t.msg, nil
}

func (t *benchTransport) WriteFrame(websock.Opcode, []byte) error {
	t.writes.Add(1)
	return nil
}

func (t *benchTransport) WriteClose(websock.CloseCode, string) error { return nil }
func (t *benchTransport) SetWriteDeadline(time.Time) error           { return nil }
func (t *benchTransport) Close() error                               { return nil }

// benchOptions are the defaults, with the idle timeout off (no timer) and
// nothing logged.
func benchOptions() *adapters.Options {
	return &adapters.Options{IdleTimeout: -1, PingInterval: -1, Logger: slog.New(slog.DiscardHandler)}
}

// benchServe runs h over a benchTransport that delivers n copies of msg, and
// returns the transport.
func benchServe(b *testing.B, opts *adapters.Options, h websock.Handler, op websock.Opcode, msg []byte, n int) *benchTransport {
	b.Helper()
	b.StopTimer()
	e, err := adapters.NewEngine(adapters.Adapter{Name: "bench"}, nil, opts)
	if err != nil {
		b.Fatal(err)
	}
	tr := &benchTransport{b: b, op: op, msg: msg, n: n}
	if r := e.Run(tr, h, &websock.ConnInfo{}); !errors.Is(r, websock.ErrConnectionLost) {
		b.Fatalf("connection ended with %v; want ErrConnectionLost", r)
	}
	return tr
}

var benchEcho = websock.HandlerFunc(func(f websock.Frame) websock.Result { return websock.Push(f) })

// BenchmarkServeEcho is one message in, dispatched to HandleIn, and the
// one frame it pushes written: the whole per-message path of an echo
// server, with the default write timeout (a deadline set per write).
func BenchmarkServeEcho(b *testing.B) {
	for _, tc := range []struct {
		name string
		op   websock.Opcode
		size int
	}{{"binary-1KiB", websock.OpBinary, 1 << 10}, {"text-1KiB", websock.OpText, 1 << 10}, {"binary-64KiB", websock.OpBinary, 64 << 10}} {
		b.Run(tc.name, func(b *testing.B) {
			msg := make([]byte, tc.size)
			for i := range msg {
				msg[i] = 'a' + byte(i%26) // valid UTF-8 for the text case
			}
			b.ReportAllocs()
			tr := benchServe(b, benchOptions(), benchEcho, tc.op, msg, b.N)
			if got := tr.writes.Load(); got != int64(b.N) {
				b.Fatalf("%d frames written; want %d", got, b.N)
			}
		})
	}
}

// BenchmarkServeEchoNoTimeouts is BenchmarkServeEcho with the options the
// websock-bench command uses: no write deadline, no UTF-8 check.
func BenchmarkServeEchoNoTimeouts(b *testing.B) {
	opts := benchOptions()
	opts.WriteTimeout = -1
	opts.SkipUTF8Validation = true
	b.ReportAllocs()
	tr := benchServe(b, opts, benchEcho, websock.OpBinary, make([]byte, 1<<10), b.N)
	if got := tr.writes.Load(); got != int64(b.N) {
		b.Fatalf("%d frames written; want %d", got, b.N)
	}
}

// BenchmarkServeDispatch is one message dispatched to a HandleIn that
// returns OK: the read loop alone.
func BenchmarkServeDispatch(b *testing.B) {
	ok := websock.HandlerFunc(func(websock.Frame) websock.Result { return websock.OK() })
	b.ReportAllocs()
	tr := benchServe(b, benchOptions(), ok, websock.OpBinary, make([]byte, 1<<10), b.N)
	if got := tr.writes.Load(); got != 0 {
		b.Fatalf("%d frames written; want none", got)
	}
}

// benchPushInfo pushes the message Conn.Send delivered to HandleInfo.
type benchPushInfo struct {
	conn  chan websock.Conn
	frame websock.Frame
}

func (h *benchPushInfo) Init(c websock.Conn) websock.Result    { h.conn <- c; return websock.OK() }
func (h *benchPushInfo) HandleIn(websock.Frame) websock.Result { return websock.OK() }
func (h *benchPushInfo) HandleInfo(any) websock.Result         { return websock.Push(h.frame) }
func (h *benchPushInfo) Terminate(websock.Reason)              {}

// benchWaitWrites waits until tr has written n frames, for at most 10 s.
func benchWaitWrites(b *testing.B, tr *benchTransport, n int64) {
	deadline := time.Now().Add(10 * time.Second)
	for tr.writes.Load() < n {
		if time.Now().After(deadline) {
			b.Fatalf("%d frames written after 10 s; want %d", tr.writes.Load(), n)
		}
		runtime.Gosched()
	}
}

// BenchmarkSendInfo is one Conn.Send from another goroutine, delivered to
// HandleInfo, and the frame it pushes written: the fan-out path. The
// message is a pointer, so passing it as an any does not allocate.
func BenchmarkSendInfo(b *testing.B) { benchSendInfo(b, benchOptions()) }

func benchSendInfo(b *testing.B, opts *adapters.Options) {
	h := &benchPushInfo{conn: make(chan websock.Conn, 1), frame: websock.Binary(make([]byte, 256))}
	e, err := adapters.NewEngine(adapters.Adapter{Name: "bench"}, nil, opts)
	if err != nil {
		b.Fatal(err)
	}
	tr := &benchTransport{b: b, block: make(chan struct{})}
	done := make(chan websock.Reason)
	go func() { done <- e.Run(tr, h, &websock.ConnInfo{}) }()
	conn := <-h.conn
	msg := &struct{}{}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for {
			err := conn.Send(msg)
			if err == nil {
				break
			}
			if !errors.Is(err, websock.ErrMailboxFull) {
				b.Fatal(err)
			}
			benchWaitWrites(b, tr, int64(i)-adapters.DefaultMailboxSize/2) // let the mailbox drain
		}
	}
	benchWaitWrites(b, tr, int64(b.N))
	b.StopTimer()
	close(tr.block)
	<-done
}

// nopObserver observes everything, every message included, and does
// nothing: what the engine's hook itself costs.
type nopObserver struct{ adapters.NopObserver }

func (nopObserver) Message(adapters.MessageEvent) {}

// BenchmarkServeEchoObserved is BenchmarkServeEcho/binary-1KiB with an
// Observer that wants every message: the hook must add no allocation.
func BenchmarkServeEchoObserved(b *testing.B) {
	opts := benchOptions()
	opts.Observer = nopObserver{}
	b.ReportAllocs()
	tr := benchServe(b, opts, benchEcho, websock.OpBinary, make([]byte, 1<<10), b.N)
	if got := tr.writes.Load(); got != int64(b.N) {
		b.Fatalf("%d frames written; want %d", got, b.N)
	}
}

// BenchmarkServeDispatchObserved is BenchmarkServeDispatch with an
// Observer that wants every message.
func BenchmarkServeDispatchObserved(b *testing.B) {
	opts := benchOptions()
	opts.Observer = nopObserver{}
	ok := websock.HandlerFunc(func(websock.Frame) websock.Result { return websock.OK() })
	b.ReportAllocs()
	tr := benchServe(b, opts, ok, websock.OpBinary, make([]byte, 1<<10), b.N)
	if got := tr.writes.Load(); got != 0 {
		b.Fatalf("%d frames written; want none", got)
	}
}

// BenchmarkSendInfoObserved is BenchmarkSendInfo with an Observer that
// wants every message.
func BenchmarkSendInfoObserved(b *testing.B) {
	opts := benchOptions()
	opts.Observer = nopObserver{}
	benchSendInfo(b, opts)
}
