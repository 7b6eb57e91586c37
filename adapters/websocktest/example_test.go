package websocktest_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/websock-go/websock/adapters/pubsub"
	"github.com/websock-go/websock/adapters/websocktest"
	"github.com/websock-go/websock/websock"
)

// A chat room handler and its test. The handler greets each member,
// broadcasts what one says to all through a hub, and lets a member leave
// with "/quit".
type hub struct {
	mu      sync.Mutex
	members map[websock.Conn]bool
}

func (h *hub) join(c websock.Conn)  { h.mu.Lock(); h.members[c] = true; h.mu.Unlock() }
func (h *hub) leave(c websock.Conn) { h.mu.Lock(); delete(h.members, c); h.mu.Unlock() }
func (h *hub) broadcast(text string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for c := range h.members {
		c.Send(text) // reaches each member's HandleInfo
	}
}

type room struct {
	name string
	hub  *hub
	conn websock.Conn
}

func (r *room) Init(c websock.Conn) websock.Result {
	r.conn = c
	r.hub.join(c)
	return websock.Push(websock.TextString("welcome to " + r.name))
}

func (r *room) HandleIn(f websock.Frame) websock.Result {
	if string(f.Data) == "/quit" {
		return websock.StopCode(nil, websock.CloseNormal, "bye")
	}
	r.hub.broadcast(string(f.Data))
	return websock.OK()
}

func (r *room) HandleInfo(msg any) websock.Result {
	return websock.Push(websock.TextString(msg.(string)))
}

func (r *room) Terminate(websock.Reason) { r.hub.leave(r.conn) }

func Example_chatRoom() {
	t := exampleT() // in a test, the test's t
	defer t.end()
	h := &hub{members: map[websock.Conn]bool{}}

	c := websocktest.New(t, &room{name: "lobby", hub: h}, nil)
	c.ExpectText(t, "welcome to lobby")
	c.SendText("hi all")
	c.ExpectText(t, "hi all") // the broadcast reaches the sender too
	c.SendText("/quit")
	c.ExpectClose(t, websock.CloseNormal)
	fmt.Println(c.Reason(t).Kind)
	// Output: normal
}

// Two members of one room: what one says, both read.
func ExampleServer_Dial() {
	t := exampleT()
	defer t.end()
	h := &hub{members: map[websock.Conn]bool{}}
	s := websocktest.NewServer(t, func(r *websock.Request) (websock.Handler, error) {
		name := r.URL.Query().Get("room")
		if name == "" {
			return nil, websock.Refuse(http.StatusBadRequest, "which room?")
		}
		return &room{name: name, hub: h}, nil
	}, nil)

	_, refused := s.Dial(websocktest.NewRequest("/chat"))
	fmt.Println(refused.Status, refused.Body)

	ann, _ := s.Dial(websocktest.NewRequest("/chat?room=lobby"))
	bob, _ := s.Dial(websocktest.NewRequest("/chat?room=lobby"))
	ann.ExpectText(t, "welcome to lobby")
	bob.ExpectText(t, "welcome to lobby")
	ann.SendText("hello bob")
	ann.ExpectText(t, "hello bob")
	bob.ExpectText(t, "hello bob")
	fmt.Println(s.Live(), "members")
	// Output:
	// 400 which room?
	// 2 members
}

// A request with a header, a cookie and a context value, and the
// subprotocol the engine chooses.
func ExampleNewRequest() {
	t := exampleT()
	defer t.end()
	type userKey struct{}
	s := websocktest.NewServer(t, func(r *websock.Request) (websock.Handler, error) {
		user, _ := r.Context().Value(userKey{}).(string)
		cookie, err := r.HTTPRequest().Cookie("session")
		if user == "" || err != nil {
			return nil, websock.Refuse(http.StatusUnauthorized, "log in first")
		}
		return &room{name: user + "'s room (" + cookie.Value + ")", hub: &hub{members: map[websock.Conn]bool{}}}, nil
	}, &websocktest.Options{Subprotocols: []string{"chat.v2", "chat.v1"}})

	r := websocktest.NewRequest("/chat")
	r.AddCookie(&http.Cookie{Name: "session", Value: "s3"})
	r.Header.Set("Sec-WebSocket-Protocol", "chat.v1, chat.v2")
	r = r.WithContext(context.WithValue(r.Context(), userKey{}, "ann"))
	c, _ := s.Dial(r)
	fmt.Println(c.Subprotocol())
	fmt.Println(c.NextText(t))
	// Output:
	// chat.v2
	// welcome to ann's room (s3)
}

// HandleInfo gets what Conn.Send queues; Info sends it from the test.
func ExampleConn_Info() {
	t := exampleT()
	defer t.end()
	c := websocktest.New(t, &room{name: "news", hub: &hub{members: map[websock.Conn]bool{}}}, nil)
	c.ExpectText(t, "welcome to news")
	c.Info("breaking")
	fmt.Println(c.NextText(t))
	// Output: breaking
}

// A handler that pushes what its topic publishes, tested through
// pubsub's in-process broker.
type ticker struct{ ps *pubsub.PubSub }

func (k *ticker) Init(c websock.Conn) websock.Result {
	if err := k.ps.Subscribe(c, "prices"); err != nil {
		return websock.Stop(err)
	}
	return websock.OK()
}
func (k *ticker) HandleIn(websock.Frame) websock.Result { return websock.OK() }
func (k *ticker) HandleInfo(msg any) websock.Result {
	return websock.Push(msg.(*pubsub.Message).Text())
}
func (k *ticker) Terminate(websock.Reason) {}

func Example_pubsub() {
	t := exampleT()
	defer t.end()
	ps := pubsub.New(nil) // in-process
	c := websocktest.New(t, &ticker{ps: ps}, nil)
	ps.Publish("prices", []byte("AAPL 231.4"))
	fmt.Println(c.NextText(t))
	// Output: AAPL 231.4
}

// The clock moves when the test says so: an idle connection ends after
// IdleTimeout without the test waiting for it.
func ExampleConn_Advance() {
	t := exampleT()
	defer t.end()
	c := websocktest.New(t, echo, &websocktest.Options{IdleTimeout: time.Minute, PingInterval: -1})
	c.Advance(time.Minute)
	c.ExpectClose(t, websock.CloseGoingAway)
	fmt.Println(errors.Is(c.Reason(t).Err, websock.ErrIdleTimeout))
	// Output: true
}

// Keepalive: the engine pings a silent peer and ends the connection when
// no pong comes within PongTimeout.
func ExampleConn_ExpectPing() {
	t := exampleT()
	defer t.end()
	c := websocktest.New(t, echo, &websocktest.Options{PingInterval: 25 * time.Second, PongTimeout: 10 * time.Second})
	c.Advance(25 * time.Second)
	c.ExpectPing(t)
	c.Advance(10 * time.Second) // no pong
	c.ExpectClose(t, websock.CloseGoingAway)
	fmt.Println(c.Reason(t).Err)
	// Output: websock: no pong to a keepalive ping within the pong timeout
}

// A client handler against a scripted server: the server refuses the
// first dial, and the handler, asked what to do, dials again a second
// later.
type retrier struct{ attempts []int }

func (r *retrier) Init(websock.Conn) websock.Result      { return websock.Push(websock.TextString("hello")) }
func (r *retrier) HandleIn(websock.Frame) websock.Result { return websock.OK() }
func (r *retrier) HandleInfo(any) websock.Result         { return websock.OK() }
func (r *retrier) Terminate(websock.Reason)              {}
func (r *retrier) HandleDisconnect(d websock.Disconnect) websock.Reconnect {
	r.attempts = append(r.attempts, d.Attempt)
	return websock.Reconnect{Delay: time.Second}
}

func ExampleNewPeer() {
	t := exampleT()
	defer t.end()
	p := websocktest.NewPeer(t)
	h := &retrier{}
	p.Dial(h, &websocktest.DialOptions{RetryInitialDial: true})

	p.Next(t).Refuse(http.StatusServiceUnavailable, "starting up")
	p.Clock().WaitTimer(t, time.Second)
	p.Advance(time.Second)
	server := p.Next(t).Accept("")
	server.ExpectText(t, "hello")
	fmt.Println("attempts:", h.attempts)
	// Output: attempts: [1]
}

// exampleT stands in, in these examples, for the *testing.T of a test: it
// prints failures and runs the cleanups at the end, as a test does.
func exampleT() *stand { return &stand{} }

type stand struct {
	testing.TB // the methods websocktest does not call
	cleanups   []func()
}

func (s *stand) Helper()                           {}
func (s *stand) Cleanup(f func())                  { s.cleanups = append(s.cleanups, f) }
func (s *stand) Errorf(format string, args ...any) { fmt.Printf(format+"\n", args...) }
func (s *stand) Fatalf(format string, args ...any) { panic(fmt.Sprintf(format, args...)) }

func (s *stand) end() {
	for i := len(s.cleanups) - 1; i >= 0; i-- {
		s.cleanups[i]()
	}
}
