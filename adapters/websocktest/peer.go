package websocktest

import (
	"bufio"
	"context"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/websock-go/websock/adapters"
	"github.com/websock-go/websock/websock"
)

// DialOptions configures a client under test; nil means defaults (see
// adapters.DialOptions). As with [Options], the Peer's Clock replaces
// Clock, and Compression is not offered.
type DialOptions = adapters.DialOptions

// Peer is a scripted WebSocket server, for testing a client handler: the
// client dials it on a loopback socket, and the test answers each dial
// ([Peer.Next]): it refuses it, or accepts it and then speaks for the
// server, closes with any code, or vanishes. The client runs on the engine
// ([Peer.Dial]) with the Peer's [Clock], so its waits between dials pass
// when the test advances it.
//
// When the test ends, the Peer closes its client and every connection,
// and fails the test for any goroutine of the client still running.
type Peer struct {
	tb     testing.TB
	ln     net.Listener
	clock  *Clock
	track  *tracker
	dials  chan *Handshake
	ctx    context.Context // ends at the test's end: a dial under way gives up
	cancel context.CancelFunc

	mu       sync.Mutex
	conns    []net.Conn // every connection accepted
	accepted []*Conn    // the test's ends of those accepted
	clients  []*Client
}

// NewPeer starts a Peer listening on 127.0.0.1.
func NewPeer(tb testing.TB) *Peer {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("websocktest: NewPeer: %v", err)
	}
	p := &Peer{tb: tb, ln: ln, track: newTracker(), dials: make(chan *Handshake, 16)}
	p.clock = newClock(p.track.do)
	p.ctx, p.cancel = context.WithCancel(context.Background())
	go p.accept()
	tb.Cleanup(p.cleanup)
	return p
}

// URL returns the ws:// URL of the Peer, with path "/".
func (p *Peer) URL() string { return "ws://" + p.ln.Addr().String() + "/" }

// Clock returns the Peer's clock, which its clients use.
func (p *Peer) Clock() *Clock { return p.clock }

// Advance advances the Peer's clock by d; see [Clock.Advance].
func (p *Peer) Advance(d time.Duration) { p.clock.Advance(d) }

// accept reads the handshake of every connection and queues it for Next.
func (p *Peer) accept() {
	for {
		nc, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		p.conns = append(p.conns, nc)
		p.mu.Unlock()
		go func() {
			br := bufio.NewReader(nc)
			nc.SetReadDeadline(time.Now().Add(Timeout))
			r, err := http.ReadRequest(br)
			nc.SetReadDeadline(time.Time{})
			if err != nil {
				nc.Close()
				return
			}
			select {
			case p.dials <- &Handshake{p: p, nc: nc, br: br, r: r}:
			case <-p.ctx.Done():
				nc.Close()
			}
		}()
	}
}

// Next waits for the client's next dial and returns its handshake, for
// the test to answer.
func (p *Peer) Next(tb testing.TB) *Handshake {
	tb.Helper()
	select {
	case h := <-p.dials:
		return h
	case <-time.After(Timeout):
		tb.Fatalf("websocktest: Peer.Next: no dial came within %v", Timeout)
		return nil
	}
}

// Handshake is a client's opening handshake, waiting for the Peer's
// answer: Accept or Refuse, once.
type Handshake struct {
	p  *Peer
	nc net.Conn
	br *bufio.Reader
	r  *http.Request
}

// Request returns the client's upgrade request.
func (h *Handshake) Request() *http.Request { return h.r }

// Refuse answers with status and body, and closes the connection.
func (h *Handshake) Refuse(status int, body string) {
	fmt.Fprintf(h.nc, "HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s",
		status, http.StatusText(status), len(body), body)
	h.nc.Close()
}

// Accept answers with 101, choosing subprotocol ("" for none), and returns
// the server's end of the connection, from which the test speaks for the
// server: what it sends the client handler receives.
func (h *Handshake) Accept(subprotocol string) *Conn {
	sum := sha1.Sum([]byte(h.r.Header.Get("Sec-WebSocket-Key") + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	var b strings.Builder
	b.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n")
	fmt.Fprintf(&b, "Sec-WebSocket-Accept: %s\r\n", base64.StdEncoding.EncodeToString(sum[:]))
	if subprotocol != "" {
		fmt.Fprintf(&b, "Sec-WebSocket-Protocol: %s\r\n", subprotocol)
	}
	b.WriteString("\r\n")
	h.nc.Write([]byte(b.String()))
	c := &Conn{tb: h.p.tb, clock: h.p.clock, server: true, timeout: Timeout}
	c.attach(h.nc, h.br, subprotocol)
	h.p.mu.Lock()
	h.p.accepted = append(h.p.accepted, c)
	h.p.mu.Unlock()
	return c
}

// Client is a client handler under test, running on the engine against a
// Peer.
type Client struct {
	p      *Peer
	dialed chan struct{} // closed once adapters.Dial returned
	c      *adapters.Client
	err    error
}

// Dial runs h as a client of the Peer, configured by opts, and returns at
// once: the client dials on a goroutine of its own, and the test answers
// with [Peer.Next]. A handler that implements websock.Reconnector is
// asked what to do after each connection or failed dial, as in
// production; with opts.RetryInitialDial even after the first.
func (p *Peer) Dial(h websock.Handler, opts *DialOptions) *Client {
	var o DialOptions
	if opts != nil {
		o = *opts
	}
	o.Clock = p.clock
	cl := &Client{p: p, dialed: make(chan struct{})}
	p.mu.Lock()
	p.clients = append(p.clients, cl)
	p.mu.Unlock()
	p.track.goDo(func() {
		defer close(cl.dialed)
		cl.c, cl.err = adapters.Dial(p.ctx, adapter, newClientTransport, p.URL(), h, &o)
	})
	return cl
}

func newClientTransport(_ context.Context, d *adapters.Dialed) (adapters.Transport, error) {
	return newTransport(d.Conn, nil, true, d.Options), nil
}

// Dialed waits for the first dial to end and returns its error: nil once
// connected, or why the dial failed (a *adapters.HandshakeError when the
// Peer refused it). With DialOptions.RetryInitialDial it waits until a
// dial succeeds or the handler stops.
func (cl *Client) Dialed(tb testing.TB) error {
	tb.Helper()
	select {
	case <-cl.dialed:
		return cl.err
	case <-time.After(Timeout):
		tb.Fatalf("websocktest: Client.Dialed: the dial did not end within %v", Timeout)
		return nil
	}
}

// Client returns the engine's client, once connected: its Send, Close and
// Connected are the production ones.
func (cl *Client) Client(tb testing.TB) *adapters.Client {
	tb.Helper()
	if err := cl.Dialed(tb); err != nil {
		tb.Fatalf("websocktest: the client never connected: %v", err)
	}
	return cl.c
}

// Wait waits for the client to stop (its handler stopped reconnecting,
// or Close was called) and returns its final Reason: its last
// connection's, or its last failed dial's.
func (cl *Client) Wait(tb testing.TB) websock.Reason {
	tb.Helper()
	if err := cl.Dialed(tb); err != nil {
		return websock.Reason{Kind: websock.KindError, Code: websock.CloseAbnormal, Err: err}
	}
	select {
	case <-cl.c.Done():
		return cl.c.Wait()
	case <-time.After(Timeout):
		tb.Fatalf("websocktest: Client.Wait: the client did not stop within %v", Timeout)
		return websock.Reason{}
	}
}

// cleanup stops the clients, closes every connection, and checks that
// the clients' goroutines are gone.
func (p *Peer) cleanup() {
	p.cancel()
	p.ln.Close()
	p.mu.Lock()
	clients, conns, accepted := p.clients, p.conns, p.accepted
	p.mu.Unlock()
	for _, c := range accepted {
		c.stop()
	}
	for _, nc := range conns {
		nc.Close()
	}
	for _, cl := range clients {
		select {
		case <-cl.dialed:
		case <-time.After(Timeout):
			p.tb.Errorf("websocktest: a client's dial did not end within %v of the test's end", Timeout)
			return
		}
		if cl.c != nil {
			cl.c.Close(websock.CloseGoingAway, "the test ended")
		}
	}
	for _, cl := range clients {
		if cl.c == nil {
			continue
		}
		if !p.track.ended(p.tb, cl.c.Done(), "a client") {
			return
		}
	}
	p.track.check(p.tb, "the clients under test")
}
