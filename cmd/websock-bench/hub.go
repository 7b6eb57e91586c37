package main

import (
	"sync"

	"github.com/websock-go/websock/websock"
)

// The fan-out hubs: each tracks its server's live connections and pushes
// one message to all of them when POST /fanout asks.

// adapterHub is the websock way: a hub goroutine (here the /fanout
// request's) calls Conn.Send on every connection; each connection's
// HandleInfo pushes the message on the connection's own goroutine.
type adapterHub struct {
	mu       sync.Mutex
	conns    map[websock.Conn]struct{}
	prepared bool // send a websock.Prepared, framed once for all
}

func newAdapterHub() *adapterHub { return &adapterHub{conns: make(map[websock.Conn]struct{})} }

// fanoutMsg is what the hub sends: one pointer for every connection, so
// that a broadcast allocates once, not once per connection.
type fanoutMsg struct{ data []byte }

// accept is the AcceptFunc of a server with a hub.
func (h *adapterHub) accept(*websock.Request) (websock.Handler, error) {
	return &hubHandler{hub: h}, nil
}

// broadcast sends data to every connection through its mailbox.
func (h *adapterHub) broadcast(data []byte) fanoutReply {
	h.mu.Lock()
	conns := make([]websock.Conn, 0, len(h.conns))
	for c := range h.conns {
		conns = append(conns, c)
	}
	h.mu.Unlock()
	var msg any = &fanoutMsg{data: data}
	if h.prepared {
		msg = websock.NewPrepared(websock.OpBinary, data)
	}
	var r fanoutReply
	for _, c := range conns {
		if c.Send(msg) != nil {
			r.Failed++
		} else {
			r.Sent++
		}
	}
	return r
}

// hubHandler echoes like the echo handler, joins the hub in Init, pushes
// what the hub sends, and leaves the hub in Terminate.
type hubHandler struct {
	hub *adapterHub
	c   websock.Conn
}

func (h *hubHandler) Init(c websock.Conn) websock.Result {
	h.c = c
	h.hub.mu.Lock()
	h.hub.conns[c] = struct{}{}
	h.hub.mu.Unlock()
	return websock.OK()
}

func (h *hubHandler) HandleIn(f websock.Frame) websock.Result { return websock.Push(f) }

func (h *hubHandler) HandleInfo(msg any) websock.Result {
	switch m := msg.(type) {
	case *fanoutMsg:
		return websock.Push(websock.Binary(m.data))
	case *websock.Prepared:
		return websock.Push(m.Frame())
	}
	return websock.OK()
}

func (h *hubHandler) Terminate(websock.Reason) {
	h.hub.mu.Lock()
	delete(h.hub.conns, h.c)
	h.hub.mu.Unlock()
}

// rawHub is the idiomatic equivalent without websock: a set of
// connections, each with its own write mutex, and a loop that writes to
// every one in turn.
type rawHub struct {
	mu    sync.Mutex
	conns map[*rawConn]struct{}
}

func newRawHub() *rawHub { return &rawHub{conns: make(map[*rawConn]struct{})} }

// rawConn is a raw connection known to a hub.
type rawConn struct {
	mu    sync.Mutex // held by every write to the connection
	write func(data []byte) error
	lib   any // the library's connection, for a hub that uses the library's own broadcast
}

// lock and unlock guard a write; they do nothing on a nil rawConn, which
// is what a raw server without a hub has.
func (c *rawConn) lock() {
	if c != nil {
		c.mu.Lock()
	}
}

func (c *rawConn) unlock() {
	if c != nil {
		c.mu.Unlock()
	}
}

// broadcast writes data to every connection, one after the other.
func (h *rawHub) broadcast(data []byte) fanoutReply {
	h.mu.Lock()
	conns := make([]*rawConn, 0, len(h.conns))
	for c := range h.conns {
		conns = append(conns, c)
	}
	h.mu.Unlock()
	var r fanoutReply
	for _, c := range conns {
		c.mu.Lock()
		err := c.write(data)
		c.mu.Unlock()
		if err != nil {
			r.Failed++
		} else {
			r.Sent++
		}
	}
	return r
}
