package websock_test

import (
	"fmt"
	"net/http/httptest"
	"strings"
	"sync"

	"github.com/gorilla/websocket"

	"github.com/websock-go/websock/adapters/gorilla"
	"github.com/websock-go/websock/websock"
)

// listener is a Handler that pushes every prepared message sent to it.
type listener struct {
	room *room
	conn websock.Conn
}

func (l *listener) Init(c websock.Conn) websock.Result {
	l.conn = c
	l.room.join(c)
	return websock.OK()
}

func (l *listener) HandleIn(websock.Frame) websock.Result { return websock.OK() }

func (l *listener) HandleInfo(msg any) websock.Result {
	if p, ok := msg.(*websock.Prepared); ok {
		return websock.Push(p.Frame())
	}
	return websock.OK()
}

func (l *listener) Terminate(websock.Reason) { l.room.leave(l.conn) }

// room holds the connections a broadcast goes to.
type room struct {
	mu     sync.Mutex
	conns  map[websock.Conn]bool
	joined chan struct{}
}

func (r *room) join(c websock.Conn) {
	r.mu.Lock()
	r.conns[c] = true
	r.mu.Unlock()
	r.joined <- struct{}{}
}

func (r *room) leave(c websock.Conn) {
	r.mu.Lock()
	delete(r.conns, c)
	r.mu.Unlock()
}

// broadcast makes one Prepared message and sends it to every connection:
// the adapter frames it once, not once per connection.
func (r *room) broadcast(text string) {
	p := websock.NewPrepared(websock.OpText, []byte(text))
	r.mu.Lock()
	defer r.mu.Unlock()
	for c := range r.conns {
		c.Send(p)
	}
}

// A broadcast encodes its message once, as a Prepared, and every
// connection's HandleInfo pushes it.
func ExamplePrepared() {
	rm := &room{conns: map[websock.Conn]bool{}, joined: make(chan struct{}, 3)}
	h, err := gorilla.New(func(*websock.Request) (websock.Handler, error) {
		return &listener{room: rm}, nil
	}, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	srv := httptest.NewServer(h)
	defer srv.Close()

	var clients []*websocket.Conn
	for range 3 {
		ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
		if err != nil {
			fmt.Println(err)
			return
		}
		defer ws.Close()
		clients = append(clients, ws)
		<-rm.joined
	}
	rm.broadcast("to everyone, framed once")
	for i, ws := range clients {
		_, msg, err := ws.ReadMessage()
		fmt.Println(i, string(msg), err)
	}
	// Output:
	// 0 to everyone, framed once <nil>
	// 1 to everyone, framed once <nil>
	// 2 to everyone, framed once <nil>
}
