package conformance

import (
	"bufio"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"time"
)

// idleCost checks what an idle connection costs: the goroutines it holds,
// against what the adapter declares (adapters.Adapter.IdleGoroutines), and
// the live heap, which it logs (it varies with the runtime and the
// library's buffers, so it is reported, not judged).
func idleCost(e *env) {
	const n = 200
	accept, ch := probes(nil, false)
	srv := e.serve(accept, nil)
	u, err := url.Parse(srv.URL)
	if err != nil {
		e.Fatalf("server URL %q: %v", srv.URL, err)
	}
	baseG := settledGoroutines() - int(longPollGoroutines.Load())
	baseHeap := liveHeap()
	conns := make([]net.Conn, 0, n)
	e.Cleanup(func() {
		for _, nc := range conns {
			nc.Close()
		}
	})
	for i := 0; i < n; i++ {
		nc, err := dialIdle(u.Host)
		if err != nil {
			e.Fatalf("connection %d: %v", i, err)
		}
		conns = append(conns, nc)
		e.next(ch) // upgraded: the handler is running
	}
	perConn := float64(settledGoroutines()-int(longPollGoroutines.Load())-baseG) / n // the server's alone
	heap := float64(int64(liveHeap())-int64(baseHeap)) / n
	want := e.adapter.IdleGoroutinesOrDefault()
	e.Logf("adapter %s: an idle connection holds %.2f goroutines (declared %d) and %.0f bytes of live heap "+
		"(the test's client socket included)", e.adapter.Name, perConn, want, heap)
	if perConn > float64(want)+0.05 {
		e.Errorf("an idle connection holds %.2f goroutines; adapter %s declares %d (adapters.Adapter.IdleGoroutines): "+
			"declare what the library needs, or stop the goroutines an idle connection does not need", perConn, e.adapter.Name, want)
	} else if perConn < float64(want)-0.5 {
		e.Errorf("an idle connection holds %.2f goroutines; adapter %s declares %d (adapters.Adapter.IdleGoroutines): the declaration is stale",
			perConn, e.adapter.Name, want)
	}
}

// settledGoroutines returns the number of goroutines once it has stayed
// the same for 100ms, waiting at most 5s.
func settledGoroutines() int {
	last, same := runtime.NumGoroutine(), 0
	for deadline := time.Now().Add(5 * time.Second); same < 10 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
		if g := runtime.NumGoroutine(); g == last {
			same++
		} else {
			last, same = g, 0
		}
	}
	return last
}

// liveHeap returns the bytes of live heap after a full collection.
func liveHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// dialIdle opens a WebSocket connection to host that holds as little as
// it can on the client's side (no buffered reader is kept), so that the
// heap it adds is mostly the server's.
func dialIdle(host string) (net.Conn, error) {
	nc, err := dialHost(host)
	if err != nil {
		return nil, err
	}
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	key := make([]byte, 16)
	rand.Read(key)
	fmt.Fprintf(nc, "GET / HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n", host, base64.StdEncoding.EncodeToString(key))
	br := bufio.NewReaderSize(nc, 512)
	resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodGet})
	if err != nil {
		nc.Close()
		return nil, err
	}
	if resp.StatusCode != http.StatusSwitchingProtocols || br.Buffered() > 0 {
		nc.Close()
		return nil, fmt.Errorf("handshake answered %s with %d bytes after it; want 101 and nothing more", resp.Status, br.Buffered())
	}
	nc.SetDeadline(time.Time{})
	return nc, nil
}
