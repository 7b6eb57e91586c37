package reference

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/websock-go/websock/adapters"
	"github.com/websock-go/websock/conformance/internal/faults"
	"github.com/websock-go/websock/internal/memconn"
	"github.com/websock-go/websock/websock"
)

// Adapter describes this adapter to the engine, the conformance suite and
// the documentation. It lacks nothing: every case of the suite must pass.
var Adapter = adapters.Adapter{
	Name:    "reference",
	Library: "github.com/websock-go/websock/conformance/reference",
	Server:  "in-memory connections",
}

// Options configures a Handler; nil means defaults. See adapters.Options.
type Options = adapters.Options

// Handler is a WebSocket server on in-memory connections that runs
// websock handlers.
type Handler struct {
	e      *adapters.Engine
	faults faults.Set // none, except in the suite's tests of itself
	push   bool       // the push-style variant (push.go)

	mu      sync.Mutex
	stopped bool                           // Shutdown or Restart was called: Dial refuses
	serving sync.WaitGroup                 // the goroutines serving connections
	http2   map[*http.Server]chan struct{} // the servers of HTTP/2 connections, each with a channel closed once it ended (http2.go)
	dialed  atomic.Int64                   // numbers the clients' addresses
}

// New returns a Handler that accepts upgrades through accept, configured
// by opts. The error is that of adapters.NewEngine; this adapter honours
// every option.
func New(accept websock.AcceptFunc, opts *Options) (*Handler, error) {
	e, err := adapters.NewEngine(Adapter, accept, opts)
	if err != nil {
		return nil, err
	}
	h := &Handler{e: e}
	h.init()
	return h, nil
}

func (h *Handler) init() { h.http2 = make(map[*http.Server]chan struct{}) }

// errStopped is Dial's error once the Handler was shut down, as a
// listener that was closed refuses connections.
var errStopped = errors.New("reference: the server was shut down")

// Dial opens a connection to the server, as a client's dial to a listener
// would, and returns the client's end. The server's end is served on a
// goroutine of its own: the upgrade request is read from it, and once
// upgraded the connection runs there until it ends.
func (h *Handler) Dial(ctx context.Context) (net.Conn, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.stopped {
		return nil, errStopped
	}
	client, server := memconn.Pipe(memconn.Addr(fmt.Sprintf("client:%d", h.dialed.Add(1))), memconn.Addr("server:1"))
	h.serving.Add(1)
	go func() {
		defer h.serving.Done()
		h.serve(server)
	}()
	return client, nil
}

// Shutdown closes every connection with 1001 and waits for their
// Terminate (see adapters.Engine.Shutdown); Dial refuses new connections,
// and Shutdown waits for those still in their upgrade.
func (h *Handler) Shutdown(ctx context.Context) error { return h.stop(ctx, h.e.Shutdown) }

// Restart is Shutdown with close 1012 (service restart).
func (h *Handler) Restart(ctx context.Context) error { return h.stop(ctx, h.e.Restart) }

func (h *Handler) stop(ctx context.Context, closeAll func(context.Context) error) error {
	err := closeAll(ctx)
	h.mu.Lock()
	h.stopped = true
	h.mu.Unlock()
	h.stopHTTP2(ctx)
	h.serving.Wait() // an upgrade ends within handshakeTimeout
	return err
}

// Live returns how many connections are running.
func (h *Handler) Live() int { return h.e.Live() }
