package gobws_test

import (
	"bytes"
	"compress/flate"
	"context"
	"io"
	"net"
	"net/http"
	"runtime"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/websock-go/websock/adapters"
	"github.com/websock-go/websock/adapters/gobws"
	"github.com/websock-go/websock/websock"
)

// idleConns is how many idle connections BenchmarkIdleConnections opens.
const idleConns = 1000

func echo(*websock.Request) (websock.Handler, error) {
	return websock.HandlerFunc(func(f websock.Frame) websock.Result { return websock.Push(f) }), nil
}

// startBench serves h on 127.0.0.1 until the benchmark ends.
func startBench(b *testing.B, h *gobws.Handler) string {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	go srv.Serve(ln)
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		h.Shutdown(ctx)
		srv.Shutdown(ctx)
	})
	return ln.Addr().String()
}

// handshake upgrades nc, holding no buffer afterwards.
func handshake(b *testing.B, nc net.Conn, addr string) {
	req := "GET / HTTP/1.1\r\nHost: " + addr + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
	if _, err := io.WriteString(nc, req); err != nil {
		b.Fatal(err)
	}
	var buf [512]byte
	n := 0
	for !bytes.Contains(buf[:n], []byte("\r\n\r\n")) {
		m, err := nc.Read(buf[n:])
		if err != nil {
			b.Fatalf("handshake: %v", err)
		}
		n += m
	}
	if !bytes.HasPrefix(buf[:n], []byte("HTTP/1.1 101")) {
		b.Fatalf("handshake answered %q", buf[:n])
	}
}

type idleCost struct{ heap, stack, goroutines float64 }

// measure opens n connections with open, waits until ready reports they
// are all set up, and returns what they hold per connection; then it
// closes them with closeAll.
func measure(n int, open func() func(), ready func() bool) idleCost {
	runtime.GC()
	runtime.GC() // twice: pools keep objects for one collection
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	g := runtime.NumGoroutine()
	closers := make([]func(), 0, n)
	for range n {
		closers = append(closers, open())
	}
	for deadline := time.Now().Add(30 * time.Second); !ready() && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond) // let every connection reach its blocking read
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&after)
	c := idleCost{
		heap:       float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / float64(n),
		stack:      float64(int64(after.StackInuse)-int64(before.StackInuse)) / float64(n),
		goroutines: float64(runtime.NumGoroutine()-g) / float64(n),
	}
	for _, close := range closers {
		close()
	}
	return c
}

// BenchmarkIdleConnections opens 1000 idle WebSocket connections over
// loopback and reports, per connection, the heap and goroutine stack it
// holds and its goroutines. Both ends of each connection are in this
// process; tcp-heap-B/conn is what a bare TCP connection pair with no
// goroutine holds on the heap, to subtract from heap-B/conn for the
// adapter's own share.
func BenchmarkIdleConnections(b *testing.B) {
	h, err := gobws.New(echo, nil)
	if err != nil {
		b.Fatal(err)
	}
	addr := startBench(b, h)

	// The baseline: bare TCP pairs, the server side accepted and held.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, idleConns)
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- nc
		}
	}()

	var ws, tcp idleCost
	for b.Loop() {
		tcp = measure(idleConns, func() func() {
			nc, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				b.Fatal(err)
			}
			return func() { nc.Close() }
		}, func() bool { return len(accepted) == idleConns })
		for range idleConns {
			(<-accepted).Close()
		}

		ws = measure(idleConns, func() func() {
			nc, err := net.Dial("tcp", addr)
			if err != nil {
				b.Fatal(err)
			}
			handshake(b, nc, addr)
			return func() { nc.Close() }
		}, func() bool { return h.Live() == idleConns })
		for deadline := time.Now().Add(30 * time.Second); h.Live() > 0 && time.Now().Before(deadline); {
			time.Sleep(10 * time.Millisecond)
		}
	}
	b.ReportMetric(ws.heap, "heap-B/conn")
	b.ReportMetric(ws.stack, "stack-B/conn")
	b.ReportMetric(ws.goroutines, "goroutines/conn")
	b.ReportMetric(tcp.heap, "tcp-heap-B/conn")
}

// BenchmarkEcho measures one 100-byte text message echoed by the server,
// with a client that allocates nothing: allocs/op are the server's.
func BenchmarkEcho(b *testing.B) {
	for _, compressed := range []bool{false, true} {
		name := "plain"
		if compressed {
			name = "deflate"
		}
		b.Run(name, func(b *testing.B) {
			h, err := gobws.New(echo, &adapters.Options{Compression: compressed})
			if err != nil {
				b.Fatal(err)
			}
			addr := startBench(b, h)
			nc, err := net.Dial("tcp", addr)
			if err != nil {
				b.Fatal(err)
			}
			defer nc.Close()
			extensions := ""
			if compressed {
				extensions = "Sec-WebSocket-Extensions: permessage-deflate\r\n"
			}
			req := "GET / HTTP/1.1\r\nHost: " + addr + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
				"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" + extensions + "\r\n"
			io.WriteString(nc, req)
			var resp [512]byte
			for n := 0; !bytes.Contains(resp[:n], []byte("\r\n\r\n")); {
				m, err := nc.Read(resp[n:])
				if err != nil {
					b.Fatal(err)
				}
				n += m
			}

			payload := bytes.Repeat([]byte("echo me "), 13)[:100]
			rsv := byte(0)
			if compressed {
				var z bytes.Buffer
				fw, _ := flate.NewWriter(&z, flate.BestSpeed)
				fw.Write(payload)
				fw.Flush()
				payload, rsv = bytes.TrimSuffix(z.Bytes(), []byte{0, 0, 0xff, 0xff}), 0x4
			}
			var frame bytes.Buffer
			f := ws.Frame{Header: ws.Header{Fin: true, Rsv: rsv, OpCode: ws.OpText, Length: int64(len(payload))}, Payload: payload}
			ws.WriteFrame(&frame, ws.MaskFrameWith(f, [4]byte{7, 7, 7, 7}))
			benchRoundTrips(b, nc, nc, frame.Bytes())
		})
	}
}

// benchRoundTrips measures round trips of the masked frame out, which
// carries 100 bytes, written to w, and its echo, a short frame read from r.
// Besides ns/op it reports cpu-ns/op, the CPU time of the whole process
// (client and server, user and system) per round trip, which other work
// on a shared machine disturbs less than the time that passes.
func benchRoundTrips(b *testing.B, w io.Writer, r io.Reader, out []byte) {
	var in [2 + 125]byte
	roundTrip := func() {
		if _, err := w.Write(out); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(r, in[:2]); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(r, in[2:2+in[1]&0x7f]); err != nil {
			b.Fatal(err)
		}
	}
	for range 100 {
		roundTrip() // warm the pools
	}
	b.ReportAllocs()
	b.SetBytes(100) // the payload before compression
	cpu := processCPU()
	for b.Loop() {
		roundTrip()
	}
	if cpu > 0 {
		b.ReportMetric(float64(processCPU()-cpu)/float64(b.N), "cpu-ns/op")
	}
}
