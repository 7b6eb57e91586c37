package natsbroker_test

import (
	"fmt"
	"log"
	"net"
	"testing"
	"time"

	"github.com/websock-go/websock/adapters/pubsub"
	"github.com/websock-go/websock/adapters/pubsub/natsbroker"
)

// A node that embeds NATS and a node that connects to it share topics;
// stop leaves no goroutine behind (TestMain checks).
func TestEmbedded(t *testing.T) {
	b1, stop, err := natsbroker.Embedded(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	url := b1.Conn().ConnectedUrl()
	if host, _, _ := net.SplitHostPort(url[len("nats://"):]); host != "127.0.0.1" {
		t.Errorf("the embedded server listens on %s, want loopback by default", url)
	}
	ps1 := pubsub.New(b1)
	defer ps1.Close()
	_, ps2 := connect(t, url)
	got := make(sink, 1)
	if err := ps2.Subscribe(got, "t"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a message from the embedding node", func() bool {
		ps1.Publish("t", []byte("hi"))
		select {
		case <-got:
			return true
		default:
			return false
		}
	})
}

func TestEmbeddedBadAddr(t *testing.T) {
	for _, addr := range []string{"nonsense", "127.0.0.1:x", "127.0.0.1:70000"} {
		if _, _, err := natsbroker.Embedded(&natsbroker.EmbeddedOptions{Addr: addr}); err == nil {
			t.Errorf("Embedded on %q succeeded", addr)
		}
	}
	b, stop, err := natsbroker.Embedded(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	_, port, _ := net.SplitHostPort(b.Conn().ConnectedUrl()[len("nats://"):])
	_, _, err = natsbroker.Embedded(&natsbroker.EmbeddedOptions{Addr: "127.0.0.1:" + port})
	if err == nil {
		t.Error("a second embedded server on the same port started")
	}
}

// A deployment with no NATS to run: the first node embeds the server;
// the others connect to its URL (here the same process stands for both).
func ExampleEmbedded() {
	b, stop, err := natsbroker.Embedded(nil) // 127.0.0.1, a free port
	if err != nil {
		log.Fatal(err)
	}
	defer stop()
	ps := pubsub.New(b)
	defer ps.Close()

	// Another node:
	other, err := natsbroker.Connect(b.Conn().ConnectedUrl(), nil)
	if err != nil {
		log.Fatal(err)
	}
	defer other.Close()
	fmt.Println(other.Conn().IsConnected())
	// Output: true
}

// freeAddr returns a loopback address nothing listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// Three nodes each embed a server of one cluster; the first, which the
// others joined, goes away, and the other two still reach each other.
func TestEmbeddedCluster(t *testing.T) {
	clusters := []string{freeAddr(t), freeAddr(t), freeAddr(t)}
	var pss []*pubsub.PubSub
	var stops []func()
	for i, c := range clusters {
		o := &natsbroker.EmbeddedOptions{Cluster: c}
		if i > 0 {
			o.Routes = clusters[:1]
		}
		b, stop, err := natsbroker.Embedded(o)
		if err != nil {
			t.Fatal(err)
		}
		ps := pubsub.New(b)
		pss, stops = append(pss, ps), append(stops, stop)
		defer stop()
		defer ps.Close()
	}
	got := make(sink, 16)
	if err := pss[1].Subscribe(got, "t"); err != nil {
		t.Fatal(err)
	}
	crosses := func(what string) {
		t.Helper()
		waitFor(t, what, func() bool {
			pss[2].Publish("t", []byte("hi"))
			select {
			case <-got:
				return true
			case <-time.After(20 * time.Millisecond):
				return false
			}
		})
	}
	crosses("node 3's message to reach node 2 through the cluster")
	pss[0].Close()
	stops[0]() // the first node, and its server, go
	for len(got) > 0 {
		<-got
	}
	crosses("node 3's message to reach node 2 with node 1 gone")
}
