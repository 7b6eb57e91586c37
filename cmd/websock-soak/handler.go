package main

import (
	"errors"
	"math/rand/v2"
	"sync"
	"sync/atomic"

	"github.com/websock-go/websock/adapters/pubsub"
	"github.com/websock-go/websock/websock"
)

// tally counts what the server side of one adapter's soak saw.
type tally struct {
	inits, terminates atomic.Int64
	panics            atomic.Int64 // handler panics injected
	accepted          atomic.Int64 // Sends the mailbox took
	refused           atomic.Int64 // Sends refused with ErrMailboxFull
	delivered         atomic.Int64 // messages HandleInfo got
	lost              atomic.Int64 // messages missing, or out of order, in what HandleInfo got
	queuedAtEnd       atomic.Int64 // messages still in a mailbox when its connection ended

	// The broker fault (broker.go): ps is this server's node, nil
	// without the fault; every subscribeEvery-th connection subscribes
	// to topic and watches the broker.
	ps         *pubsub.PubSub
	accepts    atomic.Int64
	subscribed atomic.Int64 // connections that subscribed
	published  atomic.Int64 // published messages HandleInfo got
	disorder   atomic.Int64 // of which twice or out of their publisher's order
	statuses   atomic.Int64 // broker status changes HandleInfo got

	mu      sync.Mutex
	reasons map[websock.Kind]int // Terminate reasons by kind
	live    []*peer              // the connections Sends go to
}

func newTally() *tally { return &tally{reasons: make(map[websock.Kind]int)} }

// peer is the server's side of one connection, as the handler and the
// senders see it.
type peer struct {
	t *tally

	mu       sync.Mutex // orders Sends, so that the accepted are numbered without gaps
	conn     websock.Conn
	next     int  // the number of the next message to Send
	ended    bool // Terminate ran
	received int  // the number HandleInfo expects next; the handler's only
	index    int  // in t.live

	subscribe bool          // subscribes to the broker fault's topic
	last      map[int]int64 // the last sequence number HandleInfo got from each node; the handler's only
}

// subscribeEvery: one connection in this many subscribes to the broker
// fault's topic.
const subscribeEvery = 4

// handler is the soak's Handler: it echoes, panics when asked to, and
// checks that HandleInfo gets every message the mailbox took, in order.
type handler struct{ p *peer }

func (t *tally) accept(*websock.Request) (websock.Handler, error) {
	p := &peer{t: t}
	p.subscribe = t.ps != nil && t.accepts.Add(1)%subscribeEvery == 0
	return handler{p}, nil
}

func (h handler) Init(c websock.Conn) websock.Result {
	p := h.p
	p.t.inits.Add(1)
	p.mu.Lock()
	p.conn = c
	p.mu.Unlock()
	p.t.mu.Lock()
	p.index = len(p.t.live)
	p.t.live = append(p.t.live, p)
	p.t.mu.Unlock()
	if p.subscribe {
		if err := p.t.ps.Subscribe(c, topic); err != nil {
			return websock.StopCode(err, websock.CloseInternalError, "subscribing failed")
		}
		p.t.ps.WatchBroker(c)
		p.t.subscribed.Add(1)
		p.last = make(map[int]int64)
	}
	return websock.OK()
}

// panicMessage makes HandleIn panic.
const panicMessage = "panic, please"

func (h handler) HandleIn(f websock.Frame) websock.Result {
	if string(f.Data) == panicMessage {
		h.p.t.panics.Add(1)
		panic("websock-soak: a handler panic, injected")
	}
	return websock.Push(f)
}

func (h handler) HandleInfo(msg any) websock.Result {
	p := h.p
	switch m := msg.(type) {
	case *pubsub.Message:
		p.t.published.Add(1)
		from, seq, ok := parseMessage(m.Data)
		if last, seen := p.last[from]; !ok || (seen && seq <= last) {
			p.t.disorder.Add(1)
		}
		p.last[from] = max(p.last[from], seq)
		return websock.OK()
	case *pubsub.BrokerStatus:
		p.t.statuses.Add(1)
		return websock.OK()
	}
	n := msg.(int)
	p.t.delivered.Add(1)
	if n != p.received {
		p.t.lost.Add(1)
	}
	p.received = n + 1
	if n%16 == 0 {
		return websock.Push(websock.Frame{Op: websock.OpText, Data: []byte("info")})
	}
	return websock.OK()
}

func (h handler) Terminate(r websock.Reason) {
	p, t := h.p, h.p.t
	t.terminates.Add(1)
	p.mu.Lock()
	p.ended = true
	t.queuedAtEnd.Add(int64(p.next - p.received))
	p.mu.Unlock()
	t.mu.Lock()
	defer t.mu.Unlock()
	t.reasons[r.Kind]++
	last := t.live[len(t.live)-1]
	t.live[p.index], last.index = last, p.index
	t.live[len(t.live)-1] = nil // hold no ended connection
	t.live = t.live[:len(t.live)-1]
}

// send Sends the next message to a live connection picked at random, and
// reports whether there was one.
func (t *tally) send(rng *rand.Rand) bool {
	t.mu.Lock()
	if len(t.live) == 0 {
		t.mu.Unlock()
		return false
	}
	p := t.live[rng.IntN(len(t.live))]
	t.mu.Unlock()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ended {
		return true
	}
	switch err := p.conn.Send(p.next); {
	case err == nil:
		p.next++
		t.accepted.Add(1)
	case errors.Is(err, websock.ErrMailboxFull):
		t.refused.Add(1)
	}
	return true
}
