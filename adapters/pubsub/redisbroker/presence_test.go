package redisbroker_test

import (
	"errors"
	"testing"
	"time"

	"github.com/websock-go/websock/adapters/pubsub"
	"github.com/websock-go/websock/adapters/pubsub/pubsubtest"
	"github.com/websock-go/websock/internal/redistest"
)

// The presence cases on nodes with a Redis client each, to one
// redis-server.
func TestPresenceRedis(t *testing.T) {
	pubsubtest.Run(t, func(t *testing.T, n int) []*pubsub.PubSub {
		srv := redistest.Start(t)
		nodes := make([]*pubsub.PubSub, n)
		for i := range nodes {
			_, nodes[i] = connect(t, srv.URL())
		}
		return nodes
	})
}

// With Redis killed mid-run, Join still takes effect on its node and says
// the others were not reached; once Redis is back, they learn of it, and
// the other topics flow again.
func TestPresenceRedisOutage(t *testing.T) {
	srv := redistest.Start(t)
	_, ps1 := connect(t, srv.URL())
	_, ps2 := connect(t, srv.URL())
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
	srv.Kill()
	err = p1.Join(m, "room", "ann", nil)
	if !errors.Is(err, pubsub.ErrBrokerUnavailable) {
		t.Fatalf("Join with Redis down = %v, want ErrBrokerUnavailable", err)
	}
	if got := p1.List("room"); len(got) != 1 || got[0].Key != "ann" {
		t.Errorf("node 1 lists %v during the outage, want ann", got)
	}
	srv.Restart()
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

// A connection that watches the broker hears Redis go and come back.
func TestBrokerStatusRedis(t *testing.T) {
	srv := redistest.Start(t)
	_, ps := connect(t, srv.URL())
	m := pubsubtest.NewMember(t)
	if st := ps.WatchBroker(m); !st.Up {
		t.Fatalf("the broker is down at the start: %v", st.Err)
	}
	srv.Kill()
	st := pubsubtest.BrokerStatus(t, m, false)
	if st.Err == nil || ps.Broker().Up {
		t.Errorf("down: status %+v, Broker() %+v; want an error saying why, and Broker() down", st, ps.Broker())
	}
	srv.Restart()
	pubsubtest.BrokerStatus(t, m, true)
	if !ps.Broker().Up {
		t.Error("Broker() says down after the up status")
	}
}
