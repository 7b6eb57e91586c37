package nbio_test

import (
	"context"
	"fmt"
	"net"
	"testing"

	"github.com/websock-go/websock/adapters"
	"github.com/websock-go/websock/adapters/nbio"
	"github.com/websock-go/websock/conformance"
	"github.com/websock-go/websock/websock"
)

// TestConformance runs the whole suite: nbio lacks only HTTP/2.
func TestConformance(t *testing.T) {
	if nbio.Adapter.Lacks != (adapters.Lacks{HTTP2: nbio.Adapter.Lacks.HTTP2}) {
		t.Fatalf("the nbio adapter declares lacking %+v; it may lack HTTP2 only", nbio.Adapter.Lacks)
	}
	conformance.Run(t, conformance.Adapter{Adapter: nbio.Adapter, Serve: serve})
}

// serve starts the adapter on a loopback listener of its own.
func serve(accept websock.AcceptFunc, opts *adapters.Options) (*conformance.Server, error) {
	h, err := nbio.New(accept, opts)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	if err := h.Serve(ln); err != nil {
		ln.Close()
		return nil, err
	}
	return &conformance.Server{
		URL:      fmt.Sprintf("ws://%s/", ln.Addr()),
		Shutdown: func(ctx context.Context) error { return h.Shutdown(ctx) },
		Restart:  func(ctx context.Context) error { return h.Restart(ctx) },
	}, nil
}
