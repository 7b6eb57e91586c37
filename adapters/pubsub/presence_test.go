package pubsub_test

import (
	"testing"

	"github.com/websock-go/websock/adapters/pubsub"
	"github.com/websock-go/websock/adapters/pubsub/pubsubtest"
	"github.com/websock-go/websock/websock"
)

// The presence cases on nodes of one process, over the in-process broker.
func TestPresenceLocalBroker(t *testing.T) {
	pubsubtest.Run(t, func(t *testing.T, n int) []*pubsub.PubSub {
		b := pubsub.NewLocalBroker()
		nodes := make([]*pubsub.PubSub, n)
		for i := range nodes {
			nodes[i] = pubsub.New(b.Node())
			t.Cleanup(nodes[i].Close)
		}
		return nodes
	})
}

// member joins the presence of its topic in Init, subscribes to it, and
// writes each presence diff it receives to its peer as "+key" or "-key".
type member struct {
	p     *pubsub.Presence
	ps    *pubsub.PubSub
	key   string
	ready chan struct{}
}

func (m *member) Init(c websock.Conn) websock.Result {
	defer close(m.ready)
	if err := m.ps.Subscribe(c, "room"); err != nil {
		return websock.Stop(err)
	}
	if err := m.p.Join(c, "room", m.key, nil); err != nil {
		return websock.Stop(err)
	}
	return websock.OK()
}

func (m *member) HandleIn(websock.Frame) websock.Result { return websock.OK() }

func (m *member) HandleInfo(msg any) websock.Result {
	d := msg.(*pubsub.PresenceDiff)
	var fs []websock.Frame
	for _, e := range d.Leaves {
		fs = append(fs, websock.TextString("-"+e.Key))
	}
	for _, e := range d.Joins {
		fs = append(fs, websock.TextString("+"+e.Key))
	}
	return websock.Push(fs...)
}

func (m *member) Terminate(websock.Reason) {}

// On engine connections: the diffs reach each member's HandleInfo, on
// both nodes, and a connection's end takes it out of the other node's
// list, with no call but the engine's.
func TestPresenceEngineConnections(t *testing.T) {
	lb := pubsub.NewLocalBroker()
	var ns [2]*node
	var ps [2]*pubsub.Presence
	for i := range ns {
		ns[i] = newNode(t, lb.Node(), nil)
		p, err := pubsub.NewPresence(ns[i].ps, &pubsub.PresenceOptions{Heartbeat: pubsubtest.Heartbeat})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(p.Close)
		ps[i] = p
	}
	dial := func(i int, key string) *client {
		h := &member{p: ps[i], ps: ns[i].ps, key: key, ready: make(chan struct{})}
		srv := newServer(t, func(*websock.Request) (websock.Handler, error) { return h, nil }, nil)
		c := srv.dial(t)
		<-h.ready
		return c
	}
	ann := dial(0, "ann")
	if got := ann.read(t); got != "+ann" {
		t.Fatalf("ann got %q, want +ann", got)
	}
	bob := dial(1, "bob")
	if got := bob.read(t); got != "+bob" {
		t.Fatalf("bob got %q, want +bob", got)
	}
	if got := ann.read(t); got != "+bob" {
		t.Fatalf("ann got %q, want +bob (from the other node)", got)
	}
	bob.nc.Close()
	if got := ann.read(t); got != "-bob" {
		t.Fatalf("ann got %q, want -bob once bob's connection ended", got)
	}
	if l := ps[0].List("room"); len(l) != 1 || l[0].Key != "ann" {
		t.Errorf("node 0 lists %v, want ann only", l)
	}
}
