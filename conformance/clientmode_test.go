package conformance_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/websock-go/websock/adapters"
	"github.com/websock-go/websock/adapters/gorilla"
	"github.com/websock-go/websock/conformance"
	"github.com/websock-go/websock/websock"
)

// brokenClient is the gorilla client with a fault: the suite's client mode
// must fail the cases in mustFail, and pass ClientEcho.
func brokenClient(dial conformance.DialFunc) conformance.ClientAdapter {
	return conformance.ClientAdapter{Adapter: gorilla.ClientAdapter, Dial: dial}
}

// withOptions forces options on every dial.
func withOptions(force func(o *adapters.DialOptions)) conformance.DialFunc {
	return func(ctx context.Context, url string, h websock.Handler, opts *adapters.DialOptions) (*adapters.Client, error) {
		o := *opts
		force(&o)
		return gorilla.Dial(ctx, url, h, &o)
	}
}

// hidden hides a Handler's optional interfaces (Reconnector included).
type hidden struct{ websock.Handler }

func TestClientModeCatchesBrokenClients(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the client mode five times, each failing case waiting out its bound; skipped in -short mode")
	}
	if err := conformance.TestClient(brokenClient(gorilla.Dial)); err != nil {
		t.Fatalf("TestClient on the gorilla client: %v; want nil", err)
	}
	for _, b := range []struct {
		fault    string
		dial     conformance.DialFunc
		mustFail []string
	}{
		{"does not validate UTF-8", withOptions(func(o *adapters.DialOptions) { o.SkipUTF8Validation = true }), []string{"ClientInvalidUTF8"}},
		{"has no size limit", withOptions(func(o *adapters.DialOptions) { o.MaxMessageSize = -1 }), []string{"ClientMessageTooBig"}},
		{"offers no compression", withOptions(func(o *adapters.DialOptions) { o.Compression = false }), []string{"ClientCompression", "ClientHandshakeBadDeflateAnswer"}},
		{"never reconnects", func(ctx context.Context, url string, h websock.Handler, opts *adapters.DialOptions) (*adapters.Client, error) {
			return gorilla.Dial(ctx, url, hidden{h}, opts)
		}, []string{"ClientReconnect", "ClientInitialDialRetry"}},
	} {
		t.Run(b.fault, func(t *testing.T) {
			// Not parallel: each case checks that no goroutine outlives
			// it, which another case running alongside would break.
			err := conformance.TestClient(brokenClient(b.dial))
			var failed []string
			if err != nil {
				for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
					var ce *conformance.CaseError
					if !errors.As(e, &ce) {
						t.Fatalf("TestClient's error %v is not a *CaseError", e)
					}
					failed = append(failed, ce.Case.Name)
				}
			}
			for _, name := range b.mustFail {
				if !slices.Contains(failed, name) {
					t.Errorf("a client that %s failed %v; want %s among them", b.fault, failed, name)
				}
			}
			if slices.Contains(failed, "ClientEcho") {
				t.Errorf("a client that %s failed ClientEcho, which it passes", b.fault)
			}
		})
	}
}

func TestClientCasesDocumented(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range conformance.ClientCases() {
		if c.Name == "" || c.Rule == "" || c.Source == "" || c.Description == "" || seen[c.Name] {
			t.Errorf("client case %+v lacks a field or repeats a name", c)
		}
		seen[c.Name] = true
	}
}
