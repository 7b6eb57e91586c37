// Package redisbroker carries pubsub messages between nodes over Redis
// pub/sub: each node holds one Redis subscription per topic that has local
// subscribers (all on one connection), and each publish is one Redis
// PUBLISH, whatever the number of subscribers.
//
// When Redis is down, Publish fails within Options.PublishTimeout (at once
// when the connection is refused) with an error wrapping
// pubsub.ErrBrokerUnavailable, local subscribers still get the message,
// and the subscriptions are made again when Redis is back. Messages
// published elsewhere while this node was disconnected are not replayed:
// Redis pub/sub delivers at most once.
package redisbroker

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/websock-go/websock/adapters/pubsub"
)

// DefaultPrefix is the channel prefix used when Options.Prefix is empty:
// topic "room.1" travels on Redis channel "websock.room.1".
const DefaultPrefix = "websock."

// nodeIDLen is the length of the node ID that starts every payload, so
// that a node skips its own messages, which it has delivered locally
// already.
const nodeIDLen = 16

// Options configures a Broker. A nil *Options means defaults.
type Options struct {
	// Prefix is put before every topic to make its Redis channel, so that
	// several applications can share one Redis. Default DefaultPrefix.
	Prefix string

	// PublishTimeout bounds one Publish, which then fails with
	// pubsub.ErrBrokerUnavailable. Default 1s.
	PublishTimeout time.Duration

	// HealthCheck is how often the subscribing connection pings Redis
	// when it heard nothing, to notice a Redis that went away without
	// closing the connection. Default 1s.
	HealthCheck time.Duration
}

// Broker is a pubsub.Broker over a Redis client: PUBLISH for Publish, one
// subscribing connection for every topic of this node.
type Broker struct {
	rc      redis.UniversalClient
	prefix  string
	node    string
	timeout time.Duration
	owned   bool // Close closes rc

	ps    *redis.PubSub
	done  chan struct{} // closed when the dispatch goroutine ends
	check time.Duration
	stop  chan struct{} // ends the health goroutine
	hdone chan struct{} // closed when it has ended

	mu      sync.Mutex
	closed  bool
	deliver map[string][]*sub // by Redis channel
	down    bool              // as last reported to fns
	fns     []func(up bool, err error)
}

type sub struct{ deliver func([]byte) }

var _ pubsub.StatusBroker = (*Broker)(nil)

// New returns a Broker over rc (a *redis.Client, or a cluster or failover
// client), which stays the caller's: Close does not close it. The Broker
// holds one subscribing connection and a goroutine until Close. Publishes
// use rc's retry settings; set MaxRetries to -1 in rc's options for a
// Publish that fails at once when Redis is down, as Connect does.
func New(rc redis.UniversalClient, o *Options) *Broker {
	b := &Broker{rc: rc, prefix: DefaultPrefix, node: newNodeID(), timeout: time.Second,
		deliver: make(map[string][]*sub), done: make(chan struct{}), stop: make(chan struct{}), hdone: make(chan struct{})}
	check := time.Second
	if o != nil {
		if o.Prefix != "" {
			b.prefix = o.Prefix
		}
		if o.PublishTimeout > 0 {
			b.timeout = o.PublishTimeout
		}
		if o.HealthCheck > 0 {
			check = o.HealthCheck
		}
	}
	b.check = check
	b.ps = rc.Subscribe(context.Background())
	ch := b.ps.Channel(redis.WithChannelSize(1024), redis.WithChannelHealthCheckInterval(check))
	go b.dispatch(ch)
	go b.health()
	return b
}

// health pings Redis every Options.HealthCheck, to tell OnStatus's
// functions when it goes and comes back.
func (b *Broker) health() {
	defer close(b.hdone)
	tick := time.NewTicker(b.check)
	defer tick.Stop()
	for {
		select {
		case <-b.stop:
			return
		case <-tick.C:
			ctx, cancel := context.WithTimeout(context.Background(), b.timeout)
			err := b.rc.Ping(ctx).Err()
			cancel()
			b.status(err)
		}
	}
}

// OnStatus has fn called when Redis stops answering and when it answers
// again (a ping every Options.HealthCheck, and every Publish, tell); see
// pubsub.StatusBroker.
func (b *Broker) OnStatus(fn func(up bool, err error)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.fns = append(b.fns, fn)
}

// status reports a change of Redis's state, as err says.
func (b *Broker) status(err error) {
	b.mu.Lock()
	down := err != nil
	if down == b.down || b.closed {
		b.mu.Unlock()
		return
	}
	b.down = down
	fns := b.fns
	b.mu.Unlock()
	if down {
		err = fmt.Errorf("redisbroker: Redis unreachable: %w", err)
	}
	for _, fn := range fns {
		fn(!down, err)
	}
}

// Connect returns a Broker that owns a client of the Redis server at url
// ("redis://[user:password@]host:port[/db]", or rediss:// for TLS). The
// client does not retry a failed publish (it fails fast, see the package
// doc); the subscriptions reconnect for ever. Connect checks that Redis
// answers, within a second.
func Connect(url string, o *Options) (*Broker, error) {
	opt, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("redisbroker: %w (want redis://host:port)", err)
	}
	opt.MaxRetries = -1
	opt.DisableIdentity = true
	if opt.DialTimeout == 0 || opt.DialTimeout > time.Second {
		opt.DialTimeout = time.Second
	}
	rc := redis.NewClient(opt)
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := rc.Ping(ctx).Err(); err != nil {
		rc.Close()
		return nil, fmt.Errorf("redisbroker: connecting to %s: %w (is a Redis server listening there?)", opt.Addr, err)
	}
	b := New(rc, o)
	b.owned = true
	return b, nil
}

func newNodeID() string {
	var id [nodeIDLen / 2]byte
	rand.Read(id[:])
	return hex.EncodeToString(id[:])
}

// Client returns the Redis client.
func (b *Broker) Client() redis.UniversalClient { return b.rc }

// Publish sends data on topic to the other nodes, as one PUBLISH.
func (b *Broker) Publish(topic string, data []byte) error {
	payload := make([]byte, 0, nodeIDLen+len(data))
	payload = append(append(payload, b.node...), data...)
	ctx, cancel := context.WithTimeout(context.Background(), b.timeout)
	defer cancel()
	err := b.rc.Publish(ctx, b.prefix+topic, payload).Err()
	var rerr redis.Error
	if err == nil || !errors.As(err, &rerr) {
		b.status(err)
	}
	if err != nil {
		if errors.As(err, &rerr) {
			// Redis answered, but not with a count of receivers.
			return fmt.Errorf("%w: Redis refused PUBLISH: %w", pubsub.ErrBrokerUnavailable, err)
		}
		return fmt.Errorf("%w: Redis: %w", pubsub.ErrBrokerUnavailable, err)
	}
	return nil
}

// Subscribe delivers what other nodes publish on topic, one message at a
// time, in each publisher's order. When Redis is down, the subscription
// is recorded and made when Redis is back. data is deliver's own.
func (b *Broker) Subscribe(topic string, deliver func([]byte)) (func(), error) {
	channel := b.prefix + topic
	s := &sub{deliver: deliver}
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil, fmt.Errorf("%w: the Redis broker is closed", pubsub.ErrBrokerUnavailable)
	}
	first := len(b.deliver[channel]) == 0
	b.deliver[channel] = append(b.deliver[channel], s)
	b.mu.Unlock()
	if first {
		// An error means Redis is away: the channel is recorded and
		// subscribed again on reconnect.
		ctx, cancel := context.WithTimeout(context.Background(), b.timeout)
		b.ps.Subscribe(ctx, channel)
		cancel()
	}
	var once sync.Once
	return func() { once.Do(func() { b.cancel(channel, s) }) }, nil
}

func (b *Broker) cancel(channel string, s *sub) {
	b.mu.Lock()
	subs := b.deliver[channel]
	for i, x := range subs {
		if x == s {
			subs = append(subs[:i:i], subs[i+1:]...)
			break
		}
	}
	last := len(subs) == 0
	if last {
		delete(b.deliver, channel)
	} else {
		b.deliver[channel] = subs
	}
	closed := b.closed
	b.mu.Unlock()
	if last && !closed {
		ctx, cancel := context.WithTimeout(context.Background(), b.timeout)
		b.ps.Unsubscribe(ctx, channel)
		cancel()
	}
}

// dispatch hands each message to its channel's subscribers, in the order
// Redis sent them, until the subscribing connection is closed.
func (b *Broker) dispatch(ch <-chan *redis.Message) {
	defer close(b.done)
	for m := range ch {
		if len(m.Payload) < nodeIDLen || m.Payload[:nodeIDLen] == b.node {
			continue // published here, and delivered here already; or not ours
		}
		b.mu.Lock()
		subs := b.deliver[m.Channel]
		b.mu.Unlock()
		for _, s := range subs {
			s.deliver([]byte(m.Payload[nodeIDLen:]))
		}
	}
}

// Close ends the subscriptions, and closes the Redis client if Connect
// made it. It waits for a delivery in progress to return.
func (b *Broker) Close() {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return
	}
	b.closed = true
	b.mu.Unlock()
	close(b.stop)
	<-b.hdone
	b.ps.Close()
	<-b.done
	if b.owned {
		b.rc.Close()
	}
}
