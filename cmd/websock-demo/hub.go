package main

import (
	"slices"
	"strings"
	"sync"

	"github.com/websock-go/websock/websock"
)

// hub is the chat room every connection joins, whatever adapter serves it.
// It only ever talks to connections through Conn.Send, which never blocks,
// so a slow client cannot stall the room: its messages reach its own
// HandleInfo, in the order the hub sent them, or are dropped when its
// mailbox is full.
type hub struct {
	mu      sync.Mutex
	members map[websock.Conn]member
}

// member is one connection in the room.
type member struct {
	Name   string `json:"name"`
	Server string `json:"server"` // the adapter that serves it
}

// event is what the server sends to the page, as JSON in a text message.
type event struct {
	Type   string   `json:"type"`             // "welcome", "message", "presence" or "error"
	Name   string   `json:"name,omitempty"`   // who wrote the message
	Server string   `json:"server,omitempty"` // the adapter it came through
	Text   string   `json:"text,omitempty"`
	Online []member `json:"online,omitempty"` // for "presence"
	// Compressed says, in "welcome", whether permessage-deflate was
	// negotiated.
	Compressed bool `json:"compressed,omitempty"`
}

// outgoing is an encoded event on its way to a connection's HandleInfo.
// One encoding is shared, read-only, by every member.
type outgoing []byte

func newHub() *hub { return &hub{members: map[websock.Conn]member{}} }

// join adds c to the room and tells everyone who is online.
func (h *hub) join(c websock.Conn, m member) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.members[c] = m
	h.broadcastLocked(event{Type: "presence", Online: h.onlineLocked()})
}

// leave removes c from the room and tells everyone who is left.
func (h *hub) leave(c websock.Conn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.members, c)
	h.broadcastLocked(event{Type: "presence", Online: h.onlineLocked()})
}

// say sends a chat message to every member, the sender included.
func (h *hub) say(from member, text string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.broadcastLocked(event{Type: "message", Name: from.Name, Server: from.Server, Text: text})
}

// broadcastLocked sends ev to every member. It runs under h.mu, so every
// member gets the room's events in one and the same order.
func (h *hub) broadcastLocked(ev event) {
	msg := encode(ev).Data
	for c := range h.members {
		// ErrMailboxFull drops the event for that one slow member;
		// ErrClosed means it is leaving. Neither concerns the others.
		_ = c.Send(outgoing(msg))
	}
}

func (h *hub) onlineLocked() []member {
	online := make([]member, 0, len(h.members))
	for _, m := range h.members {
		online = append(online, m)
	}
	slices.SortFunc(online, func(a, b member) int {
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return strings.Compare(a.Server, b.Server)
	})
	return online
}
