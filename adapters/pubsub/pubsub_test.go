package pubsub_test

import (
	"errors"
	"fmt"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/websock-go/websock/adapters/pubsub"
	"github.com/websock-go/websock/conformance/reference"
	"github.com/websock-go/websock/websock"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// subscriber subscribes to its topics in Init and writes every message it
// receives to its peer as a text frame "topic:data".
type subscriber struct {
	ps     *pubsub.PubSub
	topics []string
	ready  chan struct{} // closed once subscribed
}

func (s *subscriber) Init(c websock.Conn) websock.Result {
	defer close(s.ready)
	for _, t := range s.topics {
		if err := s.ps.Subscribe(c, t); err != nil {
			return websock.Stop(err)
		}
	}
	return websock.OK()
}

func (s *subscriber) HandleIn(websock.Frame) websock.Result { return websock.OK() }

func (s *subscriber) HandleInfo(msg any) websock.Result {
	m := msg.(*pubsub.Message)
	return websock.Push(websock.TextString(m.Topic + ":" + string(m.Data)))
}

func (s *subscriber) Terminate(websock.Reason) {}

// node is one server with its PubSub. connect opens a connection
// subscribed to topics and returns its client once it is subscribed.
type node struct {
	ps  *pubsub.PubSub
	srv *server
	hs  chan *subscriber
}

func newNode(tb testing.TB, broker pubsub.Broker, opts *reference.Options) *node {
	ps := pubsub.New(broker)
	tb.Cleanup(ps.Close)
	return newNodeWith(tb, ps, opts)
}

// newNodeWith is newNode on an existing PubSub.
func newNodeWith(tb testing.TB, ps *pubsub.PubSub, opts *reference.Options) *node {
	n := &node{ps: ps, hs: make(chan *subscriber, 1)}
	n.srv = newServer(tb, func(*websock.Request) (websock.Handler, error) {
		h := <-n.hs
		return h, nil
	}, opts)
	return n
}

func (n *node) connect(tb testing.TB, topics ...string) *client {
	tb.Helper()
	h := &subscriber{ps: n.ps, topics: topics, ready: make(chan struct{})}
	n.hs <- h
	c := n.srv.dial(tb)
	<-h.ready
	return c
}

func TestDeliversToSubscribersOfTheTopicOnly(t *testing.T) {
	n := newNode(t, nil, nil)
	a := n.connect(t, "room.1")
	b := n.connect(t, "room.1", "room.2")
	if err := n.ps.Publish("room.2", []byte("only b")); err != nil {
		t.Fatal(err)
	}
	if err := n.ps.Publish("room.1", []byte("both")); err != nil {
		t.Fatal(err)
	}
	if got := a.read(t); got != "room.1:both" {
		t.Errorf("a got %q, want room.1:both (a does not subscribe to room.2)", got)
	}
	for _, want := range []string{"room.2:only b", "room.1:both"} {
		if got := b.read(t); got != want {
			t.Errorf("b got %q, want %q", got, want)
		}
	}
}

// Each publisher's messages arrive in publish order at every subscriber,
// on the publishing node and on the other one.
func TestOrderPerPublisherAcrossNodes(t *testing.T) {
	const publishers, perPublisher = 4, 200
	lb := pubsub.NewLocalBroker()
	n1 := newNode(t, lb.Node(), &reference.Options{MailboxSize: publishers * perPublisher})
	n2 := newNode(t, lb.Node(), &reference.Options{MailboxSize: publishers * perPublisher})
	clients := []*client{n1.connect(t, "feed"), n2.connect(t, "feed"), n2.connect(t, "feed")}

	var wg sync.WaitGroup
	for p := range publishers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perPublisher {
				if err := n1.ps.Publish("feed", fmt.Appendf(nil, "%d/%d", p, i)); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	for ci, c := range clients {
		next := make([]int, publishers)
		for range publishers * perPublisher {
			got := strings.TrimPrefix(c.read(t), "feed:")
			ps, is, _ := strings.Cut(got, "/")
			p, _ := strconv.Atoi(ps)
			i, _ := strconv.Atoi(is)
			if i != next[p] {
				t.Fatalf("client %d: got message %d of publisher %d, want %d", ci, i, p, next[p])
			}
			next[p]++
		}
	}
	if st := n2.ps.Stats(); st.Received != publishers*perPublisher || st.Delivered != 2*publishers*perPublisher {
		t.Errorf("node 2 stats %+v, want %d received and %d delivered", st, publishers*perPublisher, 2*publishers*perPublisher)
	}
}

// A subscriber whose mailbox is full misses messages, counted as dropped,
// and holds up no one else.
func TestSlowSubscriberDoesNotStallTheTopic(t *testing.T) {
	ps := pubsub.New(nil)
	defer ps.Close()
	slow := newBlocked(t, ps, "t")
	n := newNodeWith(t, ps, &reference.Options{MailboxSize: 100})
	fast := n.connect(t, "t")
	for i := range 100 {
		if err := ps.Publish("t", []byte(strconv.Itoa(i))); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 100 {
		if got, want := fast.read(t), "t:"+strconv.Itoa(i); got != want {
			t.Fatalf("fast subscriber got %q, want %q", got, want)
		}
	}
	slow.release()
	// The slow subscriber took what its mailbox holds, and perhaps one
	// more that HandleInfo had taken out of it; the rest was dropped.
	st := ps.Stats()
	if st.Delivered+st.Dropped != 200 || st.Dropped < 100-slowMailbox-1 {
		t.Errorf("stats %+v: want 200 delivered or dropped, at least %d of them dropped", st, 100-slowMailbox-1)
	}
}

const slowMailbox = 4

// blocked is a connection whose HandleInfo waits until release, so its
// mailbox fills up.
type blocked struct {
	unblock chan struct{}
	once    sync.Once
}

func (b *blocked) release() { b.once.Do(func() { close(b.unblock) }) }

func newBlocked(t *testing.T, ps *pubsub.PubSub, topic string) *blocked {
	b := &blocked{unblock: make(chan struct{})}
	t.Cleanup(b.release)
	ready := make(chan struct{})
	srv := newServer(t, func(*websock.Request) (websock.Handler, error) {
		return &blockingHandler{b: b, ps: ps, topic: topic, ready: ready}, nil
	}, &reference.Options{MailboxSize: slowMailbox})
	srv.dial(t)
	<-ready
	return b
}

type blockingHandler struct {
	b     *blocked
	ps    *pubsub.PubSub
	topic string
	ready chan struct{}
}

func (h *blockingHandler) Init(c websock.Conn) websock.Result {
	defer close(h.ready)
	if err := h.ps.Subscribe(c, h.topic); err != nil {
		return websock.Stop(err)
	}
	return websock.OK()
}
func (h *blockingHandler) HandleIn(websock.Frame) websock.Result { return websock.OK() }
func (h *blockingHandler) HandleInfo(any) websock.Result {
	<-h.b.unblock
	return websock.OK()
}
func (h *blockingHandler) Terminate(websock.Reason) {}

// A connection's subscriptions end with it, and the broker subscription
// with the topic's last subscriber.
func TestSubscriptionsEndWithTheConnection(t *testing.T) {
	cb := &countingBroker{Broker: pubsub.NewLocalBroker().Node()}
	n := newNode(t, cb, nil)
	a := n.connect(t, "x", "y")
	n.connect(t, "x")
	if got := cb.subscribed(); got != 2 {
		t.Errorf("broker subscriptions %d, want 2 (one per topic, not per connection)", got)
	}
	a.nc.Close()
	waitFor(t, "y to lose its only subscriber", func() bool { return n.ps.Subscribers("y") == 0 })
	if got := n.ps.Subscribers("x"); got != 1 {
		t.Errorf("x has %d subscribers, want 1", got)
	}
	if got := cb.subscribed(); got != 1 {
		t.Errorf("broker subscriptions %d after y lost its last subscriber, want 1", got)
	}
}

func TestInvalidTopics(t *testing.T) {
	ps := pubsub.New(nil)
	defer ps.Close()
	for _, topic := range []string{"", "a b", "a.*", ">", "a..b", ".a", "a.", "tab\there"} {
		if err := ps.Publish(topic, nil); !errors.Is(err, pubsub.ErrInvalidTopic) {
			t.Errorf("Publish(%q) = %v, want ErrInvalidTopic", topic, err)
		}
	}
	for _, topic := range []string{"a", "room.42", "user-7.inbox", "ünïcode"} {
		if !pubsub.ValidTopic(topic) {
			t.Errorf("ValidTopic(%q) = false, want true", topic)
		}
	}
}

// countingBroker counts the live broker subscriptions.
type countingBroker struct {
	pubsub.Broker
	mu sync.Mutex
	n  int
}

func (b *countingBroker) Subscribe(topic string, deliver func([]byte)) (func(), error) {
	cancel, err := b.Broker.Subscribe(topic, deliver)
	if err != nil {
		return nil, err
	}
	b.mu.Lock()
	b.n++
	b.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			cancel()
			b.mu.Lock()
			b.n--
			b.mu.Unlock()
		})
	}, nil
}

func (b *countingBroker) subscribed() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.n
}

// waitFor waits, for at most ten seconds, until cond holds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// A program that imports pubsub, and not natsbroker, builds no NATS code:
// its tests included.
func TestNoBrokerDependencies(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-test", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if strings.Contains(pkg, "nats-io") || strings.Contains(pkg, "prometheus") {
			t.Errorf("package pubsub depends on %s; only natsbroker may", pkg)
		}
	}
}

// A listener sees the messages of its node and of the others, each
// publisher's in order, and nothing after stop.
func TestListen(t *testing.T) {
	lb := pubsub.NewLocalBroker()
	n1, n2 := pubsub.New(lb.Node()), pubsub.New(lb.Node())
	defer n1.Close()
	defer n2.Close()
	var mu sync.Mutex
	var got []string
	stop, err := n2.Listen("audit", func(m *pubsub.Message) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, string(m.Data))
	})
	if err != nil {
		t.Fatal(err)
	}
	n1.Publish("audit", []byte("from 1"))
	n2.Publish("audit", []byte("from 2"))
	stop()
	n1.Publish("audit", []byte("after stop"))
	mu.Lock()
	defer mu.Unlock()
	if want := []string{"from 1", "from 2"}; !slices.Equal(got, want) {
		t.Errorf("listener got %q, want %q", got, want)
	}
}
