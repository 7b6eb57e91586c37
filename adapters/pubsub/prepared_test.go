package pubsub_test

import (
	"testing"

	"github.com/websock-go/websock/adapters/pubsub"
	"github.com/websock-go/websock/websock"
)

// pusher subscribes in Init and pushes every message as a prepared text
// frame, handing over the websock.Prepared it pushed.
type pusher struct {
	ps       *pubsub.PubSub
	ready    chan struct{}
	prepared chan *websock.Prepared
}

func (p *pusher) Init(c websock.Conn) websock.Result {
	defer close(p.ready)
	if err := p.ps.Subscribe(c, "news"); err != nil {
		return websock.Stop(err)
	}
	return websock.OK()
}

func (p *pusher) HandleIn(websock.Frame) websock.Result { return websock.OK() }

func (p *pusher) HandleInfo(msg any) websock.Result {
	f := msg.(*pubsub.Message).Text()
	p.prepared <- f.Prepared()
	return websock.Push(f)
}

func (p *pusher) Terminate(websock.Reason) {}

// TestMessageFramesShared checks that every subscriber of a publish pushes
// the same prepared frame, and that it carries the published data.
func TestMessageFramesShared(t *testing.T) {
	ps := pubsub.New(nil)
	t.Cleanup(ps.Close)
	hs := make(chan *pusher, 1)
	srv := newServer(t, func(*websock.Request) (websock.Handler, error) { return <-hs, nil }, nil)
	prepared := make(chan *websock.Prepared, 4)
	var clients []*client
	for range 3 {
		h := &pusher{ps: ps, ready: make(chan struct{}), prepared: prepared}
		hs <- h
		clients = append(clients, srv.dial(t))
		<-h.ready
	}
	for round, data := range []string{"first", "second"} {
		if err := ps.Publish("news", []byte(data)); err != nil {
			t.Fatal(err)
		}
		for i, c := range clients {
			if got := c.read(t); got != data {
				t.Errorf("round %d, client %d: got %q, want %q", round, i, got, data)
			}
		}
		first := <-prepared
		if first == nil || first.Op() != websock.OpText || string(first.Data()) != data {
			t.Fatalf("round %d: Message.Text pushed %v; want a prepared text message %q", round, first, data)
		}
		for i := 1; i < len(clients); i++ {
			if p := <-prepared; p != first {
				t.Errorf("round %d: subscribers pushed distinct prepared messages %p and %p; want one per publish", round, first, p)
			}
		}
	}
}

func TestMessageFramesOfAMessageMadeElsewhere(t *testing.T) {
	m := &pubsub.Message{Topic: "t", Data: []byte("x")}
	if f := m.Text(); f.Op != websock.OpText || string(f.Data) != "x" || f.Prepared() != nil {
		t.Errorf("Text() = %v %q %v; want a plain text frame of the data", f.Op, f.Data, f.Prepared())
	}
	if f := m.Binary(); f.Op != websock.OpBinary || string(f.Data) != "x" {
		t.Errorf("Binary() = %v %q; want a binary frame of the data", f.Op, f.Data)
	}
}
