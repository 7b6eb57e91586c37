package conformance

import (
	"bytes"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/websock-go/websock/adapters"
	"github.com/websock-go/websock/websock"
)

// hostileMaxMessage is the MaxMessageSize of the HostilePeerMemory case.
const hostileMaxMessage = 64 << 10

// hostileMemoryBound is what one connection may hold, at most, whatever
// its peer does, with a MaxMessageSize of max and no compression: the
// message being read (its buffer may grow to twice what it holds), and a
// fixed allowance for the library's and the engine's buffers and
// goroutines, and the suite's client socket. The README's "Memory per
// connection" explains the terms.
func hostileMemoryBound(max int64) int64 { return 2*max + 256<<10 }

// hostilePeerMemory checks that the live heap a connection holds stays
// under hostileMemoryBound against peers that do everything they may to
// make it grow: a burst of small messages, pings whose pongs they never
// read, and a message of one byte under the maximum in small fragments,
// never finished; and that it ends the connection when the message goes
// over the maximum.
func hostilePeerMemory(e *env) {
	const n = 20
	accept, ch := probes(nil, false)
	srv := e.serve(accept, &adapters.Options{MaxMessageSize: hostileMaxMessage})
	u, err := url.Parse(srv.URL)
	if err != nil {
		e.Fatalf("server URL %q: %v", srv.URL, err)
	}
	settledGoroutines()
	base := liveHeap()
	clients := make([]*client, 0, n)
	e.Cleanup(func() {
		for _, c := range clients {
			c.close()
		}
	})
	probesSeen := make([]*probe, 0, n)
	for range n {
		nc, err := dialIdle(u.Host)
		if err != nil {
			e.Fatalf("dial: %v", err)
		}
		clients = append(clients, &client{nc: nc})
		probesSeen = append(probesSeen, e.next(ch))
	}
	var wg sync.WaitGroup
	errs := make(chan error, n)
	small := strings.Repeat("s", 100)
	frag := make([]byte, 1<<10)
	for _, c := range clients {
		wg.Add(1)
		go func(c *client) {
			defer wg.Done()
			errs <- func() error {
				for i := range 500 {
					if err := c.sendText(small); err != nil {
						return err
					}
					if i%5 == 0 {
						if err := c.send(opPing, []byte(small)); err != nil {
							return err
						}
					}
				}
				// One byte under the maximum, in 1 KiB fragments, not
				// finished.
				left := hostileMaxMessage - 1
				for first := true; left > 0; first = false {
					p := frag[:min(len(frag), left)]
					op := byte(opCont)
					if first {
						op = opBinary
					}
					if err := c.writeFrame(frame{op: op, payload: p}, false); err != nil {
						return err
					}
					left -= len(p)
				}
				return nil
			}()
		}(c)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			e.Fatalf("a hostile peer's write failed: %v (the server must keep reading: the pongs it writes fit in the socket buffers)", err)
		}
	}
	settledGoroutines()
	perConn := (int64(liveHeap()) - int64(base)) / n
	bound := hostileMemoryBound(hostileMaxMessage)
	e.Logf("adapter %s: a connection held %d bytes of live heap against a hostile peer (bound %d, MaxMessageSize %d)",
		e.adapter.Name, perConn, bound, hostileMaxMessage)
	if perConn > bound {
		e.Errorf("a connection held %d bytes of live heap against a hostile peer; the bound is %d (2 x MaxMessageSize + 256 KiB)", perConn, bound)
	}
	// One fragment more goes over the maximum: 1009, on every connection.
	// The peers never answer the close: each connection ends once the
	// close timeout passes, all at once.
	for _, c := range clients {
		if err := c.writeFrame(frame{fin: true, op: opCont, payload: []byte("xx")}, false); err != nil {
			e.Fatalf("write: %v", err)
		}
	}
	for _, p := range probesSeen {
		e.wantReason(p, websock.KindError, websock.CloseMessageTooBig, websock.ErrMessageTooBig, "MaxMessageSize counts the whole message")
	}
	if why := e.adapter.Lacks.Why(adapters.FeatureCompression); why != "" {
		e.Logf("adapter %s: the compressed part is left out: %s", e.adapter.Name, why)
		return
	}
	hostilePeerMemoryCompressed(e)
}

// compressedMaxMessage is the MaxMessageSize of the compressed part of
// the HostilePeerMemory case.
const compressedMaxMessage = 4 << 20

// compressedMemoryBound is how much more live heap the process may hold,
// all connections together, once the connections of the compressed part
// of the HostilePeerMemory case have ended: what a library keeps once
// per process (its pools of compressors, say) is there before the case
// measures, so what remains is noise and a few buffers a pool kept.
const compressedMemoryBound = 8 << 20

// hostilePeerMemoryCompressed, the part of the HostilePeerMemory case for
// adapters that compress, checks that what connections inflated
// (inflate bombs, stopped at MaxMessageSize, and large compressed
// messages, echoed) is given back once they end: 64 connections one
// after another, so that every compressor of a library's shared pool has
// served one of each, then the live heap after a collection, against
// what it was before them.
func hostilePeerMemoryCompressed(e *env) {
	accept, ch := probes(nil, false)
	srv := e.serve(accept, &adapters.Options{Compression: true, MaxMessageSize: compressedMaxMessage})
	bomb := compress(make([]byte, 2*compressedMaxMessage))
	largeMsg := bytes.Repeat([]byte("a"), compressedMaxMessage-1)
	large := compress(largeMsg)
	run := func(i int) {
		c, _, err := dial(srv.URL, http.Header{"Sec-WebSocket-Extensions": {offerDeflate}})
		if err != nil {
			e.Fatalf("dial: %v", err)
		}
		defer c.close()
		if !c.deflate {
			e.Fatalf("permessage-deflate was not negotiated with Compression on")
		}
		p := e.next(ch)
		switch i % 2 {
		case 0:
			c.writeFrame(frame{fin: true, rsv: 4, op: opBinary, payload: bomb}, false)
			e.closeAndReply(c, 1009, "the decompressed size counts against MaxMessageSize")
			e.wantReason(p, websock.KindError, websock.CloseMessageTooBig, websock.ErrMessageTooBig, "inflate bomb")
		default:
			c.writeFrame(frame{fin: true, rsv: 4, op: opBinary, payload: large}, false)
			e.wantMessage(c, opBinary, string(largeMsg))
			c.sendClose(1000, "")
			e.wantClose(c, 1000, "the close code is echoed")
			e.wantReason(p, websock.KindRemote, websock.CloseNormal, nil, "the peer closed")
		}
	}
	run(1) // what a library starts once per process is there before the measure
	settledGoroutines()
	base := liveHeap()
	for i := range 64 {
		run(i)
	}
	settledGoroutines()
	held := int64(liveHeap()) - int64(base)
	e.Logf("adapter %s: after 64 connections with %d MiB inflated each, %d KiB more live heap than before them (bound %d KiB)",
		e.adapter.Name, compressedMaxMessage>>20, held>>10, compressedMemoryBound>>10)
	if held > compressedMemoryBound {
		e.Errorf("after 64 connections with %d MiB inflated each had ended, %d MiB more live heap than before them; the bound is %d MiB: "+
			"what a connection inflated must be given back when it ends, not kept by the library's shared compressors",
			compressedMaxMessage>>20, held>>20, compressedMemoryBound>>20)
	}
}
