package natsbroker_test

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"go.uber.org/goleak"

	"github.com/websock-go/websock/adapters/pubsub"
	"github.com/websock-go/websock/adapters/pubsub/natsbroker"
	"github.com/websock-go/websock/adapters/pubsub/pubsubtest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// startNATS runs a NATS server on 127.0.0.1:port (0: a free port) until
// the test ends or stop is called.
func startNATS(t *testing.T, port int) (s *server.Server, url string, stop func()) {
	t.Helper()
	if port == 0 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port = ln.Addr().(*net.TCPAddr).Port
		ln.Close()
	}
	s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: port, NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("NATS server did not start")
	}
	stop = func() { s.Shutdown(); s.WaitForShutdown() }
	t.Cleanup(stop)
	return s, fmt.Sprintf("nats://127.0.0.1:%d", port), stop
}

// sink is a subscriber whose mailbox is a channel.
type sink = pubsubtest.Sink

func connect(t *testing.T, url string) (*natsbroker.Broker, *pubsub.PubSub) {
	t.Helper()
	b, err := natsbroker.Connect(url, nil, nats.ReconnectWait(20*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	ps := pubsub.New(b)
	t.Cleanup(func() { ps.Close(); b.Close() })
	return b, ps
}

// A publish reaches every subscriber of the other node as one NATS
// message, and the publishing node's own subscribers directly.
func TestOneNATSMessagePerPublish(t *testing.T) {
	s, url, _ := startNATS(t, 0)
	b1, ps1 := connect(t, url)
	b2, ps2 := connect(t, url)
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
	flush(t, b1, b2)
	before := outMsgs(t, s)
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
	// The server counts a message after writing it: wait for the count,
	// then make sure no other is on its way.
	waitFor(t, "the server to count its message", func() bool { return outMsgs(t, s)-before >= 1 })
	flush(t, b1, b2)
	if got := outMsgs(t, s) - before; got != 1 {
		t.Errorf("NATS server sent %d messages for one publish to 50 subscribers on one node, want 1", got)
	}
	select {
	case m := <-local:
		t.Errorf("local subscriber got %q twice (its own node's message came back through NATS)", m.Data)
	default:
	}
}

// With NATS down, Publish says so and still delivers locally; once NATS
// is back, the subscriptions work again.
func TestNATSOutage(t *testing.T) {
	_, url, stop := startNATS(t, 0)
	port, _ := strconv.Atoi(url[len("nats://127.0.0.1:"):])
	b1, ps1 := connect(t, url)
	b2, ps2 := connect(t, url)
	local, remote := make(sink, 4), make(sink, 4)
	ps1.Subscribe(local, "news")
	ps2.Subscribe(remote, "news")
	flush(t, b1, b2)
	if err := ps1.Publish("news", []byte("1")); err != nil {
		t.Fatal(err)
	}
	local.Next(t)
	if got := remote.Next(t); got != "1" {
		t.Fatalf("remote got %q, want 1", got)
	}

	stop()
	waitFor(t, "both nodes to see NATS gone", func() bool {
		return !b1.Conn().IsConnected() && !b2.Conn().IsConnected()
	})
	err := ps1.Publish("news", []byte("2"))
	if !errors.Is(err, pubsub.ErrBrokerUnavailable) {
		t.Fatalf("Publish with NATS down = %v, want ErrBrokerUnavailable", err)
	}
	if got := local.Next(t); got != "2" {
		t.Errorf("local subscriber got %q during the outage, want 2", got)
	}

	startNATS(t, port)
	waitFor(t, "both nodes to reconnect", func() bool {
		return b1.Conn().IsConnected() && b2.Conn().IsConnected()
	})
	flush(t, b1, b2)
	if err := ps1.Publish("news", []byte("3")); err != nil {
		t.Fatal(err)
	}
	if got := remote.Next(t); got != "3" {
		t.Errorf("remote got %q after NATS came back, want 3 (2 was published during the outage)", got)
	}
	if st := ps1.Stats(); st.BrokerErrs != 1 {
		t.Errorf("node 1 counted %d broker errors, want 1", st.BrokerErrs)
	}
}

func flush(t *testing.T, bs ...*natsbroker.Broker) {
	t.Helper()
	for _, b := range bs {
		if err := b.Conn().FlushTimeout(10 * time.Second); err != nil {
			t.Fatal(err)
		}
	}
}

func outMsgs(t *testing.T, s *server.Server) int64 {
	t.Helper()
	v, err := s.Varz(nil)
	if err != nil {
		t.Fatal(err)
	}
	return v.OutMsgs
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

// One publisher's messages reach the other node's subscribers in order.
func TestOrderAcrossNATS(t *testing.T) {
	_, url, _ := startNATS(t, 0)
	b1, ps1 := connect(t, url)
	b2, ps2 := connect(t, url)
	const n = 500
	subs := []sink{make(sink, n), make(sink, n)}
	for _, s := range subs {
		if err := ps2.Subscribe(s, "seq"); err != nil {
			t.Fatal(err)
		}
	}
	flush(t, b1, b2)
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

// An outage in the middle of publishing writes nothing to the process's
// standard error: the NATS client's default error handler would print
// every write that failed as the server went away, which OnStatus reports
// already.
func TestOutageQuietOnStderr(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := os.Stderr
	os.Stderr = w
	defer func() { os.Stderr = stderr }()

	_, url, stop := startNATS(t, 0)
	port, _ := strconv.Atoi(url[len("nats://127.0.0.1:"):])
	b1, ps1 := connect(t, url)
	_, ps2 := connect(t, url)
	ps2.Subscribe(make(sink, 1<<16), "news")
	flush(t, b1)
	done := make(chan struct{})
	var publishing sync.WaitGroup
	publishing.Go(func() {
		for {
			select {
			case <-done:
				return
			default:
			}
			ps1.Publish("news", make([]byte, 4096))
		}
	})
	time.Sleep(100 * time.Millisecond)
	stop()
	waitFor(t, "the node to see NATS gone", func() bool { return !b1.Conn().IsConnected() })
	startNATS(t, port)
	waitFor(t, "the node to reconnect", func() bool { return b1.Conn().IsConnected() })
	time.Sleep(100 * time.Millisecond)
	close(done)
	publishing.Wait()

	os.Stderr = stderr
	w.Close()
	out, _ := io.ReadAll(r)
	if len(out) > 0 {
		t.Errorf("the outage wrote to standard error:\n%s", out)
	}
}
