package pubsub

import "sync"

// LocalBroker carries messages between PubSubs of one process, as a
// broker between machines would between nodes. Give each PubSub its own
// [LocalBroker.Node]. It is how tests and single-process deployments run
// several nodes (several servers or endpoints) without a network. It is
// safe for concurrent use.
type LocalBroker struct {
	mu    sync.RWMutex
	subs  map[string]map[*localSub]struct{}
	order sync.Mutex // one publish at a time, so that every node sees one order
}

type localSub struct {
	node    *localNode
	deliver func([]byte)
}

// NewLocalBroker returns a broker with no nodes.
func NewLocalBroker() *LocalBroker {
	return &LocalBroker{subs: make(map[string]map[*localSub]struct{})}
}

// Node returns a Broker for one more node: what it publishes reaches the
// subscriptions of every other node of b.
func (b *LocalBroker) Node() Broker { return &localNode{b: b} }

type localNode struct{ b *LocalBroker }

// Publish delivers data to the other nodes' subscriptions to topic,
// synchronously.
func (n *localNode) Publish(topic string, data []byte) error {
	b := n.b
	b.order.Lock()
	defer b.order.Unlock()
	b.mu.RLock()
	var targets []*localSub
	for s := range b.subs[topic] {
		if s.node != n {
			targets = append(targets, s)
		}
	}
	b.mu.RUnlock()
	for _, s := range targets {
		s.deliver(data)
	}
	return nil
}

// Subscribe registers deliver for what the other nodes publish on topic.
func (n *localNode) Subscribe(topic string, deliver func([]byte)) (func(), error) {
	b := n.b
	s := &localSub{node: n, deliver: deliver}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.subs[topic] == nil {
		b.subs[topic] = make(map[*localSub]struct{})
	}
	b.subs[topic][s] = struct{}{}
	return func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		delete(b.subs[topic], s)
		if len(b.subs[topic]) == 0 {
			delete(b.subs, topic)
		}
	}, nil
}
