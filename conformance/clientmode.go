package conformance

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/websock-go/websock/adapters"
	"github.com/websock-go/websock/websock"
)

// DialFunc is an adapter's Dial: it connects to url and runs h over the
// connection until the client is closed or h stops reconnecting.
type DialFunc func(ctx context.Context, url string, h websock.Handler, opts *adapters.DialOptions) (*adapters.Client, error)

// ClientAdapter describes a client adapter under test: the adapters.Adapter
// its package declares for its client (what its library lacks there: the
// cases that need a lacking feature are skipped with the declared reason),
// and its Dial.
type ClientAdapter struct {
	adapters.Adapter
	Dial DialFunc
}

// ClientCases returns every case of the client mode, in the order it runs.
func ClientCases() []Case {
	out := make([]Case, len(clientCases))
	for i, c := range clientCases {
		out[i] = c.Case
	}
	return out
}

// clientCase is a case of the client mode.
type clientCase struct {
	Case
	run func(e *clientEnv)
}

// RunClient runs every case of the client mode against a, each as a
// subtest with the suite's own raw server on 127.0.0.1, and checks after
// each that no goroutine leaked. Gaps are handled as [Run] handles them.
func RunClient(t *testing.T, a ClientAdapter) {
	t.Helper()
	if a.Dial == nil {
		t.Fatal("conformance: ClientAdapter.Dial is nil; give the adapter's Dial")
	}
	for _, c := range clientCases {
		t.Run(c.Name, func(t *testing.T) {
			if why := a.Lacks.Why(c.Feature); why != "" {
				if problems, _ := runClientRecorded(a, c); len(problems) == 0 {
					t.Fatalf("client adapter %s declares feature %v lacking (%s), but case %s passes: the declaration is stale; remove it from Lacks",
						a.Name, c.Feature, why, c.Name)
				}
				t.Skipf("client adapter %s lacks feature %v: %s", a.Name, c.Feature, why)
			}
			ignore := goleak.IgnoreCurrent()
			t.Cleanup(func() {
				if err := goleak.Find(ignore); err != nil {
					t.Errorf("goroutines outlived the client (rule: no goroutine outlives its client):\n%v", err)
				}
			})
			c.run(&clientEnv{reporter: testingT{t}, adapter: a})
			if t.Failed() {
				t.Logf("case %s checks: %s (%s)", c.Name, c.Rule, c.Source)
			}
		})
	}
}

// TestClient runs every case of the client mode against a, as RunClient
// does, without the testing package, and returns the failures as [Test]
// does.
func TestClient(a ClientAdapter) error {
	if a.Dial == nil {
		return errors.New("conformance: ClientAdapter.Dial is nil; give the adapter's Dial")
	}
	var errs []error
	for _, c := range clientCases {
		problems, skipped := runClientRecorded(a, c)
		if why := a.Lacks.Why(c.Feature); why != "" {
			if len(problems) == 0 && skipped == "" {
				errs = append(errs, &CaseError{Adapter: a.Name, Case: c.Case, Problems: []string{fmt.Sprintf(
					"declares feature %v lacking (%s), but the case passes: the declaration is stale; remove it from Lacks", c.Feature, why)}})
			}
			continue
		}
		if len(problems) > 0 {
			errs = append(errs, &CaseError{Adapter: a.Name, Case: c.Case, Problems: problems})
		}
	}
	return errors.Join(errs...)
}

func runClientRecorded(a ClientAdapter, c clientCase) (problems []string, skipped string) {
	ignore := goleak.IgnoreCurrent()
	r := &recorder{name: c.Name}
	r.run(func(r reporter) { c.run(&clientEnv{reporter: r, adapter: a}) })
	if len(r.problems) == 0 && r.skipped == "" {
		if err := goleak.Find(ignore); err != nil {
			r.problems = append(r.problems, fmt.Sprintf("goroutines outlived the client (rule: no goroutine outlives its client):\n%v", err))
		}
	}
	return r.problems, r.skipped
}

// clientEnv is what a client case works with.
type clientEnv struct {
	reporter
	adapter ClientAdapter
}

// wait bounds every wait of a client case; a case that waits longer
// fails.
const wait = 10 * time.Second

// rawServer is the suite's WebSocket server for the client mode: it
// accepts TCP connections and lets the case answer the handshake and
// write any frame, malformed ones included.
type rawServer struct {
	ln    net.Listener
	url   string
	peers chan *peer
	wg    sync.WaitGroup
}

// server starts a raw server, closed when the case ends.
func (e *clientEnv) server() *rawServer {
	e.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		e.Fatalf("listen: %v", err)
	}
	s := &rawServer{ln: ln, url: "ws://" + ln.Addr().String() + "/feed?x=1", peers: make(chan *peer, 8)}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			s.peers <- &peer{client: &client{nc: nc, br: bufio.NewReader(nc)}}
		}
	}()
	e.Cleanup(func() {
		ln.Close()
		s.wg.Wait()
		close(s.peers)
		for p := range s.peers {
			p.close()
		}
	})
	return s
}

// peer is the server's side of one connection.
type peer struct {
	*client
	req *http.Request
}

// accept waits for the client's next connection and reads its handshake
// request.
func (e *clientEnv) accept(s *rawServer) *peer {
	e.Helper()
	select {
	case p := <-s.peers:
		e.Cleanup(p.close)
		p.nc.SetReadDeadline(time.Now().Add(wait))
		req, err := http.ReadRequest(p.br)
		if err != nil {
			e.Fatalf("reading the client's handshake request: %v", err)
		}
		p.req = req
		return p
	case <-time.After(wait):
		e.Fatalf("the client did not connect within %v", wait)
	}
	return nil
}

// respond writes a handshake response with status and headers.
func (p *peer) respond(status int, header http.Header) error {
	var b strings.Builder
	fmt.Fprintf(&b, "HTTP/1.1 %d %s\r\n", status, http.StatusText(status))
	header.Write(&b)
	b.WriteString("\r\n")
	_, err := io.WriteString(p.nc, b.String())
	return err
}

// upgradeHeader is the header of a valid 101 answer to p's request, with
// extra set on top.
func (p *peer) upgradeHeader(extra ...string) http.Header {
	h := http.Header{"Upgrade": {"websocket"}, "Connection": {"Upgrade"},
		"Sec-Websocket-Accept": {acceptFor(p.req.Header.Get("Sec-WebSocket-Key"))}}
	for i := 0; i+1 < len(extra); i += 2 {
		h.Set(extra[i], extra[i+1])
	}
	return h
}

// upgrade answers the handshake validly, with extra headers.
func (e *clientEnv) upgrade(p *peer, extra ...string) {
	e.Helper()
	if err := p.respond(http.StatusSwitchingProtocols, p.upgradeHeader(extra...)); err != nil {
		e.Fatalf("writing the handshake response: %v", err)
	}
}

// write writes an unmasked frame, as a server does, or a masked one.
func (e *clientEnv) write(p *peer, f frame, masked bool) {
	e.Helper()
	if err := p.writeFrame(f, !masked); err != nil {
		e.Fatalf("writing a %s frame: %v", opName(f.op), err)
	}
}

// read reads one frame from the client, which must be masked (RFC 6455
// section 5.1), and unmasks it.
func (e *clientEnv) read(p *peer) frame {
	e.Helper()
	f, err := p.readMasked()
	if err != nil {
		e.Fatalf("reading a frame from the client: %v", err)
	}
	return f
}

func (p *peer) readMasked() (frame, error) { return p.readFrameMasked(wait, true) }

// readData reads the client's next data frame, skipping pings and pongs.
func (e *clientEnv) readData(p *peer) frame {
	e.Helper()
	for {
		f := e.read(p)
		if f.op != opPing && f.op != opPong {
			return f
		}
	}
}

// wantText reads the client's next data frame and checks it is text want.
func (e *clientEnv) wantText(p *peer, want string) {
	e.Helper()
	f := e.readData(p)
	if f.op != opText || !f.fin || string(f.payload) != want {
		e.Fatalf("the client sent %s frame %q (fin %v), want text %q", opName(f.op), short(string(f.payload)), f.fin, want)
	}
}

// wantClose reads frames until the client's close frame and checks its
// code.
func (e *clientEnv) wantClose(p *peer, code uint16, rule string) *closeFrame {
	e.Helper()
	return e.wantCloseOf(p, rule, code)
}

// wantCloseOf reads frames until the client's close frame and checks its
// code is one of codes.
func (e *clientEnv) wantCloseOf(p *peer, rule string, codes ...uint16) *closeFrame {
	e.Helper()
	for {
		f, err := p.readMasked()
		if err != nil {
			e.Fatalf("want close %v from the client, got %v (rule: %s)", codes, err, rule)
		}
		if f.op != opClose {
			continue
		}
		var ce *closeFrame
		if err := parseClose(f.payload); !errors.As(err, &ce) {
			e.Fatalf("the client's close frame is malformed: %v (rule: %s)", err, rule)
		}
		if !slices.Contains(codes, ce.code) {
			e.Fatalf("the client closed with %d %q, want %v (rule: %s)", ce.code, ce.text, codes, rule)
		}
		return ce
	}
}

// closeFrom writes a close frame with code and text.
func (e *clientEnv) closeFrom(p *peer, code uint16, text string) {
	e.Helper()
	payload := binary.BigEndian.AppendUint16(nil, code)
	e.write(p, frame{fin: true, op: opClose, payload: append(payload, text...)}, false)
}
