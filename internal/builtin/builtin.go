// Package builtin lists the adapters that ship with this module, so that
// the echo server, the demo, the benchmarks and the capability matrix share
// one list. Each adapter registers itself from its own file.
package builtin

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/websock-go/websock/adapters"
	"github.com/websock-go/websock/websock"
)

// Server is one running adapter endpoint.
type Server struct {
	Addr string // host:port it listens on
	// Shutdown closes every WebSocket connection gracefully (close 1001,
	// Terminate(Shutdown)), then stops the listener.
	Shutdown func(ctx context.Context) error
	Live     func() int // live WebSocket connections
}

// StartFunc starts an adapter endpoint on addr that serves accept at every
// path.
type StartFunc func(addr string, accept websock.AcceptFunc, opts *adapters.Options) (*Server, error)

// Adapter is a built-in adapter.
type Adapter struct {
	Name  string
	Start StartFunc
	// Unsupported lists the conformance features the library cannot give,
	// each with the reason.
	Unsupported map[string]string
}

var registry []Adapter

func register(a Adapter) {
	registry = append(registry, a)
	slices.SortFunc(registry, func(a, b Adapter) int { return strings.Compare(a.Name, b.Name) })
}

// All returns the built-in adapters, sorted by name.
func All() []Adapter { return slices.Clone(registry) }

// Names returns the built-in adapters' names, sorted.
func Names() []string {
	var out []string
	for _, a := range registry {
		out = append(out, a.Name)
	}
	return out
}

// Lookup returns the adapter called name, or an error listing the valid
// names.
func Lookup(name string) (Adapter, error) {
	for _, a := range registry {
		if a.Name == name {
			return a, nil
		}
	}
	return Adapter{}, fmt.Errorf("unknown adapter %q; valid adapters are: %s", name, strings.Join(Names(), ", "))
}

// engineHandler is what every net/http adapter's handler offers.
type engineHandler interface {
	http.Handler
	Shutdown(ctx context.Context) error
	Live() int
}

// netHTTP returns the StartFunc of a net/http adapter whose constructor
// is newHandler.
func netHTTP[H engineHandler](newHandler func(websock.AcceptFunc, *adapters.Options) (H, error)) StartFunc {
	return func(addr string, accept websock.AcceptFunc, opts *adapters.Options) (*Server, error) {
		h, err := newHandler(accept, opts)
		if err != nil {
			return nil, err
		}
		return startHTTP(addr, h)
	}
}

// startHTTP serves h with a net/http server on addr.
func startHTTP(addr string, h engineHandler) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.Serve(ln)
	}()
	return &Server{
		Addr: ln.Addr().String(),
		Shutdown: func(ctx context.Context) error {
			err := h.Shutdown(ctx)
			if e := srv.Shutdown(ctx); err == nil {
				err = e
			}
			<-done
			return err
		},
		Live: h.Live,
	}, nil
}
