// Package pubsubtest is a table of presence cases that any broker must
// pass: a broker's tests call [Run] with a function that makes nodes (one
// PubSub each) sharing one broker, and every case then runs on them, as
// the conformance suite does for adapters.
package pubsubtest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/websock-go/websock/adapters/pubsub"
	"github.com/websock-go/websock/websock"
)

// NewNodes returns n nodes sharing one broker, each a PubSub of its own
// (with its own broker connection). The test's cleanup closes them.
// Closing one node's PubSub is how a case kills that node: it stops
// reaching the others without saying goodbye, as a crashed process.
type NewNodes func(t *testing.T, n int) []*pubsub.PubSub

// Heartbeat and TTL are the presence options the cases use: a killed
// node's entries must leave within TTL + Heartbeat.
const (
	Heartbeat = 50 * time.Millisecond
	TTL       = 200 * time.Millisecond
)

// wait bounds every wait for a change to reach another node: generous,
// for a busy machine; a case fails only when nothing happened by then.
const wait = 15 * time.Second

// Case is one presence case.
type Case struct {
	Name string
	Run  func(t *testing.T, newNodes NewNodes)
}

// Cases are the presence cases Run runs.
var Cases = []Case{
	{"JoinListedEverywhere", joinListedEverywhere},
	{"DiffsReachSubscribers", diffsReachSubscribers},
	{"Leave", leave},
	{"ConnectionEnds", connectionEnds},
	{"RejoinReplaces", rejoinReplaces},
	{"NodeDies", nodeDies},
	{"NodeClosesCleanly", nodeClosesCleanly},
	{"LateNode", lateNode},
	{"BadInput", badInput},
	{"Garbage", garbage},
}

// Run runs every case, each as a subtest with nodes of its own.
func Run(t *testing.T, newNodes NewNodes) {
	for _, c := range Cases {
		t.Run(c.Name, func(t *testing.T) { c.Run(t, newNodes) })
	}
}

// Member is a connection for the cases: its mailbox is a channel, and it
// is a websock.ContextConn whose end is End.
type Member struct {
	Mailbox chan any
	ctx     context.Context
	end     context.CancelFunc
}

// NewMember returns a member with a mailbox of 256 messages.
func NewMember(t *testing.T) *Member {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	return &Member{Mailbox: make(chan any, 256), ctx: ctx, end: cancel}
}

// Send puts msg in the mailbox, as an engine connection does.
func (m *Member) Send(msg any) error {
	if m.ctx.Err() != nil {
		return websock.ErrClosed
	}
	select {
	case m.Mailbox <- msg:
		return nil
	default:
		return websock.ErrMailboxFull
	}
}

func (m *Member) Info() *websock.ConnInfo  { return &websock.ConnInfo{Adapter: "pubsubtest"} }
func (m *Member) Context() context.Context { return m.ctx }
func (m *Member) End()                     { m.end() }

var _ websock.ContextConn = (*Member)(nil)

// presences starts one tracker per node, closed with the test.
func presences(t *testing.T, nodes []*pubsub.PubSub) []*pubsub.Presence {
	t.Helper()
	ps := make([]*pubsub.Presence, len(nodes))
	for i, n := range nodes {
		p, err := pubsub.NewPresence(n, &pubsub.PresenceOptions{Heartbeat: Heartbeat, TTL: TTL, MaxMeta: 64})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(p.Close)
		ps[i] = p
	}
	return ps
}

// keys returns the keys p lists in topic, with their metadata, as
// "key=meta", sorted.
func keys(p *pubsub.Presence, topic string) []string {
	var out []string
	for _, e := range p.List(topic) {
		out = append(out, e.Key+"="+string(e.Meta))
	}
	slices.Sort(out)
	return out
}

// eventually waits until p lists want in topic.
func eventually(t *testing.T, p *pubsub.Presence, topic string, want ...string) {
	t.Helper()
	slices.Sort(want)
	deadline := time.Now().Add(wait)
	for {
		got := keys(p, topic)
		if slices.Equal(got, want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("node %s lists %q in %q after %v, want %q", p.Node(), got, topic, wait, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func join(t *testing.T, p *pubsub.Presence, c websock.Conn, topic, key, meta string) {
	t.Helper()
	if err := p.Join(c, topic, key, []byte(meta)); err != nil {
		t.Fatalf("Join(%q, %q): %v", topic, key, err)
	}
}

// A join on one node is listed, with its metadata, on every node.
func joinListedEverywhere(t *testing.T, newNodes NewNodes) {
	ps := presences(t, newNodes(t, 3))
	a, b := NewMember(t), NewMember(t)
	join(t, ps[0], a, "room.1", "ann", `{"role":"host"}`)
	join(t, ps[1], b, "room.1", "bob", "")
	join(t, ps[1], b, "room.2", "bob", "x")
	for _, p := range ps {
		eventually(t, p, "room.1", `ann={"role":"host"}`, "bob=")
		eventually(t, p, "room.2", "bob=x")
	}
	for _, e := range ps[2].List("room.1") {
		if want := map[string]string{"ann": ps[0].Node(), "bob": ps[1].Node()}[e.Key]; e.Node != want {
			t.Errorf("%s is listed on node %s, want %s", e.Key, e.Node, want)
		}
	}
}

// diffs collects the presence diffs a subscriber got, as "+key" and
// "-key", until it holds want.
func diffs(t *testing.T, m *Member, want ...string) {
	t.Helper()
	var got []string
	timeout := time.After(wait)
	for !slices.Equal(got, want) {
		select {
		case msg := <-m.Mailbox:
			d, ok := msg.(*pubsub.PresenceDiff)
			if !ok {
				continue
			}
			for _, e := range d.Leaves {
				got = append(got, "-"+e.Key)
			}
			for _, e := range d.Joins {
				got = append(got, "+"+e.Key)
			}
			if len(got) > len(want) || !slices.Equal(got, want[:len(got)]) {
				t.Fatalf("subscriber got diffs %q, want %q", got, want)
			}
		case <-timeout:
			t.Fatalf("subscriber got diffs %q after %v, want %q", got, wait, want)
		}
	}
}

// Every change reaches the topic's subscribers, on the node where it
// happened and on the others, as *PresenceDiff in their mailbox.
func diffsReachSubscribers(t *testing.T, newNodes NewNodes) {
	nodes := newNodes(t, 2)
	ps := presences(t, nodes)
	watchA, watchB := NewMember(t), NewMember(t)
	if err := nodes[0].Subscribe(watchA, "lobby"); err != nil {
		t.Fatal(err)
	}
	if err := nodes[1].Subscribe(watchB, "lobby"); err != nil {
		t.Fatal(err)
	}
	settle(t, nodes, ps, "lobby")
	c := NewMember(t)
	join(t, ps[0], c, "lobby", "cat", "")
	diffs(t, watchA, "+cat")
	diffs(t, watchB, "+cat")
	if err := ps[0].Leave(c, "lobby"); err != nil {
		t.Fatal(err)
	}
	diffs(t, watchA, "-cat")
	diffs(t, watchB, "-cat")
}

// settle waits until both nodes hear each other on topic: a broker may
// make a subscription some time after Subscribe returns.
func settle(t *testing.T, nodes []*pubsub.PubSub, ps []*pubsub.Presence, topic string) {
	t.Helper()
	probe := NewMember(t)
	for i, p := range ps {
		join(t, p, probe, topic+".probe", fmt.Sprint("probe", i), "")
	}
	for _, p := range ps {
		eventually(t, p, topic+".probe", "probe0=", "probe1=")
	}
	for _, p := range ps {
		p.LeaveAll(probe)
	}
	// One message through each node's topic subscription.
	for i, n := range nodes {
		other := nodes[1-i]
		m := NewMember(t)
		if err := other.Subscribe(m, topic); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(wait)
	ping:
		for {
			n.Publish(topic, []byte("ping"))
			select {
			case <-m.Mailbox:
				break ping
			case <-time.After(20 * time.Millisecond):
			}
			if time.Now().After(deadline) {
				t.Fatalf("node %d never heard node %d on %q", 1-i, i, topic)
			}
		}
		other.Unsubscribe(m, topic)
	}
}

// Leave takes an entry out on every node; the connection's other topics
// stay.
func leave(t *testing.T, newNodes NewNodes) {
	ps := presences(t, newNodes(t, 2))
	c := NewMember(t)
	join(t, ps[0], c, "a", "cy", "")
	join(t, ps[0], c, "b", "cy", "")
	eventually(t, ps[1], "a", "cy=")
	eventually(t, ps[1], "b", "cy=")
	if err := ps[0].Leave(c, "a"); err != nil {
		t.Fatal(err)
	}
	eventually(t, ps[1], "a")
	eventually(t, ps[0], "a")
	eventually(t, ps[1], "b", "cy=")
	if err := ps[0].Leave(c, "a"); err != nil {
		t.Errorf("leaving twice: %v", err)
	}
}

// When a connection ends, its entries leave every topic on every node,
// with nothing called but its end.
func connectionEnds(t *testing.T, newNodes NewNodes) {
	ps := presences(t, newNodes(t, 2))
	c, d := NewMember(t), NewMember(t)
	join(t, ps[0], c, "x", "cal", "")
	join(t, ps[0], c, "y", "cal", "")
	join(t, ps[0], d, "x", "dee", "")
	eventually(t, ps[1], "x", "cal=", "dee=")
	c.End()
	eventually(t, ps[1], "x", "dee=")
	eventually(t, ps[1], "y")
	eventually(t, ps[0], "x", "dee=")
}

// Joining a topic again replaces the connection's entry.
func rejoinReplaces(t *testing.T, newNodes NewNodes) {
	ps := presences(t, newNodes(t, 2))
	c := NewMember(t)
	join(t, ps[0], c, "r", "eve", "away")
	eventually(t, ps[1], "r", "eve=away")
	join(t, ps[0], c, "r", "eve", "here")
	eventually(t, ps[1], "r", "eve=here")
	eventually(t, ps[0], "r", "eve=here")
}

// When a node dies without a word, its entries leave the other nodes
// once its TTL has passed, and its subscribers there hear so.
func nodeDies(t *testing.T, newNodes NewNodes) {
	nodes := newNodes(t, 3)
	ps := presences(t, nodes)
	watch := NewMember(t)
	if err := nodes[1].Subscribe(watch, "hall"); err != nil {
		t.Fatal(err)
	}
	join(t, ps[0], NewMember(t), "hall", "fay", "")
	join(t, ps[0], NewMember(t), "hall", "gus", "")
	join(t, ps[2], NewMember(t), "hall", "hal", "")
	eventually(t, ps[1], "hall", "fay=", "gus=", "hal=")
	nodes[0].Close() // node 0 crashes: its tracker can no longer reach anyone
	eventually(t, ps[1], "hall", "hal=")
	eventually(t, ps[2], "hall", "hal=")
	// The watcher heard fay and gus leave (after whatever joins it saw).
	left := map[string]bool{}
	timeout := time.After(wait)
	for !left["fay"] || !left["gus"] {
		select {
		case msg := <-watch.Mailbox:
			if d, ok := msg.(*pubsub.PresenceDiff); ok {
				for _, e := range d.Leaves {
					left[e.Key] = true
				}
			}
		case <-timeout:
			t.Fatalf("the subscriber on another node heard %v leave, want fay and gus", left)
		}
	}
}

// A node that closes its tracker takes its entries with it at once.
func nodeClosesCleanly(t *testing.T, newNodes NewNodes) {
	nodes := newNodes(t, 2)
	p0, err := pubsub.NewPresence(nodes[0], &pubsub.PresenceOptions{Heartbeat: time.Hour, TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	p1, err := pubsub.NewPresence(nodes[1], &pubsub.PresenceOptions{Heartbeat: Heartbeat, TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p1.Close)
	// With an hour's heartbeat on node 0, node 1 learns of its joins
	// only from the join itself: retry until one got through.
	c := NewMember(t)
	deadline := time.Now().Add(wait)
	for len(p1.List("q")) == 0 {
		join(t, p0, c, "q", "ida", "")
		time.Sleep(20 * time.Millisecond)
		if time.Now().After(deadline) {
			t.Fatal("node 1 never heard node 0's join")
		}
	}
	p0.Close()
	eventually(t, p1, "q") // an hour's TTL: only the goodbye explains it
	if err := p0.Join(c, "q", "ida", nil); !errors.Is(err, pubsub.ErrClosed) {
		t.Errorf("Join after Close = %v, want ErrClosed", err)
	}
}

// A node that starts after others joined lists their entries, however
// many (more than one message of them).
func lateNode(t *testing.T, newNodes NewNodes) {
	nodes := newNodes(t, 2)
	ps := presences(t, nodes[:1])
	var want []string
	for i := range 600 {
		key := fmt.Sprint("jo", i)
		join(t, ps[0], NewMember(t), "late", key, "1")
		want = append(want, key+"=1")
	}
	late := presences(t, nodes[1:])
	eventually(t, late[0], "late", want...)
}

// Bad input is refused with a clear error, and other topics keep flowing.
func badInput(t *testing.T, newNodes NewNodes) {
	ps := presences(t, newNodes(t, 2))
	c := NewMember(t)
	for _, topic := range []string{"", "a..b", "a b", "a.*", "a.>"} {
		if err := ps[0].Join(c, topic, "k", nil); !errors.Is(err, pubsub.ErrInvalidTopic) {
			t.Errorf("Join on topic %q = %v, want ErrInvalidTopic", topic, err)
		}
	}
	if err := ps[0].Join(c, "ok", "", nil); !errors.Is(err, pubsub.ErrInvalidKey) {
		t.Errorf("Join with an empty key = %v, want ErrInvalidKey", err)
	}
	if err := ps[0].Join(c, "ok", strings.Repeat("k", pubsub.MaxPresenceKey+1), nil); !errors.Is(err, pubsub.ErrInvalidKey) {
		t.Errorf("Join with a key of %d bytes = %v, want ErrInvalidKey", pubsub.MaxPresenceKey+1, err)
	}
	err := ps[0].Join(c, "ok", "k", make([]byte, 65))
	if !errors.Is(err, pubsub.ErrMetaTooLarge) {
		t.Errorf("Join with 65 bytes of metadata (the limit is 64) = %v, want ErrMetaTooLarge", err)
	} else if !strings.Contains(err.Error(), "64") {
		t.Errorf("the error %q does not state the limit", err)
	}
	join(t, ps[0], c, "ok", "kim", strings.Repeat("m", 64))
	eventually(t, ps[1], "ok", "kim="+strings.Repeat("m", 64))
	if got := ps[0].List("a..b"); len(got) != 0 {
		t.Errorf("List on an invalid topic = %v, want nothing", got)
	}
}

// Messages on the presence topic that no tracker sent are counted and
// ignored; presence keeps working.
func garbage(t *testing.T, newNodes NewNodes) {
	nodes := newNodes(t, 2)
	ps := presences(t, nodes)
	join(t, ps[0], NewMember(t), "g", "lee", "")
	eventually(t, ps[1], "g", "lee=")
	for _, junk := range []string{"not json", `{"op":"join"}`, `{"op":"dance","node":"zz"}`,
		`{"op":"join","node":"zz","entries":[{"topic":"g","key":"x","ref":"other.1"}]}`,
		`{"op":"join","node":"zz","entries":[{"topic":"bad topic","key":"x","ref":"zz.1"}]}`} {
		nodes[0].Publish(pubsub.DefaultPresenceTopic, []byte(junk))
	}
	var once sync.Once
	deadline := time.Now().Add(wait)
	for ps[1].Garbage() < 5 {
		if time.Now().After(deadline) {
			once.Do(func() { t.Errorf("node 1 counted %d garbage messages, want 5", ps[1].Garbage()) })
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	join(t, ps[0], NewMember(t), "g", "max", "")
	eventually(t, ps[1], "g", "lee=", "max=")
}

// BrokerStatus waits until m receives a *pubsub.BrokerStatus saying up,
// skipping anything else in its mailbox, and returns it.
func BrokerStatus(t *testing.T, m *Member, up bool) *pubsub.BrokerStatus {
	t.Helper()
	timeout := time.After(wait)
	for {
		select {
		case msg := <-m.Mailbox:
			if st, ok := msg.(*pubsub.BrokerStatus); ok && st.Up == up {
				return st
			}
		case <-timeout:
			t.Fatalf("no broker status saying up=%v within %v", up, wait)
			return nil
		}
	}
}

// Sink is a subscriber for a broker's tests: a websock.Conn whose mailbox
// is the channel itself, holding the messages published to it (make one
// with make(Sink, n); a full channel refuses a message as a full mailbox
// does).
type Sink chan *pubsub.Message

// Send takes a *pubsub.Message; anything else panics, as the test wants.
func (s Sink) Send(msg any) error {
	select {
	case s <- msg.(*pubsub.Message):
		return nil
	default:
		return websock.ErrMailboxFull
	}
}

// Info returns an empty ConnInfo.
func (s Sink) Info() *websock.ConnInfo { return &websock.ConnInfo{} }

// Next returns the data of the next message, or fails t after 10 s.
func (s Sink) Next(t testing.TB) string {
	t.Helper()
	select {
	case m := <-s:
		return string(m.Data)
	case <-time.After(10 * time.Second):
		t.Fatal("no message within 10 s")
		return ""
	}
}
