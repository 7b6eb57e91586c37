package gws_test

import (
	"bytes"
	"compress/flate"
	"context"
	"net"
	"net/http"
	"runtime"
	"testing"
	"time"

	"github.com/websock-go/websock/adapters/gws"
	"github.com/websock-go/websock/websock"
)

// deflated returns p compressed as a permessage-deflate message without
// context takeover: a sync flush, its 4-byte tail taken off.
func deflated(t *testing.T, p []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	w, err := flate.NewWriter(&b, flate.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(p)
	w.Flush()
	return b.Bytes()[:b.Len()-4]
}

func liveHeap() uint64 {
	var m runtime.MemStats
	for range 3 {
		runtime.GC()
	}
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestInflateBuffersReleased: after connections that sent inflate bombs
// and large compressed messages have ended, the live heap is back within
// a few MiB of what it was before them. gws (v1.8.9) inflates into a
// buffer of the decompressor the connection shares with others (32 of
// them, by default, per upgrader), grown to the largest message inflated
// and shrunk only when that decompressor next inflates: without the
// adapter's release, each one keeps up to twice MaxMessageSize.
func TestInflateBuffersReleased(t *testing.T) {
	const max = 1 << 20
	h, err := gws.New(func(*websock.Request) (websock.Handler, error) {
		return websock.HandlerFunc(func(f websock.Frame) websock.Result { return websock.Push(f) }), nil
	}, &gws.Options{Compression: true, MaxMessageSize: max})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	go srv.Serve(ln)
	t.Cleanup(func() {
		h.Shutdown(context.Background())
		srv.Shutdown(context.Background())
	})
	addr := ln.Addr().String()
	ended := func() {
		for deadline := time.Now().Add(time.Minute); h.Live() > 0; time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%d connections still live a minute after their clients closed", h.Live())
			}
		}
	}
	bomb := deflated(t, make([]byte, 2*max))               // inflates past MaxMessageSize: 1009
	large := deflated(t, bytes.Repeat([]byte("a"), max-1)) // inflates to one byte under it: echoed
	nc, br := dial(t, addr, true, frame(0xc2, deflated(t, []byte("warm up"))))
	next(t, br)
	nc.Close()
	ended()
	base := liveHeap()
	for i := range 64 { // every decompressor of the pool, twice over
		payload := bomb
		if i%2 == 1 {
			payload = large
		}
		nc, br := dial(t, addr, true, frame(0xc2, payload))
		if i%2 == 0 {
			wantClose(t, br, 1009)
		} else if b0, _ := next(t, br); b0&0x0f != 0x2 {
			t.Fatalf("the large message was answered with opcode %d, want its echo", b0&0x0f)
		}
		nc.Close()
	}
	ended()
	held := int64(liveHeap()) - int64(base)
	t.Logf("after 64 connections with %d MiB inflated each: %d KiB more live heap than before them", max>>20, held>>10)
	if held > 8<<20 {
		t.Errorf("after the connections ended, %d MiB more live heap than before them; want at most 8 MiB (gws's decompressors keep what they inflated)", held>>20)
	}
}
