package main

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// A fault is what one client connection does: behave, or misbehave in one
// of the ways a server meets in production.
type fault int

const (
	normal       fault = iota // echo a few messages, then close cleanly
	reset                     // send a message, then reset the TCP connection
	halfOpen                  // send a message, then neither read nor close
	slowReader                // send many messages, read the echoes slowly
	malformed                 // send a frame that breaks RFC 6455: 1002
	oversized                 // send a message over MaxMessageSize: 1009
	inflateBomb               // send a compressed message that inflates past MaxMessageSize: 1009
	handlerPanic              // make the handler panic: 1011
	numFaults
)

var faultNames = [numFaults]string{"normal", "reset", "half-open", "slow reader", "malformed", "oversized", "inflate bomb", "handler panic"}

func (f fault) String() string { return faultNames[f] }

// weights is how often each fault is picked, out of their sum.
var weights = [numFaults]int{40, 10, 5, 10, 8, 7, 7, 8}

func pickFault(rng *rand.Rand) fault {
	total := 0
	for _, w := range weights {
		total += w
	}
	n := rng.IntN(total)
	for f, w := range weights {
		if n < w {
			return fault(f)
		}
		n -= w
	}
	return normal
}

// clients is the client side of one adapter's soak.
type clients struct {
	addr     string
	deflate  bool // the adapter compresses: inflate bombs are sent compressed
	maxMsg   int
	stopping atomic.Bool   // no new connection is opened
	stop     chan struct{} // closed once the server has shut down: hold nothing longer
	opened   [numFaults]atomic.Int64

	mu     sync.Mutex
	errs   map[string]int // what went wrong, by kind
	sample []string       // the first few errors, in full
}

func (cs *clients) fail(kind string, err error) {
	if cs.stopping.Load() {
		return // the server is shutting down: connections end early
	}
	var ce errClosed
	if errors.As(err, &ce) && ce.code == 1001 {
		kind += " (a server timeout: 1001)" // the machine was too busy to answer a ping in time
	}
	cs.mu.Lock()
	defer cs.mu.Unlock()
	cs.errs[kind]++
	if len(cs.sample) < 5 {
		cs.sample = append(cs.sample, fmt.Sprintf("%s: %v", kind, err))
	}
}

// run opens connections one after another until stopping, each with a
// fault picked at random.
func (cs *clients) run(seed uint64) {
	rng := newRand(seed)
	for !cs.stopping.Load() {
		f := pickFault(rng)
		c, err := dial(cs.addr, f == inflateBomb && cs.deflate, 10*time.Second)
		if err != nil {
			cs.fail("dial", err)
			continue
		}
		cs.opened[f].Add(1)
		if err := cs.do(c, f, rng); err != nil {
			cs.fail(f.String(), err)
		}
		c.nc.Close()
	}
}

// wantClose checks that the server closed c with code.
func (cs *clients) wantClose(c *wsClient, code int) error {
	if got := c.closeCode(10 * time.Second); got != code {
		return fmt.Errorf("closed with %d; want %d", got, code)
	}
	return nil
}

var errEcho = errors.New("the echo differs from the message sent")

func (cs *clients) do(c *wsClient, f fault, rng *rand.Rand) error {
	msg := fmt.Appendf(nil, "message %d", rng.Uint64())
	switch f {
	case normal:
		for range 1 + rng.IntN(5) {
			if err := c.send(opText, msg); err != nil {
				return err
			}
			for {
				got, err := c.read(10 * time.Second)
				if err != nil {
					return err
				}
				if string(got) == "info" { // pushed by HandleInfo
					continue
				}
				if !bytes.Equal(got, msg) {
					return errEcho
				}
				break
			}
		}
		if err := c.send(opClose, []byte{0x03, 0xe8}); err != nil {
			return err
		}
		return cs.wantClose(c, 1000)
	case reset:
		c.send(opText, msg)
		c.reset()
	case halfOpen:
		c.send(opText, msg)
		select { // the server's timeouts end it first
		case <-cs.stop:
		case <-time.After(time.Duration(5+rng.IntN(15)) * time.Second):
		}
	case slowReader:
		const n = 100
		go func() {
			p := bytes.Repeat([]byte("s"), 1<<10)
			for range n {
				if c.send(opBinary, p) != nil {
					return
				}
			}
		}()
		for range n {
			if _, err := c.read(10 * time.Second); err != nil {
				return nil // the server's WriteTimeout may end it: either is right
			}
			time.Sleep(5 * time.Millisecond)
		}
	case malformed:
		switch rng.IntN(3) {
		case 0:
			c.write([]byte{0x81, 0x02, 'h', 'i'}) // unmasked
		case 1:
			c.write(frame(0x83, msg)) // reserved opcode
		default:
			c.write(frame(0x80|opPing, bytes.Repeat([]byte("p"), 126))) // a control frame over 125 bytes
		}
		return cs.wantClose(c, 1002)
	case oversized:
		if err := c.write(frame(0x80|opBinary, make([]byte, cs.maxMsg+1))); err != nil {
			return err
		}
		return cs.wantClose(c, 1009)
	case inflateBomb:
		if !c.deflate {
			return cs.do(c, oversized, rng)
		}
		if err := c.write(frame(0x80|0x40|opBinary, bombPayload)); err != nil {
			return err
		}
		return cs.wantClose(c, 1009)
	case handlerPanic:
		if err := c.send(opText, []byte(panicMessage)); err != nil {
			return err
		}
		return cs.wantClose(c, 1011)
	}
	return nil
}

// bombPayload inflates to 10 MiB.
var bombPayload = bomb(10 << 20)
