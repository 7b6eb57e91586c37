package websocktest

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/websock-go/websock/adapters"
	"github.com/websock-go/websock/internal/memconn"
	"github.com/websock-go/websock/websock"
)

// Options configures a Server, as it configures every adapter; nil means
// defaults (see adapters.Options). Clock is the Server's own: whatever it
// is set to, the Server's [Clock] replaces it. Compression is not
// offered: a Server with it set fails the test.
type Options = adapters.Options

// adapter describes the Server's connections to the engine.
var adapter = adapters.Adapter{
	Name:    "websocktest",
	Library: "github.com/websock-go/websock/adapters/websocktest",
	Server:  "in-memory connections",
	Lacks: adapters.Lacks{
		Compression: "websocktest speaks no permessage-deflate; a handler sees the same messages without it",
		HTTP2:       "websocktest connects over HTTP/1.1 only",
	},
}

// Timeout is how long, on the system clock, the package waits for
// something to happen before failing the test: a frame to arrive, Init or
// Terminate to run. It is far longer than any of these takes on a
// loaded machine; a test that hits it is broken, not slow. Change it
// with [Conn.SetTimeout].
const Timeout = 10 * time.Second

// Server runs the connections of one endpoint on the engine: each [Conn]
// made by [Server.Dial] is one connection to it, over memory. Every
// Server has its own [Clock]. When the test ends, the Server closes the
// connections still open, waits for their Terminate and fails the test
// for any goroutine of its connections (the engine's or the handler's)
// still running.
type Server struct {
	tb    testing.TB
	e     *adapters.Engine
	clock *Clock
	track *tracker

	mu     sync.Mutex
	conns  []*Conn
	dialed int
}

// NewServer returns a Server that accepts connections through accept,
// configured by opts.
func NewServer(tb testing.TB, accept websock.AcceptFunc, opts *Options) *Server {
	tb.Helper()
	s := &Server{tb: tb, track: newTracker()}
	s.clock = newClock(s.track.do)
	var o Options
	if opts != nil {
		o = *opts
	}
	o.Clock = s.clock
	e, err := adapters.NewEngine(adapter, func(r *websock.Request) (websock.Handler, error) {
		h, err := accept(r)
		if c, ok := r.Context().Value(dialKey{}).(*Conn); ok && err == nil && h != nil {
			h = c.rec.wrap(h)
		}
		return h, err
	}, &o)
	if err != nil {
		tb.Fatalf("websocktest: %v", err)
	}
	s.e = e
	tb.Cleanup(s.cleanup)
	return s
}

// New runs h on a Server of its own, configured by opts, and returns the
// test's connection to it: the shortest way to test one handler.
func New(tb testing.TB, h websock.Handler, opts *Options) *Conn {
	tb.Helper()
	s := NewServer(tb, func(*websock.Request) (websock.Handler, error) { return h, nil }, opts)
	c, refused := s.Dial(nil)
	if refused != nil {
		tb.Fatalf("websocktest: the upgrade was refused: %v", refused)
	}
	return c
}

// NewRequest returns an upgrade request for target (a path, with a query
// if need be, or a whole URL), as a browser would send it, for
// [Server.Dial]. Add headers, cookies (AddCookie) and context values
// (WithContext) to it as the AcceptFunc under test needs; set
// Sec-WebSocket-Protocol to offer subprotocols.
func NewRequest(target string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, target, nil)
	r.Header.Set("Connection", "Upgrade")
	r.Header.Set("Upgrade", "websocket")
	r.Header.Set("Sec-WebSocket-Version", "13")
	r.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
	return r
}

// dialKey carries the Conn being dialed to the AcceptFunc.
type dialKey struct{}

// Dial upgrades r (nil means NewRequest("/")) as the engine upgrades every
// request: the handshake is checked, then the origin policy, the limits and
// the AcceptFunc run, and the request is refused or upgraded. It returns
// the test's connection once the handler's Init has returned (so that
// what Init set up, a subscription say, is in place), or the refusal as
// the client got it: status, headers and body.
func (s *Server) Dial(r *http.Request) (*Conn, *websock.HTTPError) {
	s.tb.Helper()
	if r == nil {
		r = NewRequest("/")
	}
	c := newConn(s)
	r = r.WithContext(context.WithValue(r.Context(), dialKey{}, c))
	rec := httptest.NewRecorder()
	s.mu.Lock()
	s.dialed++
	addr := memconn.Addr(fmt.Sprintf("websocktest-client:%d", s.dialed))
	s.mu.Unlock()
	upgrade := func(w http.ResponseWriter, r *http.Request, u adapters.Upgrade) (adapters.Upgraded, error) {
		client, server := memconn.Pipe(addr, memconn.Addr("websocktest-server:1"))
		c.attach(client, nil, u.Subprotocol)
		w.WriteHeader(http.StatusSwitchingProtocols)
		return adapters.Upgraded{Transport: newTransport(server, nil, false, s.e.Options())}, nil
	}
	s.track.do(func() { s.e.ServeHTTP(rec, r, upgrade) })
	if c.nc == nil {
		return nil, &websock.HTTPError{Status: rec.Code, Body: rec.Body.String(), Header: rec.Header()}
	}
	s.mu.Lock()
	s.conns = append(s.conns, c)
	s.mu.Unlock()
	// The connection's timers are set before Init runs, and what Init does
	// (subscribe, join a hub) is done once it returned: from then on the
	// clock can be advanced past them, and a publish reaches the handler.
	select {
	case <-c.rec.started:
	case <-c.rec.done:
	case <-time.After(Timeout):
		s.tb.Fatalf("websocktest: Dial: the handler's Init did not return within %v", Timeout)
	}
	return c, nil
}

// Clock returns the Server's clock.
func (s *Server) Clock() *Clock { return s.clock }

// Advance advances the Server's clock by d; see [Clock.Advance].
func (s *Server) Advance(d time.Duration) { s.clock.Advance(d) }

// Live returns how many connections are running.
func (s *Server) Live() int { return s.e.Live() }

// Shutdown begins closing every connection as adapters.Engine.Shutdown
// does, on a goroutine of its own, and returns a function that waits for
// it to end and returns its error. Shutdown waits for the clients'
// answers to its close frames, so read them ([Conn.ExpectClose]) before
// waiting; with Options.DrainBatch, advance the clock by DrainInterval
// between batches.
func (s *Server) Shutdown(ctx context.Context) (wait func() error) {
	done := make(chan error, 1)
	s.track.goDo(func() { done <- s.e.Shutdown(ctx) })
	return func() error {
		s.tb.Helper()
		select {
		case err := <-done:
			return err
		case <-time.After(Timeout):
			s.tb.Fatalf("websocktest: Shutdown did not end within %v; a connection's close frame went unanswered (ExpectClose answers it)", Timeout)
			return nil
		}
	}
}

// cleanup ends what the test left running, and checks that nothing
// outlives it.
func (s *Server) cleanup() {
	s.mu.Lock()
	conns := s.conns
	s.mu.Unlock()
	for _, c := range conns {
		c.stop()
	}
	for _, c := range conns {
		if !s.track.ended(s.tb, c.rec.done, "a connection") {
			return
		}
	}
	s.track.check(s.tb, "the test's connections")
}
