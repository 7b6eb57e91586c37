// Package conformance is the shared test suite that proves a websock
// adapter behaves like every other: one call, [Run], in the adapter's own
// test checks the lifecycle, every Result, every close code and Terminate
// reason, bad input, ordering, shutdown, large messages, many connections
// and goroutine leaks, over real loopback connections (or in-memory ones,
// for an adapter that gives [Server.Dial]).
//
// Package conformance/reference is an adapter that passes every case with
// nothing but the standard library, and the worked example of writing an
// adapter.
//
// The suite talks to the adapter with its own RFC 6455 client, which
// depends on no WebSocket library and can send malformed frames; to a
// long-poll transport, through its own long-poll client ([LongPollDial]),
// which carries that client's connections over sessions. An
// adapter whose library cannot give a feature declares it once, in the
// Lacks of its adapters.Adapter; the suite skips exactly the cases of that
// feature, naming it and the reason. Everything else must pass: a library
// that breaks RFC 6455 has no way to opt out.
package conformance

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/websock-go/websock/adapters"
	"github.com/websock-go/websock/websock"
)

// Server is an adapter endpoint started for one case.
type Server struct {
	// URL is the ws:// URL the endpoint serves at, on 127.0.0.1.
	URL string
	// Shutdown closes every WebSocket connection gracefully (the engine's
	// Shutdown: close 1001 and Terminate(Shutdown)), then stops the
	// listener. It returns once every connection has terminated.
	//
	// The suite may call it twice (a case that shut down, then the case's
	// cleanup): the second call must wait as the first does, and must not
	// fail or panic. It must let the answers of upgrades still under way
	// (the 503 the engine gives once the shutdown began) reach their
	// clients before it stops the server.
	Shutdown func(ctx context.Context) error
	// Restart, when set, is Shutdown with close 1012 (the adapter's
	// Restart), then stops the listener.
	Restart func(ctx context.Context) error
	// Dial, when set, opens the suite's connections to the endpoint
	// instead of TCP: an adapter that serves in-memory connections (see
	// package conformance/reference) gives it. URL then gives only the
	// path and the Host header, and its host must tell the endpoint apart
	// from every other endpoint running at the same time.
	Dial func(ctx context.Context) (net.Conn, error)
}

// ServeFunc starts a fresh endpoint of the adapter under test on
// 127.0.0.1 with an ephemeral port, upgrading requests at every path
// through accept and configured by opts.
type ServeFunc func(accept websock.AcceptFunc, opts *adapters.Options) (*Server, error)

// Adapter describes the adapter under test: the adapters.Adapter its
// package declares (its name, and what its library lacks: the cases that
// need a lacking feature are skipped with the declared reason), and how to
// start it.
type Adapter struct {
	adapters.Adapter
	Serve ServeFunc
}

// HTTPHandler is what the New of an adapter whose server is net/http
// returns.
type HTTPHandler interface {
	http.Handler
	Shutdown(ctx context.Context) error
}

// ServeHTTP returns the ServeFunc of a net/http adapter whose constructor
// is newHandler: it serves the handler with an http.Server on 127.0.0.1
// with an ephemeral port and a read-header timeout of [HeaderTimeout],
// speaking HTTP/1.1 and HTTP/2 without TLS (for the cases of feature
// HTTP2, see [MainHTTP2]), and its Shutdown shuts down the handler, then
// the server.
func ServeHTTP[H HTTPHandler](newHandler func(websock.AcceptFunc, *adapters.Options) (H, error)) ServeFunc {
	return serveHTTP(newHandler, true)
}

// serveHTTP is ServeHTTP, speaking HTTP/2 without TLS only with h2c.
func serveHTTP[H HTTPHandler](newHandler func(websock.AcceptFunc, *adapters.Options) (H, error), h2c bool) ServeFunc {
	return func(accept websock.AcceptFunc, opts *adapters.Options) (*Server, error) {
		h, err := newHandler(accept, opts)
		if err != nil {
			return nil, err
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		srv := &http.Server{Handler: h, ReadHeaderTimeout: HeaderTimeout, Protocols: new(http.Protocols)}
		// HTTP/2 without TLS too, for the cases of feature HTTP2: the
		// suite's client speaks it with prior knowledge.
		srv.Protocols.SetHTTP1(true)
		srv.Protocols.SetUnencryptedHTTP2(h2c)
		done := make(chan struct{})
		go func() {
			defer close(done)
			srv.Serve(ln)
		}()
		stop := func(closeAll func(context.Context) error) func(context.Context) error {
			return func(ctx context.Context) error {
				err := closeAll(ctx)
				if e := srv.Shutdown(ctx); err == nil {
					err = e
				}
				<-done
				return err
			}
		}
		s := &Server{URL: "ws://" + ln.Addr().String() + "/", Shutdown: stop(h.Shutdown)}
		if r, ok := any(h).(interface{ Restart(context.Context) error }); ok {
			s.Restart = stop(r.Restart)
		}
		return s, nil
	}
}

// Case is one check of the suite. [Cases] lists them all, so that an
// author can read what each checks before it fails.
type Case struct {
	Name        string           // stable; the subtest name under Run
	Feature     adapters.Feature // the feature it needs; 0 when every adapter must pass it
	Source      string           // where its rule is written: an RFC section or a websock contract
	Rule        string           // the rule it checks
	Description string           // what it does to check it

	run func(e *env)
}

// Cases returns every case of the suite, in the order it runs.
func Cases() []Case { return append([]Case(nil), cases...) }

// Run runs every case of the suite against a, each as a subtest with a
// fresh server, and checks after each that no goroutine leaked. A case of
// a feature the adapter declares lacking is skipped with the declared
// reason; when it passes anyway, the declaration is stale and Run fails.
func Run(t *testing.T, a Adapter) {
	t.Helper()
	if a.Serve == nil {
		t.Fatal("conformance: Adapter.Serve is nil; give a function that starts the adapter on 127.0.0.1:0")
	}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			if why := a.Lacks.Why(c.Feature); why != "" {
				if problems, skipped := runRecorded(a, c); len(problems) == 0 && skipped == "" {
					t.Fatalf("adapter %s declares feature %v lacking (%s), but case %s passes: the declaration is stale; remove it from Lacks",
						a.Name, c.Feature, why, c.Name)
				}
				t.Skipf("adapter %s lacks feature %v: %s", a.Name, c.Feature, why)
			}
			ignore := goleak.IgnoreCurrent()
			t.Cleanup(func() {
				if err := goleak.Find(ignore, pipeTimers); err != nil {
					t.Errorf("goroutines outlived the connections (rule: no goroutine outlives its connection):\n%v", err)
				}
			})
			c.run(newEnv(testingT{t}, a))
			if t.Failed() {
				t.Logf("case %s checks: %s (%s)", c.Name, c.Rule, c.Source)
			}
		})
	}
}

// Test runs every case of the suite against a, as Run does, without the
// testing package, and returns the failures: an errors.Join of one
// *CaseError per failing case (nil when every case passes or is skipped).
// A case that blocks for over two minutes fails.
func Test(a Adapter) error {
	if a.Serve == nil {
		return errors.New("conformance: Adapter.Serve is nil; give a function that starts the adapter on 127.0.0.1:0")
	}
	var errs []error
	for _, c := range cases {
		problems, skipped := runRecorded(a, c)
		if why := a.Lacks.Why(c.Feature); why != "" {
			if len(problems) == 0 && skipped == "" {
				errs = append(errs, &CaseError{Adapter: a.Name, Case: c, Problems: []string{fmt.Sprintf(
					"declares feature %v lacking (%s), but the case passes: the declaration is stale; remove it from Lacks", c.Feature, why)}})
			}
			continue
		}
		if len(problems) > 0 {
			errs = append(errs, &CaseError{Adapter: a.Name, Case: c, Problems: problems})
		}
	}
	return errors.Join(errs...)
}

// runRecorded runs case c on a with a recorder, checking for leaked
// goroutines, and returns what went wrong and why it skipped, if it did.
// pipeTimers ignores the timer callbacks of the net.Pipes the suite's own
// clients use (the long-poll bridge's): a deadline that has passed runs
// one that only closes a channel, and on a starved machine it may still
// be waiting for a CPU when a case ends.
var pipeTimers = goleak.IgnoreTopFunction("net.(*pipeDeadline).set.func1")

func runRecorded(a Adapter, c Case) (problems []string, skipped string) {
	ignore := goleak.IgnoreCurrent()
	r := &recorder{name: c.Name}
	r.run(func(r reporter) { c.run(newEnv(r, a)) })
	if len(r.problems) == 0 && r.skipped == "" {
		if err := goleak.Find(ignore, pipeTimers); err != nil {
			r.problems = append(r.problems, fmt.Sprintf("goroutines outlived the connections (rule: no goroutine outlives its connection):\n%v", err))
		}
	}
	return r.problems, r.skipped
}

// env is what a case works with.
type env struct {
	reporter
	adapter Adapter
	probes  *probeSet
}

// newEnv returns the env of a case that reports to r. Every endpoint the
// case starts with a Dial is reachable by the suite's client until the
// case ends. The rules its probes watch are checked after every cleanup
// the case registers.
func newEnv(r reporter, a Adapter) *env {
	serve := a.Serve
	a.Serve = func(accept websock.AcceptFunc, opts *adapters.Options) (*Server, error) {
		srv, err := serve(accept, opts)
		if err == nil && srv.Dial != nil {
			if err := addDialer(srv); err != nil {
				srv.Shutdown(context.Background())
				return nil, err
			}
			r.Cleanup(func() { removeDialer(srv) })
		}
		return srv, err
	}
	e := &env{reporter: r, adapter: a, probes: new(probeSet)}
	r.Cleanup(e.checkRules) // first registered, so run last
	return e
}

// part returns the env of a named part of e's case, reporting to r.
func (e *env) part(r reporter) *env {
	p := &env{reporter: r, adapter: e.adapter, probes: new(probeSet)}
	r.Cleanup(p.checkRules)
	return p
}

// Fatal reports a problem and ends the case.
func (e *env) Fatal(args ...any) { e.Helper(); e.Fatalf("%s", fmt.Sprint(args...)) }

// Skip ends the case as skipped.
func (e *env) Skip(args ...any) { e.Skipf("%s", fmt.Sprint(args...)) }

// quiet is a logger for the panics the suite provokes on purpose.
var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// serve starts the adapter with accept and opts (nil means the suite's
// defaults) and shuts it down when the case ends.
func (e *env) serve(accept websock.AcceptFunc, opts *adapters.Options) *Server {
	e.Helper()
	if opts == nil {
		opts = &adapters.Options{}
	}
	o := *opts
	if o.Logger == nil {
		o.Logger = quiet
	}
	if o.CloseTimeout == 0 {
		o.CloseTimeout = 2 * time.Second
	}
	srv, err := e.adapter.Serve(accept, &o)
	if err != nil {
		e.Fatalf("starting adapter %s: %v", e.adapter.Name, err)
	}
	e.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			e.Errorf("Shutdown: %v (rule: Shutdown returns once every connection has terminated)", err)
		}
	})
	return srv
}

// dial connects a client to srv and closes it when the case ends.
func (e *env) dial(srv *Server) *client {
	e.Helper()
	c, _, err := dial(srv.URL, nil)
	if err != nil {
		e.Fatalf("dial %s: %v", srv.URL, err)
	}
	e.Cleanup(c.close)
	return c
}
