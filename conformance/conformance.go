// Package conformance is the shared test suite that proves a websock
// adapter behaves like every other: one call, [Run], in the adapter's own
// test checks the lifecycle, every Result, every close code and Terminate
// reason, bad input, ordering, shutdown, large messages, many connections
// and goroutine leaks, over real loopback connections.
//
// The suite talks to the adapter with its own RFC 6455 client, which
// depends on no WebSocket library and can send malformed frames. An
// adapter that cannot give a feature declares it in
// [Adapter.Unsupported]; the suite skips exactly the cases of that
// feature, naming it and the reason. Everything else must pass.
package conformance

import (
	"context"
	"io"
	"log/slog"
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
	Shutdown func(ctx context.Context) error
}

// ServeFunc starts a fresh endpoint of the adapter under test on
// 127.0.0.1 with an ephemeral port, upgrading requests at every path
// through accept and configured by opts.
type ServeFunc func(accept websock.AcceptFunc, opts *adapters.Options) (*Server, error)

// Feature names an optional capability that some libraries cannot give.
type Feature string

// The features a case may require. An adapter lists those it cannot give
// in Adapter.Unsupported.
const (
	// FeatureHandleControl: HandleControl sees the pings and pongs the peer
	// sends.
	FeatureHandleControl Feature = "HandleControl"
	// FeatureCloseOneBytePayload: a close frame with a 1-byte payload is
	// refused with 1002, as RFC 6455 section 5.5.1 requires.
	FeatureCloseOneBytePayload Feature = "CloseOneBytePayload"
	// FeatureCloseCode1014: a close frame with code 1014 (bad gateway,
	// registered with IANA after RFC 6455) is echoed like any valid code,
	// not refused as invalid.
	FeatureCloseCode1014 Feature = "CloseCode1014"
	// FeatureCompression: permessage-deflate (Options.Compression). An
	// adapter without it must refuse the option with
	// adapters.ErrUnsupportedOption.
	FeatureCompression Feature = "Compression"
	// FeatureKeepalive: keepalive pings (Options.PingInterval), which need
	// the library to report pongs. An adapter without it must refuse the
	// option with adapters.ErrUnsupportedOption.
	FeatureKeepalive Feature = "Keepalive"
)

// Features lists every Feature the suite knows, in a stable order.
func Features() []Feature {
	return []Feature{FeatureHandleControl, FeatureCloseOneBytePayload, FeatureCloseCode1014, FeatureCompression, FeatureKeepalive}
}

// Adapter describes the adapter under test.
type Adapter struct {
	Name  string
	Serve ServeFunc
	// Unsupported maps each feature the adapter's library cannot give to
	// the reason; the cases that need it are skipped with that reason.
	Unsupported map[Feature]string
}

// Run runs every case of the suite against a, each as a subtest with a
// fresh server, and checks after each that no goroutine leaked.
func Run(t *testing.T, a Adapter) {
	t.Helper()
	if a.Serve == nil {
		t.Fatal("conformance: Adapter.Serve is nil; give a function that starts the adapter on 127.0.0.1:0")
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.feature != "" {
				if why, ok := a.Unsupported[c.feature]; ok {
					t.Skipf("adapter %s does not support feature %s: %s", a.Name, c.feature, why)
				}
			}
			ignore := goleak.IgnoreCurrent()
			t.Cleanup(func() {
				if err := goleak.Find(ignore); err != nil {
					t.Errorf("goroutines outlived the connections (rule: no goroutine outlives its connection):\n%v", err)
				}
			})
			c.run(&env{T: t, adapter: a})
		})
	}
}

// A case is one named check.
type testCase struct {
	name    string
	feature Feature // "" when every adapter must pass
	run     func(e *env)
}

// env is what a case works with.
type env struct {
	*testing.T
	adapter Adapter
}

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

// Case describes one case of the suite: its subtest name and the feature
// it needs ("" when every adapter must pass it).
type Case struct {
	Name    string
	Feature Feature
}

// Cases lists the suite's cases in the order Run runs them, so that tools
// can report on them (for example a capability matrix).
func Cases() []Case {
	out := make([]Case, len(cases))
	for i, c := range cases {
		out[i] = Case{Name: c.name, Feature: c.feature}
	}
	return out
}
