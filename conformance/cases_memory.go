package conformance

import (
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
}
