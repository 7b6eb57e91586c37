package main

import (
	"encoding/json"
	"log/slog"
	"net"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/websock-go/websock/adapters"
	"github.com/websock-go/websock/adapters/pubsub"
	"github.com/websock-go/websock/websock"
)

// The topics the nodes of the demo share.
const (
	roomTopic  = "demo.room"  // chat messages, as encoded events; its presence is who is online
	nodesTopic = "demo.nodes" // each node's page and servers
)

// How often a node announces its page and servers, and how long the
// others keep a node they stopped hearing from (one that died without
// saying so). Who is online is pubsub.Presence's, with its own
// heartbeat and TTL (the defaults: a dead node's members leave within
// pubsub.DefaultTTL + pubsub.DefaultHeartbeat).
const (
	heartbeat  = 2 * time.Second
	forgetNode = 3 * heartbeat
)

// hub is the chat room. Its members are this node's connections, whatever
// adapter serves them; messages reach them and the other nodes' members
// through pubsub, and who is online spans every node through
// pubsub.Presence on the room's topic. Each node also announces its page
// and servers on the nodes topic, so that a page can move to another
// node.
//
// The hub only ever talks to connections through Conn.Send (pubsub does
// the same), which never blocks, so a slow client cannot stall the room:
// its events reach its own HandleInfo, in the order they were sent, or are
// dropped when its mailbox is full.
type hub struct {
	ps   *pubsub.PubSub
	pres *pubsub.Presence
	self roster // this node: ID, page and servers
	log  *slog.Logger
	// origins are what -origin lets in besides the pages' own origins;
	// set before the first upgrade, read-only after.
	origins []string

	mu        sync.Mutex
	nodes     map[string]*peer  // the other nodes heard from
	pages     map[string]bool   // the pages of every node ever heard from
	online    []member          // as last encoded
	onlineMsg *websock.Prepared // the presence event of online, shared by every member

	poke     chan struct{} // asks the loop to announce the roster now
	stopLoop chan struct{}
	loopDone chan struct{}
	stopOnce sync.Once
	ran      bool // run was called
}

// member is one connection in the room.
type member struct {
	Name   string `json:"name"`
	Server string `json:"server"`          // the adapter that serves it
	Node   string `json:"node"`            // the node that serves it
	Proto  string `json:"proto,omitempty"` // the HTTP version its WebSocket runs over
}

// roster is what a node announces on the nodes topic.
type roster struct {
	Node    string   `json:"node"`
	Page    string   `json:"page"` // the node's page URL
	Servers []server `json:"servers"`
	Leaving bool     `json:"leaving,omitempty"` // the node is shutting down
}

// peer is another node, as last heard from.
type peer struct {
	roster
	seen time.Time
}

// event is what the server sends to the page, as JSON in a text message.
type event struct {
	Type   string   `json:"type"`             // "welcome", "message", "presence" or "error"
	Name   string   `json:"name,omitempty"`   // who wrote the message
	Server string   `json:"server,omitempty"` // the adapter it came through
	Node   string   `json:"node,omitempty"`   // the node it came through
	Text   string   `json:"text,omitempty"`
	Online []member `json:"online,omitempty"` // for "presence"
	// Compressed says, in "welcome", whether permessage-deflate was
	// negotiated.
	Compressed bool `json:"compressed,omitempty"`
	// Proto is, in "welcome", the HTTP version the WebSocket runs over.
	Proto string `json:"proto,omitempty"`
}

// newHub returns the room of ps, tracking who is online; run starts
// announcing the node.
func newHub(ps *pubsub.PubSub, self roster, log *slog.Logger) (*hub, error) {
	pres, err := pubsub.NewPresence(ps, nil)
	if err != nil {
		return nil, err
	}
	return &hub{ps: ps, pres: pres, self: self, log: log, nodes: map[string]*peer{},
		pages: map[string]bool{self.Page: true},
		poke:  make(chan struct{}, 1), stopLoop: make(chan struct{}), loopDone: make(chan struct{})}, nil
}

// run listens to the other nodes and announces this one, until stop.
func (h *hub) run() error {
	h.ran = true
	stop, err := h.ps.Listen(nodesTopic, h.heard)
	if err != nil {
		close(h.loopDone)
		return err
	}
	go func() {
		defer close(h.loopDone)
		defer stop()
		tick := time.NewTicker(heartbeat)
		defer tick.Stop()
		for {
			h.announce(false)
			select {
			case <-tick.C:
				h.expire()
			case <-h.poke:
			case <-h.stopLoop:
				h.announce(true)
				return
			}
		}
	}()
	return nil
}

// stop tells the other nodes this one is leaving, with its members, and
// ends run. Calling it again does nothing.
func (h *hub) stop() {
	h.stopOnce.Do(func() {
		close(h.stopLoop)
		if h.ran {
			<-h.loopDone
		}
		h.pres.Close()
	})
}

// announce publishes this node's page and servers.
func (h *hub) announce(leaving bool) {
	h.mu.Lock()
	r := h.self
	r.Leaving = leaving
	h.mu.Unlock()
	b, _ := json.Marshal(r)
	if err := h.ps.Publish(nodesTopic, b); err != nil {
		h.log.Warn("announcing this node", "err", err)
	}
}

// heard takes another node's page and servers. It runs on the broker's goroutine,
// so it only updates the hub and wakes the loop.
func (h *hub) heard(m *pubsub.Message) {
	var r roster
	if json.Unmarshal(m.Data, &r) != nil || r.Node == "" || r.Node == h.self.Node {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	_, known := h.nodes[r.Node]
	h.pages[r.Page] = true // its pages may move here, even once it left
	if r.Leaving {
		delete(h.nodes, r.Node)
	} else {
		h.nodes[r.Node] = &peer{roster: r, seen: time.Now()}
	}
	if !known && !r.Leaving {
		h.wake() // a new node: tell it about this one without waiting
	}
}

// expire forgets the nodes not heard from for a while.
func (h *hub) expire() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for id, p := range h.nodes {
		if time.Since(p.seen) > forgetNode {
			delete(h.nodes, id)
		}
	}
}

func (h *hub) wake() {
	select {
	case h.poke <- struct{}{}:
	default:
	}
}

// join adds c to the room: its messages, and its presence, whose changes
// reach every member, on every node, as a *pubsub.PresenceDiff.
func (h *hub) join(c websock.Conn, m member) {
	if err := h.ps.Subscribe(c, roomTopic); err != nil {
		h.log.Warn("subscribing a member to the room", "err", err)
	}
	meta, _ := json.Marshal(m)
	if err := h.pres.Join(c, roomTopic, m.Name, meta); err != nil {
		h.log.Warn("joining the room's presence", "err", err)
	}
}

// leave removes c from the room's presence; the other members hear of it.
// Both presence and subscription would end with the connection anyway.
func (h *hub) leave(c websock.Conn) {
	if err := h.pres.LeaveAll(c); err != nil {
		h.log.Warn("leaving the room's presence", "err", err)
	}
}

// say sends a chat message to every member of every node, the sender
// included. The members of one node get each sender's messages in order.
func (h *hub) say(from member, text string) {
	ev := encode(event{Type: "message", Name: from.Name, Server: from.Server, Node: from.Node, Text: text})
	if err := h.ps.Publish(roomTopic, ev.Data); err != nil {
		h.log.Warn("the message reached this node only", "err", err)
	}
}

// presence returns the presence event that lists who is online now, on
// every node: one encoding, framed (and compressed) once, shared by every
// member while the list stays the same.
func (h *hub) presence() *websock.Prepared {
	var online []member
	for _, e := range h.pres.List(roomTopic) {
		var m member
		if json.Unmarshal(e.Meta, &m) == nil {
			online = append(online, m)
		}
	}
	sortMembers(online)
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.onlineMsg == nil || !slices.Equal(online, h.online) {
		h.online = online
		h.onlineMsg = websock.NewPrepared(websock.OpText, encode(event{Type: "presence", Online: online}).Data)
	}
	return h.onlineMsg
}

func sortMembers(ms []member) {
	slices.SortFunc(ms, func(a, b member) int {
		return strings.Compare(a.Name+"\x00"+a.Server+"\x00"+a.Node, b.Name+"\x00"+b.Server+"\x00"+b.Node)
	})
}

// servers lists the chat servers of this node, then those of the other
// nodes it knows, so that a page can move to another node when its own
// goes away.
func (h *hub) servers() []server {
	h.mu.Lock()
	defer h.mu.Unlock()
	all := slices.Clone(h.self.Servers)
	ids := make([]string, 0, len(h.nodes))
	for id := range h.nodes {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		all = append(all, h.nodes[id].Servers...)
	}
	return all
}

// checkOrigin lets in a browser on the page of this node or of any node
// it heard from (as localhost too, for a loopback page), or on an origin
// that -origin lists, and any client that is not a browser.
func (h *hub) checkOrigin(r *websock.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	for _, pattern := range h.origins {
		if adapters.MatchOrigin(pattern, origin) {
			return true
		}
	}
	h.mu.Lock()
	pages := make([]string, 0, len(h.pages))
	for p := range h.pages {
		pages = append(pages, p)
	}
	h.mu.Unlock()
	for _, p := range pages {
		if slices.Contains(pageOrigins(p), strings.ToLower(origin)) {
			return true
		}
	}
	return false
}

// pageOrigins returns the origins a browser on page has.
func pageOrigins(page string) []string {
	u, err := url.Parse(page)
	if err != nil || u.Host == "" {
		return nil
	}
	origins := []string{strings.ToLower(u.Scheme + "://" + u.Host)}
	if ip := net.ParseIP(u.Hostname()); ip != nil && ip.IsLoopback() {
		origins = append(origins, u.Scheme+"://"+net.JoinHostPort("localhost", u.Port()))
	}
	return origins
}
