package conformance

import (
	"context"
	"crypto/sha1"
	"encoding/base64"
	"sync"
	"time"

	"github.com/websock-go/websock/adapters"
	"github.com/websock-go/websock/websock"
)

func acceptFor(key string) string {
	h := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	return base64.StdEncoding.EncodeToString(h[:])
}

// clientProbe is the handler a client case runs: it records every
// callback, and answers HandleDisconnect with reconnect (nil: stop).
type clientProbe struct {
	inits   chan websock.Conn
	in      chan websock.Frame
	ctl     chan websock.Frame
	reasons chan websock.Reason
	discs   chan websock.Disconnect

	initPush  func(n int) websock.Result // Init's Result for connection n, from 1
	reconnect func(d websock.Disconnect) websock.Reconnect

	mu sync.Mutex
	n  int
}

func newClientProbe() *clientProbe {
	return &clientProbe{inits: make(chan websock.Conn, 8), in: make(chan websock.Frame, 64), ctl: make(chan websock.Frame, 64),
		reasons: make(chan websock.Reason, 8), discs: make(chan websock.Disconnect, 8)}
}

func (p *clientProbe) Init(c websock.Conn) websock.Result {
	p.mu.Lock()
	p.n++
	n := p.n
	p.mu.Unlock()
	p.inits <- c
	if p.initPush != nil {
		return p.initPush(n)
	}
	return websock.Result{}
}

func (p *clientProbe) HandleIn(f websock.Frame) websock.Result {
	p.in <- websock.Frame{Op: f.Op, Data: append([]byte(nil), f.Data...)}
	return websock.Result{}
}

func (p *clientProbe) HandleControl(f websock.Frame) websock.Result {
	p.ctl <- websock.Frame{Op: f.Op, Data: append([]byte(nil), f.Data...)}
	return websock.Result{}
}

// HandleInfo pushes a string it is sent as a text frame.
func (p *clientProbe) HandleInfo(msg any) websock.Result {
	if s, ok := msg.(string); ok {
		return websock.Push(websock.Frame{Op: websock.OpText, Data: []byte(s)})
	}
	return websock.Result{}
}

func (p *clientProbe) Terminate(r websock.Reason) { p.reasons <- r }

func (p *clientProbe) HandleDisconnect(d websock.Disconnect) websock.Reconnect {
	p.discs <- d
	if p.reconnect == nil {
		return websock.StopReconnecting
	}
	return p.reconnect(d)
}

// dial dials url with the adapter under test in the background; the
// result arrives on the channel. The client is closed and waited for when
// the case ends.
func (e *clientEnv) dial(url string, h websock.Handler, opts *adapters.DialOptions) chan dialResult {
	if opts == nil {
		opts = &adapters.DialOptions{}
	}
	o := *opts
	if o.Logger == nil {
		o.Logger = quiet
	}
	if o.CloseTimeout == 0 {
		o.CloseTimeout = 2 * time.Second
	}
	ch := make(chan dialResult, 1)
	done := make(chan struct{})
	var c *adapters.Client
	go func() {
		defer close(done)
		var err error
		c, err = e.adapter.Dial(context.Background(), url, h, &o)
		ch <- dialResult{c, err}
	}()
	// Registered before the server's peers are accepted, so it runs after
	// they are closed: the client then needs no close handshake.
	e.Cleanup(func() {
		<-done
		if c == nil {
			return
		}
		c.Close(websock.CloseGoingAway, "")
		select {
		case <-c.Done():
		case <-time.After(wait):
			e.Errorf("the client did not stop within %v of Close (rule: Close ends the client)", wait)
		}
	})
	return ch
}

type dialResult struct {
	c   *adapters.Client
	err error
}

// client waits for a dial to succeed.
func (e *clientEnv) client(ch chan dialResult) *adapters.Client {
	e.Helper()
	select {
	case r := <-ch:
		if r.err != nil {
			e.Fatalf("dial: %v", r.err)
		}
		return r.c
	case <-time.After(wait):
		e.Fatalf("dial did not return within %v", wait)
	}
	return nil
}

// dialErr waits for a dial to fail.
func (e *clientEnv) dialErr(ch chan dialResult) error {
	e.Helper()
	select {
	case r := <-ch:
		if r.err == nil {
			e.Fatalf("dial succeeded; want it to fail")
		}
		return r.err
	case <-time.After(wait):
		e.Fatalf("dial did not return within %v", wait)
	}
	return nil
}

// next waits for a value on ch.
func next[T any](e *clientEnv, ch chan T, what string) T {
	e.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(wait):
		e.Fatalf("no %s within %v", what, wait)
	}
	var zero T
	return zero
}
