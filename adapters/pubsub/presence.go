package pubsub

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/websock-go/websock/websock"
)

// Presence defaults and limits.
const (
	// DefaultHeartbeat is how often a node announces its presence
	// entries when PresenceOptions.Heartbeat is zero.
	DefaultHeartbeat = time.Second
	// DefaultTTL is how long the other nodes keep a node's entries
	// after they last heard from it, when PresenceOptions.TTL is zero.
	DefaultTTL = 3 * time.Second
	// DefaultMaxMeta is the largest metadata a Join takes, in bytes,
	// when PresenceOptions.MaxMeta is zero.
	DefaultMaxMeta = 1024
	// MaxPresenceKey is the longest key a Join takes, in bytes.
	MaxPresenceKey = 256
	// DefaultPresenceTopic is the topic on which the nodes' presence
	// trackers talk, when PresenceOptions.Topic is empty.
	DefaultPresenceTopic = "websock-presence"
)

// Errors that Join returns.
var (
	// ErrMetaTooLarge: presence metadata is larger than
	// PresenceOptions.MaxMeta.
	ErrMetaTooLarge = errors.New("websock/pubsub: presence metadata too large")
	// ErrInvalidKey: a presence key is empty or longer than
	// MaxPresenceKey bytes.
	ErrInvalidKey = errors.New("websock/pubsub: invalid presence key")
)

// PresenceOptions configures a Presence. A nil *PresenceOptions means
// defaults.
type PresenceOptions struct {
	// Heartbeat is how often this node tells the others it is alive,
	// with a digest of its entries (a node whose digest differs from
	// what another holds sends that node its entries again). Default
	// DefaultHeartbeat.
	Heartbeat time.Duration

	// TTL is how long the other nodes keep this node's entries after they
	// last heard from it: the entries of a node that died without saying
	// so disappear everywhere within TTL + Heartbeat. It should be at
	// least twice Heartbeat. Default DefaultTTL, or 3 × Heartbeat when
	// that is larger.
	TTL time.Duration

	// MaxMeta is the largest metadata Join takes, in bytes; larger
	// fails with ErrMetaTooLarge. Default DefaultMaxMeta.
	MaxMeta int

	// Topic is the pubsub topic on which the trackers of every node talk;
	// all nodes must use the same. Default DefaultPresenceTopic.
	Topic string
}

// PresenceEntry is one connection's presence in a topic.
type PresenceEntry struct {
	Topic string `json:"topic"`
	Key   string `json:"key"`            // who: a user name or ID, as the application chose
	Meta  []byte `json:"meta,omitempty"` // what Join was given; read it, do not modify it
	Node  string `json:"node"`           // the Presence that tracks it
	Ref   string `json:"ref"`            // unique to one Join
}

// PresenceDiff is what a topic's subscribers receive in HandleInfo, as a
// *PresenceDiff, when entries join or leave the topic, on any node.
type PresenceDiff struct {
	Topic  string
	Joins  []PresenceEntry
	Leaves []PresenceEntry
}

// Presence tracks who is in which topic across the nodes of a
// deployment, on top of a PubSub and whatever broker it has: a
// connection joins a topic with a key and metadata, and every node lists
// it until it leaves, its connection ends, or its node stops being heard
// from (see PresenceOptions.TTL).
//
// Every change reaches the local subscribers of the topic (those that
// called PubSub.Subscribe for it) as a *PresenceDiff in HandleInfo; List
// returns the current entries. Changes made on other nodes arrive as the
// broker carries them, so two nodes may briefly list different entries.
//
// When the broker is unavailable, Join and Leave still take effect on
// this node and return an error wrapping ErrBrokerUnavailable; the other
// nodes learn of them from the next heartbeat once the broker is back.
// A Presence is safe for concurrent use.
type Presence struct {
	ps      *PubSub
	node    string
	topic   string
	hb, ttl time.Duration
	maxMeta int

	// pubMu is held while a change is made and published, so that this
	// node's messages go out in the order of its changes; mu guards the
	// state and is never held while publishing (another node's tracker
	// may be delivering to this one meanwhile, on the same goroutine).
	pubMu   sync.Mutex
	mu      sync.Mutex
	closed  bool
	seq     uint64
	gen     uint64 // states sent
	conns   map[websock.Conn]*presenceConn
	own     map[string]PresenceEntry // this node's, by ref
	ownSum  uint64
	nodes   map[string]*presenceNode // the others', by node
	garbage atomic.Uint64

	stopListen func()
	want       chan struct{} // asks the loop to publish this node's entries
	ask        chan struct{} // asks the loop to publish the requests in asks
	asks       map[string]bool
	stop, done chan struct{}
}

type presenceConn struct {
	refs map[string]string // topic → ref
	stop func() bool
}

type presenceNode struct {
	entries  map[string]PresenceEntry
	sum      uint64
	seen     time.Time
	wantSent time.Time

	// A state being received, part by part.
	gen     uint64
	next    int // the part expected next
	pending map[string]PresenceEntry
}

// presenceWire is what trackers publish to each other.
type presenceWire struct {
	Op      string          `json:"op"` // join, leave, beat, want, state, bye
	Node    string          `json:"node"`
	To      string          `json:"to,omitempty"` // for want
	Entries []PresenceEntry `json:"entries,omitempty"`
	N       int             `json:"n,omitempty"`   // for beat: how many entries
	Sum     uint64          `json:"sum,omitempty"` // for beat: their digest
	// A state goes in parts of at most statePart entries, so that no
	// message outgrows what a broker carries (NATS: 1 MB by default).
	Gen   uint64 `json:"gen,omitempty"`   // for state: which sending of it
	Part  int    `json:"part,omitempty"`  // for state: which part, from 0
	Parts int    `json:"parts,omitempty"` // for state: how many
}

// statePart is the most entries one state message holds: with
// DefaultMaxMeta, about 330 KB.
const statePart = 256

// NewPresence starts a presence tracker on ps, until Close. Each node
// has one, on the same PresenceOptions.Topic.
func NewPresence(ps *PubSub, o *PresenceOptions) (*Presence, error) {
	p := &Presence{ps: ps, node: newPresenceNode(), topic: DefaultPresenceTopic, hb: DefaultHeartbeat,
		maxMeta: DefaultMaxMeta, conns: make(map[websock.Conn]*presenceConn),
		own: make(map[string]PresenceEntry), nodes: make(map[string]*presenceNode),
		want: make(chan struct{}, 1), ask: make(chan struct{}, 1), asks: make(map[string]bool), stop: make(chan struct{}), done: make(chan struct{})}
	if o != nil {
		if o.Heartbeat > 0 {
			p.hb = o.Heartbeat
		}
		p.ttl = o.TTL
		if o.MaxMeta > 0 {
			p.maxMeta = o.MaxMeta
		}
		if o.Topic != "" {
			p.topic = o.Topic
		}
	}
	if p.ttl <= 0 {
		p.ttl = max(DefaultTTL, 3*p.hb)
	}
	stop, err := ps.Listen(p.topic, p.heard)
	if err != nil {
		return nil, fmt.Errorf("websock/pubsub: starting presence: %w", err)
	}
	p.stopListen = stop
	go p.loop()
	return p, nil
}

func newPresenceNode() string {
	var id [8]byte
	rand.Read(id[:])
	return hex.EncodeToString(id[:])
}

// Node returns the ID this tracker gives its entries.
func (p *Presence) Node() string { return p.node }

// Join puts c in topic under key, with meta (at most
// PresenceOptions.MaxMeta bytes, kept as given: do not modify it
// afterwards). Joining again replaces c's entry in topic. The entry
// leaves when Leave is called or c ends (when c is a
// websock.ContextConn, as every engine connection is; otherwise call
// LeaveAll in Terminate).
func (p *Presence) Join(c websock.Conn, topic, key string, meta []byte) error {
	if err := checkTopic(topic); err != nil {
		return err
	}
	if key == "" || len(key) > MaxPresenceKey {
		return fmt.Errorf("%w: %d bytes (use 1 to %d)", ErrInvalidKey, len(key), MaxPresenceKey)
	}
	if len(meta) > p.maxMeta {
		return fmt.Errorf("%w: %d bytes, the limit is %d (PresenceOptions.MaxMeta)", ErrMetaTooLarge, len(meta), p.maxMeta)
	}
	p.pubMu.Lock()
	defer p.pubMu.Unlock()
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return ErrClosed
	}
	pc := p.conns[c]
	if pc == nil {
		pc = &presenceConn{refs: make(map[string]string)}
		p.conns[c] = pc
		if cc, ok := c.(websock.ContextConn); ok {
			pc.stop = context.AfterFunc(cc.Context(), func() { p.LeaveAll(c) })
		}
	}
	var leaves []PresenceEntry
	if ref, ok := pc.refs[topic]; ok {
		leaves = append(leaves, p.dropOwnLocked(ref))
	}
	p.seq++
	e := PresenceEntry{Topic: topic, Key: key, Meta: meta, Node: p.node, Ref: p.node + "." + strconv.FormatUint(p.seq, 10)}
	pc.refs[topic] = e.Ref
	p.own[e.Ref] = e
	p.ownSum += entrySum(e)
	p.notifyLocked(leaves, []PresenceEntry{e})
	p.mu.Unlock()
	if err := p.publish(presenceWire{Op: "join", Entries: append(refsOnly(leaves), e)}); err != nil {
		return fmt.Errorf("websock/pubsub: %q joined %q on this node only, the others learn of it when the broker is back: %w", key, topic, err)
	}
	return nil
}

// Leave takes c out of topic, if it was in.
func (p *Presence) Leave(c websock.Conn, topic string) error {
	p.pubMu.Lock()
	defer p.pubMu.Unlock()
	p.mu.Lock()
	pc := p.conns[c]
	ref, ok := "", false
	if pc != nil {
		ref, ok = pc.refs[topic]
	}
	if !ok {
		p.mu.Unlock()
		return nil
	}
	delete(pc.refs, topic)
	if len(pc.refs) == 0 {
		p.forgetLocked(c, pc)
	}
	return p.leave([]PresenceEntry{p.dropOwnLocked(ref)})
}

// LeaveAll takes c out of every topic. It happens by itself when c ends,
// for a websock.ContextConn.
func (p *Presence) LeaveAll(c websock.Conn) error {
	p.pubMu.Lock()
	defer p.pubMu.Unlock()
	p.mu.Lock()
	pc := p.conns[c]
	if pc == nil {
		p.mu.Unlock()
		return nil
	}
	p.forgetLocked(c, pc)
	var leaves []PresenceEntry
	for _, ref := range pc.refs {
		leaves = append(leaves, p.dropOwnLocked(ref))
	}
	return p.leave(leaves)
}

// leave tells of entries that left, with p.mu held, which it releases,
// and p.pubMu held.
func (p *Presence) leave(leaves []PresenceEntry) error {
	closed := p.closed
	if !closed {
		p.notifyLocked(leaves, nil)
	}
	p.mu.Unlock()
	if closed || len(leaves) == 0 {
		return nil
	}
	if err := p.publish(presenceWire{Op: "leave", Entries: refsOnly(leaves)}); err != nil {
		return fmt.Errorf("websock/pubsub: left on this node only, the others learn of it when the broker is back: %w", err)
	}
	return nil
}

func (p *Presence) forgetLocked(c websock.Conn, pc *presenceConn) {
	delete(p.conns, c)
	if pc.stop != nil {
		pc.stop()
	}
}

func (p *Presence) dropOwnLocked(ref string) PresenceEntry {
	e := p.own[ref]
	delete(p.own, ref)
	p.ownSum -= entrySum(e)
	return e
}

// refsOnly is what a leave needs to say: which entries.
func refsOnly(es []PresenceEntry) []PresenceEntry {
	out := make([]PresenceEntry, len(es))
	for i, e := range es {
		out[i] = PresenceEntry{Topic: e.Topic, Ref: e.Ref}
	}
	return out
}

// List returns the entries of topic on every node heard from, sorted by
// key, then node and ref.
func (p *Presence) List(topic string) []PresenceEntry {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []PresenceEntry
	for _, e := range p.own {
		if e.Topic == topic {
			out = append(out, e)
		}
	}
	for _, n := range p.nodes {
		for _, e := range n.entries {
			if e.Topic == topic {
				out = append(out, e)
			}
		}
	}
	slices.SortFunc(out, func(a, b PresenceEntry) int {
		return strings.Compare(a.Key+"\x00"+a.Node+"\x00"+a.Ref, b.Key+"\x00"+b.Node+"\x00"+b.Ref)
	})
	return out
}

// Garbage returns how many messages on the presence topic were not
// understood and ignored.
func (p *Presence) Garbage() uint64 { return p.garbage.Load() }

// Close tells the other nodes this one's entries are gone, and stops.
// Local subscribers get no diff for them. Calling it again does nothing.
func (p *Presence) Close() {
	p.pubMu.Lock()
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		p.pubMu.Unlock()
		return
	}
	p.closed = true
	for c, pc := range p.conns {
		p.forgetLocked(c, pc)
	}
	p.mu.Unlock()
	p.publish(presenceWire{Op: "bye"})
	p.pubMu.Unlock()
	close(p.stop)
	<-p.done
	p.stopListen()
}

// loop beats, answers requests for this node's entries, and forgets the
// nodes not heard from within the TTL.
func (p *Presence) loop() {
	defer close(p.done)
	tick := time.NewTicker(p.hb)
	defer tick.Stop()
	// A new node: every other sends its entries.
	p.send(func() []presenceWire { return []presenceWire{{Op: "want", To: "*"}} })
	for {
		select {
		case <-p.stop:
			return
		case <-p.want:
			p.send(p.stateLocked)
		case <-p.ask:
			p.send(func() []presenceWire {
				var ws []presenceWire
				for node := range p.asks {
					ws = append(ws, presenceWire{Op: "want", To: node})
				}
				clear(p.asks)
				return ws
			})
		case <-tick.C:
			p.send(func() []presenceWire {
				p.expireLocked(time.Now())
				return []presenceWire{{Op: "beat", N: len(p.own), Sum: p.ownSum}}
			})
		}
	}
}

// stateLocked returns this node's entries as state messages.
func (p *Presence) stateLocked() []presenceWire {
	all := slices.Collect(mapValues(p.own))
	p.gen++
	parts := max(1, (len(all)+statePart-1)/statePart)
	ws := make([]presenceWire, parts)
	for i := range ws {
		ws[i] = presenceWire{Op: "state", Gen: p.gen, Part: i, Parts: parts,
			Entries: all[i*statePart : min(len(all), (i+1)*statePart)]}
	}
	return ws
}

// send publishes what build returns, build running with p.mu held.
func (p *Presence) send(build func() []presenceWire) {
	p.pubMu.Lock()
	defer p.pubMu.Unlock()
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	ws := build()
	p.mu.Unlock()
	for _, w := range ws {
		p.publish(w) // a failure is made good by a later beat
	}
}

func mapValues(m map[string]PresenceEntry) func(func(PresenceEntry) bool) {
	return func(yield func(PresenceEntry) bool) {
		for _, e := range m {
			if !yield(e) {
				return
			}
		}
	}
}

func (p *Presence) expireLocked(now time.Time) {
	for id, n := range p.nodes {
		if now.Sub(n.seen) > p.ttl {
			delete(p.nodes, id)
			p.notifyLocked(slices.Collect(mapValues(n.entries)), nil)
		}
	}
}

// publish sends w to the other nodes. Called with p.pubMu held, so that
// this node's messages go out in the order of its changes, and p.mu not.
func (p *Presence) publish(w presenceWire) error {
	w.Node = p.node
	b, err := json.Marshal(w)
	if err != nil {
		return err
	}
	return p.ps.Publish(p.topic, b)
}

// heard takes a message from a tracker. It runs on the publisher's or
// the broker's goroutine, so it never publishes: it asks the loop to.
func (p *Presence) heard(m *Message) {
	var w presenceWire
	if err := json.Unmarshal(m.Data, &w); err != nil || w.Node == "" {
		p.garbage.Add(1)
		return
	}
	if w.Node == p.node {
		return // our own, through the local delivery
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	now := time.Now()
	n := p.nodes[w.Node]
	if n == nil && w.Op != "bye" {
		n = &presenceNode{entries: make(map[string]PresenceEntry)}
		p.nodes[w.Node] = n
	}
	if n != nil {
		n.seen = now
	}
	switch w.Op {
	case "join", "leave":
		var joins, leaves []PresenceEntry
		for _, e := range w.Entries {
			if !p.validEntry(e, w.Node) {
				p.garbage.Add(1)
				continue
			}
			if old, ok := n.entries[e.Ref]; ok {
				delete(n.entries, e.Ref)
				n.sum -= entrySum(old)
				leaves = append(leaves, old)
			}
			if w.Op == "join" && e.Key != "" {
				e.Node = w.Node
				n.entries[e.Ref] = e
				n.sum += entrySum(e)
				joins = append(joins, e)
			}
		}
		p.notifyLocked(leaves, joins)
	case "beat":
		if (w.N != len(n.entries) || w.Sum != n.sum) && now.Sub(n.wantSent) > p.hb/2 {
			n.wantSent = now
			p.askLocked(w.Node)
		}
	case "want":
		if w.To == p.node || w.To == "*" {
			select {
			case p.want <- struct{}{}:
			default:
			}
		}
	case "state":
		if w.Part == 0 {
			n.gen, n.next, n.pending = w.Gen, 0, make(map[string]PresenceEntry, len(w.Entries))
		}
		if w.Gen != n.gen || w.Part != n.next || w.Parts < 1 {
			return // a part went missing: the next beat asks again
		}
		for _, e := range w.Entries {
			if p.validEntry(e, w.Node) && e.Key != "" {
				e.Node = w.Node
				n.pending[e.Ref] = e
			}
		}
		if n.next++; n.next < w.Parts {
			return
		}
		fresh := n.pending
		n.pending = nil
		var sum uint64
		for _, e := range fresh {
			sum += entrySum(e)
		}
		var joins, leaves []PresenceEntry
		for ref, e := range n.entries {
			if f, ok := fresh[ref]; !ok || !sameEntry(e, f) {
				leaves = append(leaves, e)
			}
		}
		for ref, e := range fresh {
			if old, ok := n.entries[ref]; !ok || !sameEntry(old, e) {
				joins = append(joins, e)
			}
		}
		n.entries, n.sum = fresh, sum
		p.notifyLocked(leaves, joins)
	case "bye":
		if n != nil {
			delete(p.nodes, w.Node)
			p.notifyLocked(slices.Collect(mapValues(n.entries)), nil)
		}
	default:
		p.garbage.Add(1)
	}
}

// askLocked has the loop ask node for its entries: heard may not
// publish.
func (p *Presence) askLocked(node string) {
	p.asks[node] = true
	select {
	case p.ask <- struct{}{}:
	default:
	}
}

func (p *Presence) validEntry(e PresenceEntry, node string) bool {
	return ValidTopic(e.Topic) && len(e.Key) <= MaxPresenceKey && len(e.Meta) <= p.maxMeta &&
		strings.HasPrefix(e.Ref, node+".")
}

func sameEntry(a, b PresenceEntry) bool {
	return a.Topic == b.Topic && a.Key == b.Key && a.Ref == b.Ref && bytes.Equal(a.Meta, b.Meta)
}

// entrySum is one entry's part of a node's digest: the digest is the
// sum of its entries', whatever their order.
func entrySum(e PresenceEntry) uint64 {
	h := fnv.New64a()
	h.Write([]byte(e.Topic))
	h.Write([]byte{0})
	h.Write([]byte(e.Key))
	h.Write([]byte{0})
	h.Write([]byte(e.Ref))
	h.Write([]byte{0})
	h.Write(e.Meta)
	return h.Sum64()
}

// notifyLocked sends each topic's changes to its local subscribers.
func (p *Presence) notifyLocked(leaves, joins []PresenceEntry) {
	diffs := map[string]*PresenceDiff{}
	get := func(topic string) *PresenceDiff {
		d := diffs[topic]
		if d == nil {
			d = &PresenceDiff{Topic: topic}
			diffs[topic] = d
		}
		return d
	}
	for _, e := range leaves {
		if e.Ref != "" {
			get(e.Topic).Leaves = append(get(e.Topic).Leaves, e)
		}
	}
	for _, e := range joins {
		get(e.Topic).Joins = append(get(e.Topic).Joins, e)
	}
	for _, d := range diffs {
		p.ps.sendLocal(d.Topic, d)
	}
}
