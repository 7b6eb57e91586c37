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
	roomTopic     = "demo.room"     // chat messages, as encoded events
	presenceTopic = "demo.presence" // each node's roster
)

// How often a node announces its roster, and how long the others keep a
// node they stopped hearing from (one that died without saying so).
const (
	heartbeat  = 2 * time.Second
	forgetNode = 3 * heartbeat
)

// hub is the chat room. Its members are this node's connections, whatever
// adapter serves them; messages reach them and the other nodes' members
// through pubsub, and each node's roster reaches the others on the
// presence topic, so that "who is online" spans every node.
//
// The hub only ever talks to connections through Conn.Send (pubsub does
// the same), which never blocks, so a slow client cannot stall the room:
// its events reach its own HandleInfo, in the order they were sent, or are
// dropped when its mailbox is full.
type hub struct {
	ps   *pubsub.PubSub
	self roster // this node: ID, page and servers; Members is filled in when sent
	log  *slog.Logger
	// origins are what -origin lets in besides the pages' own origins;
	// set before the first upgrade, read-only after.
	origins []string

	mu      sync.Mutex
	members map[websock.Conn]member // this node's
	nodes   map[string]*peer        // the other nodes heard from
	pages   map[string]bool         // the pages of every node ever heard from
	online  []member                // as last told to the members

	poke     chan struct{} // asks the loop to announce the roster now
	stopLoop chan struct{}
	loopDone chan struct{}
	stopOnce sync.Once
}

// member is one connection in the room.
type member struct {
	Name   string `json:"name"`
	Server string `json:"server"`          // the adapter that serves it
	Node   string `json:"node"`            // the node that serves it
	Proto  string `json:"proto,omitempty"` // the HTTP version its WebSocket runs over
}

// roster is what a node announces on the presence topic.
type roster struct {
	Node    string   `json:"node"`
	Page    string   `json:"page"` // the node's page URL
	Servers []server `json:"servers"`
	Members []member `json:"members"`
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

func newHub(ps *pubsub.PubSub, self roster, log *slog.Logger) *hub {
	return &hub{ps: ps, self: self, log: log, members: map[websock.Conn]member{}, nodes: map[string]*peer{},
		pages: map[string]bool{self.Page: true},
		poke:  make(chan struct{}, 1), stopLoop: make(chan struct{}), loopDone: make(chan struct{})}
}

// run listens to the other nodes and announces this one, until stop.
func (h *hub) run() error {
	stop, err := h.ps.Listen(presenceTopic, h.heard)
	if err != nil {
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

// stop tells the other nodes this one is leaving, and ends run. Calling
// it again does nothing.
func (h *hub) stop() {
	h.stopOnce.Do(func() { close(h.stopLoop) })
	<-h.loopDone
}

// announce publishes this node's roster.
func (h *hub) announce(leaving bool) {
	h.mu.Lock()
	r := h.self
	r.Members = h.localLocked()
	r.Leaving = leaving
	h.mu.Unlock()
	b, _ := json.Marshal(r)
	if err := h.ps.Publish(presenceTopic, b); err != nil {
		h.log.Warn("announcing the roster", "err", err)
	}
}

// heard takes another node's roster. It runs on the broker's goroutine,
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
		h.wake() // a new node: tell it who is here without waiting
	}
	h.presenceLocked()
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
	h.presenceLocked()
}

func (h *hub) wake() {
	select {
	case h.poke <- struct{}{}:
	default:
	}
}

// join adds c to the room and tells everyone who is online.
func (h *hub) join(c websock.Conn, m member) {
	if err := h.ps.Subscribe(c, roomTopic); err != nil {
		h.log.Warn("subscribing a member to the room", "err", err)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.members[c] = m
	h.presenceLocked()
	h.wake()
}

// leave removes c from the room and tells everyone who is left. Its
// subscription ends with the connection.
func (h *hub) leave(c websock.Conn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.members, c)
	h.presenceLocked()
	h.wake()
}

// say sends a chat message to every member of every node, the sender
// included. The members of one node get each sender's messages in order.
func (h *hub) say(from member, text string) {
	ev := encode(event{Type: "message", Name: from.Name, Server: from.Server, Node: from.Node, Text: text})
	if err := h.ps.Publish(roomTopic, ev.Data); err != nil {
		h.log.Warn("the message reached this node only", "err", err)
	}
}

// presenceLocked tells this node's members who is online, when that
// changed. Called with h.mu held, so that the members get the changes in
// one order.
func (h *hub) presenceLocked() {
	online := h.localLocked()
	for _, p := range h.nodes {
		online = append(online, p.Members...)
	}
	sortMembers(online)
	if slices.Equal(online, h.online) {
		return
	}
	h.online = online
	// One encoding, framed (and compressed) once, shared by every member.
	msg := websock.NewPrepared(websock.OpText, encode(event{Type: "presence", Online: online}).Data)
	for c := range h.members {
		// ErrMailboxFull drops the event for that one slow member;
		// ErrClosed means it is leaving. Neither concerns the others.
		_ = c.Send(msg)
	}
}

func (h *hub) localLocked() []member {
	local := make([]member, 0, len(h.members))
	for _, m := range h.members {
		local = append(local, m)
	}
	sortMembers(local)
	return local
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
