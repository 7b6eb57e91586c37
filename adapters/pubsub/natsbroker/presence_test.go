package natsbroker_test

import (
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/websock-go/websock/adapters/pubsub"
	"github.com/websock-go/websock/adapters/pubsub/pubsubtest"
)

// The presence cases on nodes with a NATS connection each, to one
// nats-server.
func TestPresenceNATS(t *testing.T) {
	pubsubtest.Run(t, func(t *testing.T, n int) []*pubsub.PubSub {
		_, url, _ := startNATS(t, 0)
		nodes := make([]*pubsub.PubSub, n)
		for i := range nodes {
			_, nodes[i] = connect(t, url)
		}
		return nodes
	})
}

// With NATS gone mid-run, Join still takes effect on its node and says
// the others were not reached; once NATS is back, they learn of it, and
// the other topics flow again.
func TestPresenceNATSOutage(t *testing.T) {
	_, url, stop := startNATS(t, 0)
	port, _ := strconv.Atoi(url[len("nats://127.0.0.1:"):])
	b1, ps1 := connect(t, url)
	b2, ps2 := connect(t, url)
	o := &pubsub.PresenceOptions{Heartbeat: pubsubtest.Heartbeat, TTL: pubsubtest.TTL}
	p1, err := pubsub.NewPresence(ps1, o)
	if err != nil {
		t.Fatal(err)
	}
	defer p1.Close()
	p2, err := pubsub.NewPresence(ps2, o)
	if err != nil {
		t.Fatal(err)
	}
	defer p2.Close()
	m := pubsubtest.NewMember(t)
	stop()
	waitFor(t, "both nodes to see NATS gone", func() bool {
		return !b1.Conn().IsConnected() && !b2.Conn().IsConnected()
	})
	err = p1.Join(m, "room", "ann", nil)
	if !errors.Is(err, pubsub.ErrBrokerUnavailable) {
		t.Fatalf("Join with NATS down = %v, want ErrBrokerUnavailable", err)
	}
	if got := p1.List("room"); len(got) != 1 || got[0].Key != "ann" {
		t.Errorf("node 1 lists %v during the outage, want ann", got)
	}
	startNATS(t, port)
	waitFor(t, "node 2 to list ann", func() bool { l := p2.List("room"); return len(l) == 1 && l[0].Key == "ann" })
	news := make(sink, 1)
	ps2.Subscribe(news, "news")
	waitFor(t, "another topic to flow", func() bool {
		ps1.Publish("news", []byte("up"))
		select {
		case <-news:
			return true
		case <-time.After(20 * time.Millisecond):
			return false
		}
	})
}

// A connection that watches the broker hears NATS go and come back.
func TestBrokerStatusNATS(t *testing.T) {
	_, url, stop := startNATS(t, 0)
	port, _ := strconv.Atoi(url[len("nats://127.0.0.1:"):])
	_, ps := connect(t, url)
	m := pubsubtest.NewMember(t)
	if st := ps.WatchBroker(m); !st.Up {
		t.Fatalf("the broker is down at the start: %v", st.Err)
	}
	stop()
	if st := pubsubtest.BrokerStatus(t, m, false); st.Err == nil || ps.Broker().Up {
		t.Errorf("down: status %+v, Broker() %+v; want an error saying why, and Broker() down", st, ps.Broker())
	}
	startNATS(t, port)
	pubsubtest.BrokerStatus(t, m, true)
	if !ps.Broker().Up {
		t.Error("Broker() says down after the up status")
	}
}
