package main

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/websock-go/websock/adapters/pubsub"
	"github.com/websock-go/websock/adapters/pubsub/natsbroker"
	"github.com/websock-go/websock/websock"
)

// The broker fault: every server of the soak is a node of one pubsub
// cluster over NATS, beside a probe node that serves no connection. A
// quarter of the connections subscribe to topic and watch the broker; each
// node publishes on topic every publishEvery throughout, and the NATS
// server is stopped and started again every restartEvery, in the middle
// of the publishing. What the contract says, and the soak judges:
//
//   - a message published on a node reaches that node's subscribers
//     whether the broker is up or not (Publish delivers them first);
//   - no subscriber gets a message twice or out of its publisher's order;
//   - once the broker is back, the nodes reach each other again: a
//     message published on any node after the restart reaches every other
//     node within resumeWithin;
//   - every node learns that the broker went down and came back, as
//     often as it did.
//
// What a node publishes while the broker is down reaches no other node:
// that is the contract too (at most once across nodes), so it is counted,
// not judged.
const (
	topic        = "soak"
	publishEvery = 50 * time.Millisecond
	downFor      = 300 * time.Millisecond
	resumeWithin = 10 * time.Second
)

// cluster is the NATS server the nodes share, restarted now and then.
type cluster struct {
	addr  string
	every time.Duration // between restarts

	mu       sync.Mutex
	stop     func() // the running server's
	nodes    []*node
	restarts int
	problems []string
	cut      int // restarts the end came in the middle of, not judged

	done chan struct{}
	wg   sync.WaitGroup
}

// node is one node of the cluster: a PubSub over its own NATS connection.
type node struct {
	c    *cluster
	name string
	id   int
	ps   *pubsub.PubSub
	b    *natsbroker.Broker
	stop func() // ends the listener

	published atomic.Int64 // Publish calls made
	refused   atomic.Int64 // of which the broker did not take (it was down)
	local     atomic.Int64 // own messages the node's listener heard
	remote    atomic.Int64 // other nodes' messages it heard
	disorder  atomic.Int64 // messages heard twice or out of their publisher's order
	downs     atomic.Int64 // broker status changes the node's watcher heard
	ups       atomic.Int64

	mu   sync.Mutex
	last map[int]int64 // the last sequence number heard from each node
	seq  int64         // the number of the next message this node publishes
}

// startCluster starts a NATS server on a free loopback port, to be
// restarted every every.
func startCluster(every time.Duration) (*cluster, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	c := &cluster{addr: addr, every: every, done: make(chan struct{})}
	if err := c.start(); err != nil {
		return nil, err
	}
	return c, nil
}

// start starts the server on c.addr, trying again for a while if it does
// not come up: on a machine this busy, a server may take seconds to be
// ready, and its port may take a moment to be free again.
func (c *cluster) start() error {
	var err error
	for attempt := 0; attempt < 10; attempt++ {
		if attempt > 0 {
			time.Sleep(time.Second)
		}
		var stop func()
		if stop, err = startNATS(c.addr); err == nil {
			c.mu.Lock()
			c.stop = stop
			c.mu.Unlock()
			return nil
		}
	}
	return fmt.Errorf("the broker fault: %w", err)
}

// startNATS runs a NATS server on addr until stop is called.
func startNATS(addr string) (stop func(), err error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		return nil, err
	}
	s, err := natsserver.NewServer(&natsserver.Options{Host: host, Port: p, NoLog: true, NoSigs: true})
	if err != nil {
		return nil, err
	}
	go s.Start()
	stop = func() { s.Shutdown(); s.WaitForShutdown() }
	if !s.ReadyForConnections(30 * time.Second) {
		stop()
		return nil, fmt.Errorf("the NATS server did not start on %s within 30s", addr)
	}
	return stop, nil
}

// node adds a node named name to the cluster.
func (c *cluster) node(name string) (*node, error) {
	b, err := natsbroker.Connect("nats://"+c.addr, nil, nats.ReconnectWait(50*time.Millisecond), nats.ReconnectJitter(0, 0),
		nats.Timeout(30*time.Second))
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	n := &node{c: c, name: name, id: len(c.nodes), b: b, ps: pubsub.New(b), last: make(map[int]int64)}
	c.nodes = append(c.nodes, n)
	c.mu.Unlock()
	if n.stop, err = n.ps.Listen(topic, n.heard); err != nil {
		return nil, err
	}
	n.ps.WatchBroker(statusWatcher{n})
	c.wg.Go(n.publish)
	return n, nil
}

// heard checks one message the node's listener got.
func (n *node) heard(m *pubsub.Message) {
	from, seq, ok := parseMessage(m.Data)
	if !ok {
		n.disorder.Add(1)
		return
	}
	if from == n.id {
		n.local.Add(1)
	} else {
		n.remote.Add(1)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if last, ok := n.last[from]; ok && seq <= last {
		n.disorder.Add(1)
	}
	n.last[from] = max(n.last[from], seq)
}

// lastFrom returns the last sequence number n heard from node from, or -1.
func (n *node) lastFrom(from int) int64 {
	n.mu.Lock()
	defer n.mu.Unlock()
	if last, ok := n.last[from]; ok {
		return last
	}
	return -1
}

// publish publishes on topic every publishEvery until the cluster ends.
func (n *node) publish() {
	t := time.NewTicker(publishEvery)
	defer t.Stop()
	for {
		select {
		case <-n.c.done:
			return
		case <-t.C:
		}
		n.mu.Lock()
		seq := n.seq
		n.seq++
		n.mu.Unlock()
		n.published.Add(1)
		err := n.ps.Publish(topic, []byte(fmt.Sprintf("%d:%d", n.id, seq)))
		switch {
		case err == nil:
		case errors.Is(err, pubsub.ErrBrokerUnavailable):
			n.refused.Add(1)
		default:
			return // closed
		}
	}
}

// published returns the number of the next message n publishes.
func (n *node) next() int64 {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.seq
}

func parseMessage(data []byte) (from int, seq int64, ok bool) {
	a, b, ok := strings.Cut(string(data), ":")
	if !ok {
		return 0, 0, false
	}
	from, err1 := strconv.Atoi(a)
	seq, err2 := strconv.ParseInt(b, 10, 64)
	return from, seq, err1 == nil && err2 == nil
}

// statusWatcher counts the broker status changes a node is told of.
type statusWatcher struct{ n *node }

func (w statusWatcher) Send(msg any) error {
	if s, ok := msg.(*pubsub.BrokerStatus); ok {
		if s.Up {
			w.n.ups.Add(1)
		} else {
			w.n.downs.Add(1)
		}
	}
	return nil
}

func (statusWatcher) Info() *websock.ConnInfo { return &websock.ConnInfo{Adapter: "websock-soak"} }

// run restarts the server every c.every until end is closed.
func (c *cluster) run(end <-chan struct{}) {
	for {
		select {
		case <-end:
			return
		case <-time.After(c.every):
		}
		if !c.restart(end) {
			return
		}
	}
}

// restart stops the server, starts it again after downFor, and checks
// that every node learns of both and that the nodes reach each other
// again. It reports false if end came first.
func (c *cluster) restart(end <-chan struct{}) bool {
	c.mu.Lock()
	stop, nodes := c.stop, append([]*node(nil), c.nodes...)
	c.stop = nil
	c.restarts++
	n := c.restarts
	c.mu.Unlock()
	stop()
	time.Sleep(downFor)
	if err := c.start(); err != nil {
		c.problem("restart %d: %v", n, err)
		return false
	}
	// Every node hears it went down and came back: as many times as
	// there were restarts.
	deadline := time.Now().Add(resumeWithin)
	for _, nd := range nodes {
		for nd.ups.Load() < int64(n) || nd.downs.Load() < int64(n) {
			if !c.wait(end, deadline) {
				return c.cutShort(end, n, "node %s was told of %d downs and %d ups after %d restarts",
					nd.name, nd.downs.Load(), nd.ups.Load(), n)
			}
		}
	}
	// Then what each node publishes reaches every other node again.
	marks := make([]int64, len(nodes))
	for i, nd := range nodes {
		marks[i] = nd.next()
	}
	deadline = time.Now().Add(resumeWithin)
	for i, from := range nodes {
		for _, to := range nodes {
			if to == from {
				continue
			}
			for to.lastFrom(from.id) < marks[i] {
				if !c.wait(end, deadline) {
					return c.cutShort(end, n, "what node %s published after restart %d did not reach node %s within %v",
						from.name, n, to.name, resumeWithin)
				}
			}
		}
	}
	return true
}

// wait sleeps a little and reports whether deadline and end are both
// still to come.
func (c *cluster) wait(end <-chan struct{}, deadline time.Time) bool {
	select {
	case <-end:
		return false
	case <-time.After(20 * time.Millisecond):
	}
	return time.Now().Before(deadline)
}

// cutShort records a failed check of restart n as a problem, unless the
// end of the soak is what stopped it.
func (c *cluster) cutShort(end <-chan struct{}, n int, format string, args ...any) bool {
	select {
	case <-end:
		c.mu.Lock()
		c.cut++
		c.mu.Unlock()
		return false
	default:
	}
	c.problem(format, args...)
	return true
}

func (c *cluster) problem(format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.problems = append(c.problems, fmt.Sprintf(format, args...))
}

// close stops the publishers, the nodes and the server, and returns what
// the nodes saw and the broken invariants.
func (c *cluster) close() (report string, problems []string) {
	close(c.done)
	c.wg.Wait()
	c.mu.Lock()
	defer c.mu.Unlock()
	var b strings.Builder
	fmt.Fprintf(&b, "broker: %d restarts of the NATS server, %v down each, while every node published every %v", c.restarts, downFor, publishEvery)
	if c.cut > 0 {
		fmt.Fprintf(&b, " (the end came during the check of the last)")
	}
	b.WriteString("\n")
	problems = append(problems, c.problems...)
	for _, n := range c.nodes {
		n.stop()
		n.ps.Close()
		n.b.Close()
		pub, local := n.published.Load(), n.local.Load()
		fmt.Fprintf(&b, "  node %-14s published %d (%d while the broker was down), heard %d of its own and %d from other nodes, %d out of order, told of %d downs and %d ups\n",
			n.name, pub, n.refused.Load(), local, n.remote.Load(), n.disorder.Load(), n.downs.Load(), n.ups.Load())
		if local != pub {
			problems = append(problems, fmt.Sprintf("node %s published %d messages but its own subscriber heard %d: local delivery must not depend on the broker", n.name, pub, local))
		}
		if d := n.disorder.Load(); d != 0 {
			problems = append(problems, fmt.Sprintf("node %s heard %d messages twice or out of their publisher's order", n.name, d))
		}
	}
	if c.stop != nil {
		c.stop()
		c.stop = nil
	}
	return b.String(), problems
}
