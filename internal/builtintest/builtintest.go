// Package builtintest runs the conformance suite on the built-in adapters.
package builtintest

import (
	"context"
	"testing"

	"github.com/websock-go/websock/adapters"
	"github.com/websock-go/websock/conformance"
	"github.com/websock-go/websock/internal/builtin"
	"github.com/websock-go/websock/websock"
)

// Adapter returns the conformance description of the built-in adapter
// called name.
func Adapter(t testing.TB, name string) conformance.Adapter {
	a, err := builtin.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	unsupported := map[conformance.Feature]string{}
	for f, why := range a.Unsupported {
		unsupported[conformance.Feature(f)] = why
	}
	return conformance.Adapter{
		Name: a.Name,
		Serve: func(accept websock.AcceptFunc, opts *adapters.Options) (*conformance.Server, error) {
			srv, err := a.Start("127.0.0.1:0", accept, opts)
			if err != nil {
				return nil, err
			}
			return &conformance.Server{
				URL:      "ws://" + srv.Addr + "/",
				Shutdown: func(ctx context.Context) error { return srv.Shutdown(ctx) },
			}, nil
		},
		Unsupported: unsupported,
	}
}

// Run runs the conformance suite on the built-in adapter called name.
func Run(t *testing.T, name string) {
	conformance.Run(t, Adapter(t, name))
}
