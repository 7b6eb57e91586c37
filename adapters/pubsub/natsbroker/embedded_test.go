package natsbroker_test

import (
	"fmt"
	"log"
	"net"
	"testing"

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
