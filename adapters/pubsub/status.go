package pubsub

import (
	"context"
	"sync"

	"github.com/websock-go/websock/websock"
)

// StatusBroker is a Broker that says when it loses the other nodes and
// when it reaches them again. The NATS and Redis brokers are; a PubSub
// passes what they say on to the connections that called WatchBroker.
type StatusBroker interface {
	Broker
	// OnStatus has fn called, from a goroutine of the broker's, each time
	// the broker goes down (err says why) or comes back up (err nil).
	// It is called once per PubSub, when the PubSub is made.
	OnStatus(fn func(up bool, err error))
}

// BrokerStatus is what a connection that called WatchBroker receives in
// HandleInfo, as a *BrokerStatus, when the broker goes down or comes back.
// While it is down, messages published on this node reach this node's
// subscribers only, and those of the other nodes do not arrive.
type BrokerStatus struct {
	Up  bool
	Err error // why it went down; nil when Up
}

// brokerWatch is the state of a PubSub's broker, and who watches it.
type brokerWatch struct {
	mu       sync.Mutex
	status   BrokerStatus
	watchers map[websock.Conn]func() bool
}

func (ps *PubSub) watchStatus() {
	ps.watch.status.Up = true
	if sb, ok := ps.broker.(StatusBroker); ok {
		sb.OnStatus(ps.brokerStatus)
	}
}

// brokerStatus takes a change from the broker and tells the watchers.
func (ps *PubSub) brokerStatus(up bool, err error) {
	w := &ps.watch
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.status.Up == up {
		return
	}
	w.status = BrokerStatus{Up: up, Err: err}
	if up {
		w.status.Err = nil
	}
	for c := range w.watchers {
		st := w.status
		_ = c.Send(&st) // a full mailbox misses it; Broker() has the truth
	}
}

// Broker returns the broker's status as last reported: always up for a
// broker that does not report one (nil, or the in-process broker).
func (ps *PubSub) Broker() BrokerStatus {
	ps.watch.mu.Lock()
	defer ps.watch.mu.Unlock()
	return ps.watch.status
}

// WatchBroker has c receive a *BrokerStatus in HandleInfo each time the
// broker goes down or comes back, until c ends (a websock.ContextConn;
// for any other Conn, call UnwatchBroker). It returns the status now, so
// that a handler calling it in Init starts from the truth.
func (ps *PubSub) WatchBroker(c websock.Conn) BrokerStatus {
	w := &ps.watch
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, ok := w.watchers[c]; !ok {
		if w.watchers == nil {
			w.watchers = make(map[websock.Conn]func() bool)
		}
		stop := func() bool { return false }
		if cc, ok := c.(websock.ContextConn); ok {
			stop = context.AfterFunc(cc.Context(), func() { ps.UnwatchBroker(c) })
		}
		w.watchers[c] = stop
	}
	return w.status
}

// UnwatchBroker ends WatchBroker for c.
func (ps *PubSub) UnwatchBroker(c websock.Conn) {
	w := &ps.watch
	w.mu.Lock()
	defer w.mu.Unlock()
	if stop, ok := w.watchers[c]; ok {
		delete(w.watchers, c)
		stop()
	}
}
