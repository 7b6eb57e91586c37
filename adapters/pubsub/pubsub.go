// Package pubsub delivers published messages to the connections that
// subscribed to a topic, through each connection's mailbox, so that a
// handler receives them in HandleInfo like any other message sent to it.
//
// A [PubSub] serves one node (one process). Connections subscribe, usually
// in Init; anything publishes. Subscribers on the same node get the
// message at once, from Publish itself; a [Broker] carries it to the other
// nodes, one broker message per publish whatever the number of
// subscribers there. The default broker is in-process ([NewLocalBroker]);
// packages natsbroker and redisbroker carry messages between machines
// over NATS and Redis. A [Presence] tracks who is in which topic across
// the nodes, on top of any of them.
//
// Every subscriber of one publish receives the same *[Message]: the data
// is encoded once, by the publisher, and shared; handlers must not modify
// it. Pushed with [Message.Text] or [Message.Binary], it is also framed,
// and compressed, once per publish rather than once per subscriber (see
// websock.Prepared).
//
// Order: the messages of one publisher on one topic reach every subscriber
// in the order they were published. Messages of different publishers may
// interleave differently at different subscribers.
//
// Slow subscribers: delivery never blocks. A subscriber whose mailbox is
// full misses the message, which is counted in [Stats].Dropped; when the
// connection runs with the CloseOnMailboxFull option, the engine also
// closes it with 1013 (try again later). Either way the topic and the
// other subscribers are not held up.
//
// A connection's subscriptions end with it: when its Conn implements
// websock.ContextConn (every engine connection does), they are removed as
// soon as its end is decided; any other Conn is removed the first time a
// delivery finds it closed.
package pubsub

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"unicode"

	"github.com/websock-go/websock/websock"
)

// Message is what a subscriber receives in HandleInfo, as a *Message.
type Message struct {
	Topic string
	Data  []byte // shared by every subscriber: read it, do not modify it

	// The message as prepared text and binary frames, shared by every
	// subscriber; nil in a Message made elsewhere than by a PubSub.
	text, binary *websock.Prepared
}

// newMessage returns the Message of one publish, with its prepared frames.
func newMessage(topic string, data []byte) *Message {
	return &Message{Topic: topic, Data: data,
		text: websock.NewPrepared(websock.OpText, data), binary: websock.NewPrepared(websock.OpBinary, data)}
}

// Text returns the frame that pushes the message as text (Data must be
// UTF-8), from a websock.Prepared that every subscriber of the publish
// shares: the adapters frame it, and compress it, once per encoding, not
// once per subscriber. A handler's HandleInfo returns
// websock.Push(m.Text()).
func (m *Message) Text() websock.Frame {
	if m.text == nil {
		return websock.Text(m.Data)
	}
	return m.text.Frame()
}

// Binary is [Message.Text] for a binary message.
func (m *Message) Binary() websock.Frame {
	if m.binary == nil {
		return websock.Binary(m.Data)
	}
	return m.binary.Frame()
}

// Errors that Subscribe and Publish return.
var (
	// ErrInvalidTopic: a topic is empty, contains white space or a
	// wildcard ('*', '>'), or has an empty dot-separated part. The same
	// rule holds whatever the broker, so a topic that works in process
	// also works over NATS.
	ErrInvalidTopic = errors.New("websock/pubsub: invalid topic")

	// ErrBrokerUnavailable: the broker could not take the message for the
	// other nodes (NATS is unreachable, say). Subscribers on this node
	// still received it; the other nodes did not. A broker wraps its own
	// cause with it.
	ErrBrokerUnavailable = errors.New("websock/pubsub: broker unavailable")

	// ErrClosed: the PubSub was closed.
	ErrClosed = errors.New("websock/pubsub: closed")
)

// Broker carries messages between the nodes of a deployment. A PubSub
// calls Subscribe when a topic gets its first local subscriber and the
// returned cancel function when it loses its last one, and Publish once
// per publish. A Broker delivers to the other nodes only: the publishing
// node has delivered to its own subscribers already.
type Broker interface {
	// Publish sends data on topic to the other nodes. An error that
	// means the other nodes were not reached wraps ErrBrokerUnavailable.
	Publish(topic string, data []byte) error

	// Subscribe starts delivering what other nodes publish on topic to
	// deliver, one call at a time and in each publisher's order, until
	// cancel is called. deliver must not keep data after it returns
	// unless the broker says data is its own.
	Subscribe(topic string, deliver func(data []byte)) (cancel func(), err error)
}

// Stats counts what a PubSub did since it was made.
type Stats struct {
	Published  uint64 // Publish calls that delivered or forwarded the message
	Received   uint64 // messages from other nodes, through the broker
	Delivered  uint64 // messages put in a subscriber's mailbox
	Dropped    uint64 // messages a full mailbox refused
	Gone       uint64 // deliveries to a connection that had ended (it is then removed)
	BrokerErrs uint64 // Publish calls whose forwarding to other nodes failed
}

// PubSub is one node's topic registry. It is safe for concurrent use.
type PubSub struct {
	broker Broker

	mu     sync.Mutex
	closed bool
	topics map[string]*topic
	subs   map[websock.Conn]*subscriber

	watch brokerWatch

	published, received, delivered, dropped, gone, brokerErrs atomic.Uint64
}

// topic is one topic's local subscribers.
type topic struct {
	name   string
	mu     sync.RWMutex
	conns  map[websock.Conn]struct{}
	cancel func() // ends the broker subscription
}

// subscriber is what a PubSub knows of one connection.
type subscriber struct {
	topics map[string]struct{}
	stop   func() bool // stops the context.AfterFunc, if one was set
}

// New returns a PubSub that reaches the other nodes through broker. A nil
// broker means this node only.
func New(broker Broker) *PubSub {
	ps := &PubSub{broker: broker, topics: make(map[string]*topic), subs: make(map[websock.Conn]*subscriber)}
	ps.watchStatus()
	return ps
}

// ValidTopic reports whether name may be used as a topic; see
// ErrInvalidTopic.
func ValidTopic(name string) bool {
	if name == "" {
		return false
	}
	for _, part := range strings.Split(name, ".") {
		if part == "" {
			return false
		}
	}
	return !strings.ContainsFunc(name, func(r rune) bool {
		return r == '*' || r == '>' || unicode.IsSpace(r) || !unicode.IsPrint(r)
	})
}

func checkTopic(name string) error {
	if !ValidTopic(name) {
		return fmt.Errorf("%w: %q (use dot-separated, non-empty parts without white space, '*' or '>')", ErrInvalidTopic, name)
	}
	return nil
}

// Subscribe adds c to topic's subscribers. Subscribing twice is the same
// as once. It fails when topic is invalid, when the broker cannot
// subscribe (the connection is then not subscribed), or after Close.
func (ps *PubSub) Subscribe(c websock.Conn, name string) error {
	if err := checkTopic(name); err != nil {
		return err
	}
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if ps.closed {
		return ErrClosed
	}
	t := ps.topics[name]
	if t == nil {
		t = &topic{name: name, conns: make(map[websock.Conn]struct{})}
		if ps.broker != nil {
			cancel, err := ps.broker.Subscribe(name, func(data []byte) { ps.fromBroker(t, data) })
			if err != nil {
				return fmt.Errorf("websock/pubsub: subscribing to %q: %w", name, err)
			}
			t.cancel = cancel
		}
		ps.topics[name] = t
	}
	s := ps.subs[c]
	if s == nil {
		s = &subscriber{topics: make(map[string]struct{})}
		ps.subs[c] = s
		if cc, ok := c.(websock.ContextConn); ok {
			s.stop = context.AfterFunc(cc.Context(), func() { ps.UnsubscribeAll(c) })
		}
	}
	s.topics[name] = struct{}{}
	t.mu.Lock()
	t.conns[c] = struct{}{}
	t.mu.Unlock()
	return nil
}

// Unsubscribe removes c from topic's subscribers, if it was one.
func (ps *PubSub) Unsubscribe(c websock.Conn, name string) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	s := ps.subs[c]
	if s == nil {
		return
	}
	if _, ok := s.topics[name]; !ok {
		return
	}
	delete(s.topics, name)
	ps.leaveLocked(c, name)
	if len(s.topics) == 0 {
		ps.forgetLocked(c, s)
	}
}

// UnsubscribeAll removes c from every topic. It happens by itself when
// the connection ends (see the package doc).
func (ps *PubSub) UnsubscribeAll(c websock.Conn) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	s := ps.subs[c]
	if s == nil {
		return
	}
	for name := range s.topics {
		ps.leaveLocked(c, name)
	}
	ps.forgetLocked(c, s)
}

// leaveLocked removes c from topic name, and the topic when it was its
// last subscriber. Called with ps.mu held.
func (ps *PubSub) leaveLocked(c websock.Conn, name string) {
	t := ps.topics[name]
	if t == nil {
		return
	}
	t.mu.Lock()
	delete(t.conns, c)
	empty := len(t.conns) == 0
	t.mu.Unlock()
	if empty {
		delete(ps.topics, name)
		if t.cancel != nil {
			t.cancel()
		}
	}
}

// forgetLocked drops what ps knows of c. Called with ps.mu held.
func (ps *PubSub) forgetLocked(c websock.Conn, s *subscriber) {
	delete(ps.subs, c)
	if s.stop != nil {
		s.stop()
	}
}

// Publish delivers data on topic to this node's subscribers, then hands
// it to the broker for the other nodes. data is shared, not copied: do
// not modify it afterwards. Delivery to local subscribers happens even
// when the broker fails; the error then wraps ErrBrokerUnavailable.
func (ps *PubSub) Publish(name string, data []byte) error {
	if err := checkTopic(name); err != nil {
		return err
	}
	ps.mu.Lock()
	closed, t := ps.closed, ps.topics[name]
	ps.mu.Unlock()
	if closed {
		return ErrClosed
	}
	if t != nil {
		ps.deliver(t, newMessage(name, data))
	}
	ps.published.Add(1)
	if ps.broker == nil {
		return nil
	}
	if err := ps.broker.Publish(name, data); err != nil {
		ps.brokerErrs.Add(1)
		if !errors.Is(err, ErrBrokerUnavailable) {
			err = fmt.Errorf("%w: %w", ErrBrokerUnavailable, err)
		}
		return fmt.Errorf("websock/pubsub: publishing on %q reached this node only: %w", name, err)
	}
	return nil
}

// fromBroker delivers a message another node published.
func (ps *PubSub) fromBroker(t *topic, data []byte) {
	ps.received.Add(1)
	ps.deliver(t, newMessage(t.name, data))
}

// deliver puts m in every subscriber's mailbox. Send never blocks, so
// one slow subscriber holds up nobody.
func (ps *PubSub) deliver(t *topic, m *Message) {
	var gone []websock.Conn
	t.mu.RLock()
	for c := range t.conns {
		switch err := c.Send(m); {
		case err == nil:
			ps.delivered.Add(1)
		case errors.Is(err, websock.ErrMailboxFull):
			ps.dropped.Add(1)
		default: // the connection ended
			ps.gone.Add(1)
			gone = append(gone, c)
		}
	}
	t.mu.RUnlock()
	for _, c := range gone {
		ps.UnsubscribeAll(c)
	}
}

// sendLocal sends msg to this node's subscribers of topic, as deliver
// does, without counting it: what a Presence tells them.
func (ps *PubSub) sendLocal(name string, msg any) {
	ps.mu.Lock()
	t := ps.topics[name]
	ps.mu.Unlock()
	if t == nil {
		return
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	for c := range t.conns {
		_ = c.Send(msg) // a full mailbox misses the diff; List has the truth
	}
}

// Subscribers returns how many connections of this node subscribe to
// topic.
func (ps *PubSub) Subscribers(name string) int {
	ps.mu.Lock()
	t := ps.topics[name]
	ps.mu.Unlock()
	if t == nil {
		return 0
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	return len(t.conns)
}

// Stats returns the counts so far.
func (ps *PubSub) Stats() Stats {
	return Stats{
		Published:  ps.published.Load(),
		Received:   ps.received.Load(),
		Delivered:  ps.delivered.Load(),
		Dropped:    ps.dropped.Load(),
		Gone:       ps.gone.Load(),
		BrokerErrs: ps.brokerErrs.Load(),
	}
}

// Close removes every subscription, ends the broker subscriptions and
// refuses later calls with ErrClosed. It does not close the broker, which
// its owner may share.
func (ps *PubSub) Close() {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if ps.closed {
		return
	}
	ps.closed = true
	for c, s := range ps.subs {
		ps.forgetLocked(c, s)
	}
	ps.watch.mu.Lock()
	for c, stop := range ps.watch.watchers {
		delete(ps.watch.watchers, c)
		stop()
	}
	ps.watch.mu.Unlock()
	for name, t := range ps.topics {
		delete(ps.topics, name)
		if t.cancel != nil {
			t.cancel()
		}
	}
}

// Listen calls fn with every message on topic, from this node or another,
// until stop is called: a server-side subscriber, for what no connection
// handles (a presence roster, an audit log). fn runs on the publisher's
// goroutine (or the broker's, for other nodes' messages), one message at
// a time per publisher, and holds up the topic while it runs: it must
// return quickly and must not call Publish, Subscribe or Unsubscribe.
func (ps *PubSub) Listen(topic string, fn func(*Message)) (stop func(), err error) {
	l := &listener{fn: fn}
	if err := ps.Subscribe(l, topic); err != nil {
		return nil, err
	}
	return func() { ps.Unsubscribe(l, topic) }, nil
}

// listener is the subscriber Listen registers: its Send calls fn.
type listener struct{ fn func(*Message) }

func (l *listener) Send(msg any) error {
	if m, ok := msg.(*Message); ok { // not a *PresenceDiff
		l.fn(m)
	}
	return nil
}

func (l *listener) Info() *websock.ConnInfo { return &websock.ConnInfo{Adapter: "pubsub.Listen"} }
