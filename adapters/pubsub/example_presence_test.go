package pubsub_test

import (
	"fmt"
	"log"

	"github.com/websock-go/websock/adapters/pubsub"
	"github.com/websock-go/websock/websock"
)

// roomMember is a handler that joins the room's presence in Init and
// pushes each change of who is there to its client.
type roomMember struct {
	ps   *pubsub.PubSub
	p    *pubsub.Presence
	name string
}

func (m *roomMember) Init(c websock.Conn) websock.Result {
	if err := m.ps.Subscribe(c, "room.1"); err != nil { // diffs go to the topic's subscribers
		return websock.Stop(err)
	}
	if err := m.p.Join(c, "room.1", m.name, []byte(`{"status":"online"}`)); err != nil {
		log.Print(err) // the broker is down: the others learn of it when it is back
	}
	return websock.OK()
}

func (m *roomMember) HandleIn(websock.Frame) websock.Result { return websock.OK() }

func (m *roomMember) HandleInfo(msg any) websock.Result {
	switch msg := msg.(type) {
	case *pubsub.PresenceDiff:
		var fs []websock.Frame
		for _, e := range msg.Joins {
			fs = append(fs, websock.TextString(e.Key+" joined"))
		}
		for _, e := range msg.Leaves {
			fs = append(fs, websock.TextString(e.Key+" left"))
		}
		return websock.Push(fs...)
	case *pubsub.Message:
		return websock.Push(msg.Text())
	}
	return websock.OK()
}

// The entry leaves by itself when the connection ends.
func (m *roomMember) Terminate(websock.Reason) {}

// One Presence per node, on the node's PubSub (here in process; over
// NATS or Redis the code is the same). List answers who is in a topic on
// every node.
func ExamplePresence() {
	ps := pubsub.New(nil)
	defer ps.Close()
	p, err := pubsub.NewPresence(ps, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer p.Close()
	_ = &roomMember{ps: ps, p: p, name: "ann"} // what an AcceptFunc returns

	// A connection from outside the engine stands in for one here.
	var c websock.Conn = &roomConn{}
	p.Join(c, "room.1", "ann", nil)
	for _, e := range p.List("room.1") {
		fmt.Println(e.Key)
	}
	// Output: ann
}

type roomConn struct{}

func (*roomConn) Send(any) error          { return nil }
func (*roomConn) Info() *websock.ConnInfo { return &websock.ConnInfo{} }
