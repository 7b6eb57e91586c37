package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"go.uber.org/goleak"

	"github.com/websock-go/websock/internal/redistest"
)

// TestTwoNodesThroughNATS runs two demo nodes joined by the NATS server
// the first one embeds: a message said on one reaches the other's
// members, who is online spans both, the second node lets in a page of
// the first (whose pages move there on a restart), and a restart of the
// first closes its members with 1012.
func TestTwoNodesThroughNATS(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent(), fasthttpDate)
	d1, err := start(config{pageAddr: "127.0.0.1:0", node: "node-1", nats: "embedded", natsAddr: "127.0.0.1:0", restart: true})
	if err != nil {
		t.Fatal(err)
	}
	defer d1.shutdown(context.Background())
	d2, err := start(config{pageAddr: "127.0.0.1:0", node: "node-2", nats: d1.natsURL})
	if err != nil {
		t.Fatal(err)
	}
	defer d2.shutdown(context.Background())

	alice := dial(t, d1, d1.servers[0], "alice")
	defer alice.Close()
	bob := dial(t, d2, d2.servers[1], "bob")
	defer bob.Close()
	for _, ws := range []*websocket.Conn{alice, bob} {
		waitOnline(t, ws, "alice", "bob")
	}

	say(t, alice, "hello from node 1")
	if ev := next(t, bob, "message"); ev.Text != "hello from node 1" || ev.Name != "alice" || ev.Node != "node-1" {
		t.Errorf("bob on node 2 got %+v, want alice's message from node-1", ev)
	}
	say(t, bob, "hello back")
	next(t, alice, "message") // her own, first
	if ev := next(t, alice, "message"); ev.Text != "hello back" || ev.Node != "node-2" {
		t.Errorf("alice on node 1 got %+v, want bob's message from node-2", ev)
	}

	// Node 2 lists node 1's servers after its own, and lets in a browser
	// on node 1's page, once it heard node 1's announcement (on a topic
	// of its own, apart from who is online).
	for deadline := time.Now().Add(10 * time.Second); len(d2.hub.servers()) < 2*len(d2.servers) && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	if got := d2.hub.servers(); len(got) != 2*len(d2.servers) || got[len(d2.servers)].Node != "node-1" {
		t.Errorf("node 2 lists servers %+v; want its own, then node-1's", got)
	}
	h := http.Header{"Origin": {strings.TrimSuffix(d1.pageURL, "/")}}
	carol, _, err := websocket.DefaultDialer.Dial(d2.servers[0].URL+"?name=carol", h)
	if err != nil {
		t.Fatalf("node 2 refused a page of node 1: %v", err)
	}
	carol.SetReadDeadline(time.Now().Add(10 * time.Second))
	defer carol.Close()
	waitOnline(t, carol, "alice", "bob", "carol")

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- d1.shutdown(ctx) }()
	if code := closeCode(t, alice); code != websocket.CloseServiceRestart {
		t.Errorf("alice got close %d when node 1 restarted, want 1012", code)
	}
	if err := <-done; err != nil {
		t.Errorf("node 1 shutdown: %v", err)
	}
	waitOnline(t, bob, "bob", "carol") // node 1 said it left
}

// say sends a chat message.
func say(t *testing.T, ws *websocket.Conn, text string) {
	t.Helper()
	if err := ws.WriteJSON(command{Type: "say", Text: text}); err != nil {
		t.Fatal(err)
	}
}

// waitOnline reads presence events until one lists exactly names.
func waitOnline(t *testing.T, ws *websocket.Conn, names ...string) {
	t.Helper()
	for {
		ev := next(t, ws, "presence")
		var got []string
		for _, m := range ev.Online {
			got = append(got, m.Name)
		}
		if strings.Join(got, ",") == strings.Join(names, ",") {
			return
		}
	}
}

// TestTwoNodesThroughRedis runs two demo nodes joined by a redis-server:
// who is online spans both, and a message said on one reaches the other.
func TestTwoNodesThroughRedis(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent(), fasthttpDate)
	srv := redistest.Start(t)
	defer srv.Kill() // before goleak looks
	var ds [2]*demo
	for i := range ds {
		d, err := start(config{pageAddr: "127.0.0.1:0", node: fmt.Sprint("node-", i+1), redis: srv.URL()})
		if err != nil {
			t.Fatal(err)
		}
		defer d.shutdown(context.Background())
		ds[i] = d
	}
	alice := dial(t, ds[0], ds[0].servers[0], "alice")
	defer alice.Close()
	bob := dial(t, ds[1], ds[1].servers[1], "bob")
	defer bob.Close()
	for _, ws := range []*websocket.Conn{alice, bob} {
		waitOnline(t, ws, "alice", "bob")
	}
	say(t, alice, "hello over Redis")
	if ev := next(t, bob, "message"); ev.Text != "hello over Redis" || ev.Node != "node-1" {
		t.Errorf("bob on node 2 got %+v, want alice's message from node-1", ev)
	}
	if _, err := start(config{pageAddr: "127.0.0.1:0", redis: srv.URL(), nats: "embedded"}); err == nil {
		t.Error("a node with both -redis and -nats started")
	}

	// Redis goes: each member is told its messages stay on its node;
	// Redis comes back: told again, and messages cross again.
	srv.Kill()
	for _, ws := range []*websocket.Conn{alice, bob} {
		if ev := next(t, ws, "error"); !strings.Contains(ev.Text, "unreachable") {
			t.Errorf("with Redis gone, a member got %q, want word that the other nodes are unreachable", ev.Text)
		}
	}
	srv.Restart()
	for _, ws := range []*websocket.Conn{alice, bob} {
		if ev := next(t, ws, "error"); !strings.Contains(ev.Text, "reachable again") {
			t.Errorf("with Redis back, a member got %q, want word that the other nodes are reachable again", ev.Text)
		}
	}
	// What is said before node 2's subscription is made again is lost:
	// say it until it crosses.
	stop := make(chan struct{})
	said := make(chan struct{})
	go func() {
		defer close(said)
		for {
			if alice.WriteJSON(command{Type: "say", Text: "back over Redis"}) != nil {
				return
			}
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	}()
	defer func() { close(stop); <-said }()
	if ev := next(t, bob, "message"); ev.Text != "back over Redis" {
		t.Errorf("bob got %+v once Redis was back, want alice's message", ev)
	}
}

// TestNATSClusterSurvivesItsFirstNode runs three demo nodes, each
// embedding a NATS server of one cluster: when the first node, whose
// server the others joined, stops, the other two still chat and list
// each other.
func TestNATSClusterSurvivesItsFirstNode(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent(), fasthttpDate)
	var clusters []string
	for range 3 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		clusters = append(clusters, ln.Addr().String())
		ln.Close()
	}
	var ds []*demo
	for i, c := range clusters {
		cfg := config{pageAddr: "127.0.0.1:0", node: fmt.Sprint("node-", i+1), nats: "embedded", natsAddr: "127.0.0.1:0", natsCluster: c}
		if i > 0 {
			cfg.natsRoutes = clusters[:1]
		}
		d, err := start(cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer d.shutdown(context.Background())
		ds = append(ds, d)
	}
	bob := dial(t, ds[1], ds[1].servers[0], "bob")
	defer bob.Close()
	carol := dial(t, ds[2], ds[2].servers[0], "carol")
	defer carol.Close()
	waitOnline(t, bob, "bob", "carol")
	if err := ds[0].shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	said := make(chan struct{})
	go func() {
		defer close(said)
		for {
			if carol.WriteJSON(command{Type: "say", Text: "node 1 is gone"}) != nil {
				return
			}
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	}()
	defer func() { close(stop); <-said }()
	if ev := next(t, bob, "message"); ev.Text != "node 1 is gone" || ev.Node != "node-3" {
		t.Errorf("bob on node 2 got %+v, want carol's message from node-3", ev)
	}
	if _, err := start(config{pageAddr: "127.0.0.1:0", nats: "nats://127.0.0.1:1", natsCluster: clusters[0]}); err == nil {
		t.Error("a node with -nats-cluster but not -nats embedded started")
	}
}
