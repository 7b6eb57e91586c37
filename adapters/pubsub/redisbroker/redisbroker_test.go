package redisbroker_test

import (
	"errors"
	"strconv"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/websock-go/websock/adapters/pubsub"
	"github.com/websock-go/websock/adapters/pubsub/pubsubtest"
	"github.com/websock-go/websock/adapters/pubsub/redisbroker"
	"github.com/websock-go/websock/internal/redistest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// sink is a subscriber whose mailbox is a channel.
type sink = pubsubtest.Sink

func connect(t *testing.T, url string) (*redisbroker.Broker, *pubsub.PubSub) {
	t.Helper()
	b, err := redisbroker.Connect(url, &redisbroker.Options{HealthCheck: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ps := pubsub.New(b)
	t.Cleanup(func() { ps.Close(); b.Close() })
	return b, ps
}

// subscribed waits until Redis counts n subscribers on the channel of
// topic: a subscription is made asynchronously after a reconnect.
func subscribed(t *testing.T, srv *redistest.Server, topic string, n int) {
	t.Helper()
	waitFor(t, "Redis to count the subscriptions to "+topic, func() bool {
		return numsub(srv, topic) >= n
	})
}

func numsub(srv *redistest.Server, topic string) int {
	// PUBSUB NUMSUB answers an array (channel, count): ask for the count
	// alone, an integer.
	n, _ := strconv.Atoi(srv.Do("EVAL", "return redis.call('PUBSUB','NUMSUB',ARGV[1])[2]", "0", redisbroker.DefaultPrefix+topic)[1:])
	return n
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// A publish reaches every subscriber of the other node as one Redis
// PUBLISH, and the publishing node's own subscribers directly.
func TestOneRedisPublishPerPublish(t *testing.T) {
	srv := redistest.Start(t)
	_, ps1 := connect(t, srv.URL())
	_, ps2 := connect(t, srv.URL())
	local := make(sink, 1)
	remote := make([]sink, 50)
	if err := ps1.Subscribe(local, "room"); err != nil {
		t.Fatal(err)
	}
	for i := range remote {
		remote[i] = make(sink, 1)
		if err := ps2.Subscribe(remote[i], "room"); err != nil {
			t.Fatal(err)
		}
	}
	subscribed(t, srv, "room", 2)
	before := srv.PublishCalls()
	if err := ps1.Publish("room", []byte("hello")); err != nil {
		t.Fatal(err)
	}
	if got := local.Next(t); got != "hello" {
		t.Errorf("local subscriber got %q", got)
	}
	for i, r := range remote {
		if got := r.Next(t); got != "hello" {
			t.Errorf("remote subscriber %d got %q", i, got)
		}
	}
	if got := srv.PublishCalls() - before; got != 1 {
		t.Errorf("Redis ran %d PUBLISH commands for one publish to 50 subscribers on one node, want 1", got)
	}
	// A message to itself would come back through Redis: one more
	// publish from the other node flushes the channel, in order.
	if err := ps2.Publish("room", []byte("flush")); err != nil {
		t.Fatal(err)
	}
	if got := local.Next(t); got != "flush" {
		t.Errorf("local subscriber got %q twice (its own node's message came back through Redis)", got)
	}
}

// With Redis down, Publish says so and still delivers locally; once Redis
// is back, the subscriptions work again.
func TestRedisOutage(t *testing.T) {
	srv := redistest.Start(t)
	_, ps1 := connect(t, srv.URL())
	_, ps2 := connect(t, srv.URL())
	local, remote := make(sink, 4), make(sink, 4)
	ps1.Subscribe(local, "news")
	ps2.Subscribe(remote, "news")
	subscribed(t, srv, "news", 2)
	if err := ps1.Publish("news", []byte("1")); err != nil {
		t.Fatal(err)
	}
	local.Next(t)
	if got := remote.Next(t); got != "1" {
		t.Fatalf("remote got %q, want 1", got)
	}

	srv.Kill()
	err := ps1.Publish("news", []byte("2"))
	if !errors.Is(err, pubsub.ErrBrokerUnavailable) {
		t.Fatalf("Publish with Redis down = %v, want ErrBrokerUnavailable", err)
	}
	if got := local.Next(t); got != "2" {
		t.Errorf("local subscriber got %q during the outage, want 2", got)
	}
	// A topic subscribed to during the outage is subscribed when Redis
	// is back.
	late := make(sink, 4)
	if err := ps2.Subscribe(late, "late"); err != nil {
		t.Fatalf("Subscribe with Redis down = %v, want it recorded for the reconnect", err)
	}

	srv.Restart()
	subscribed(t, srv, "news", 2)
	subscribed(t, srv, "late", 1)
	waitFor(t, "node 1 to publish again", func() bool { return ps1.Publish("news", []byte("3")) == nil })
	if got := remote.Next(t); got != "3" {
		t.Errorf("remote got %q after Redis came back, want 3 (2 was published during the outage)", got)
	}
	if err := ps1.Publish("late", []byte("4")); err != nil {
		t.Fatal(err)
	}
	if got := late.Next(t); got != "4" {
		t.Errorf("a topic subscribed during the outage got %q, want 4", got)
	}
}

// One publisher's messages reach the other node's subscribers in order.
func TestOrderAcrossRedis(t *testing.T) {
	srv := redistest.Start(t)
	_, ps1 := connect(t, srv.URL())
	_, ps2 := connect(t, srv.URL())
	const n = 500
	subs := []sink{make(sink, n), make(sink, n)}
	for _, s := range subs {
		if err := ps2.Subscribe(s, "seq"); err != nil {
			t.Fatal(err)
		}
	}
	subscribed(t, srv, "seq", 1)
	for i := range n {
		if err := ps1.Publish("seq", []byte(strconv.Itoa(i))); err != nil {
			t.Fatal(err)
		}
	}
	for si, s := range subs {
		for i := range n {
			if got := s.Next(t); got != strconv.Itoa(i) {
				t.Fatalf("subscriber %d got message %s at place %d", si, got, i)
			}
		}
	}
}

// A topic whose last local subscriber left is unsubscribed in Redis.
func TestUnsubscribeLast(t *testing.T) {
	srv := redistest.Start(t)
	_, ps := connect(t, srv.URL())
	a, b := make(sink, 1), make(sink, 1)
	ps.Subscribe(a, "t")
	ps.Subscribe(b, "t")
	subscribed(t, srv, "t", 1)
	ps.Unsubscribe(a, "t")
	if n := numsub(srv, "t"); n != 1 {
		t.Errorf("after one of two subscribers left, Redis counts %d subscriptions, want 1", n)
	}
	ps.Unsubscribe(b, "t")
	waitFor(t, "Redis to drop the subscription", func() bool { return numsub(srv, "t") == 0 })
}

// Connect to a port where nothing listens fails at once, saying where.
func TestConnectNoServer(t *testing.T) {
	srv := redistest.Start(t)
	srv.Kill()
	_, err := redisbroker.Connect(srv.URL(), nil)
	if err == nil {
		t.Fatal("Connect with no server succeeded")
	}
	if _, err := redisbroker.Connect("http://x", nil); err == nil {
		t.Fatal("Connect with an http URL succeeded")
	}
}
