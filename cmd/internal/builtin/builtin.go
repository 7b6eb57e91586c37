// Package builtin lists the adapters that ship with this module, so that
// the echo server, the demo, the benchmarks and the capability matrix share
// one list. What each adapter's library lacks comes from the adapter's own
// declaration (its Adapter variable), never from here.
package builtin

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/websock-go/websock/adapters"
	"github.com/websock-go/websock/adapters/coder"
	fasthttpws "github.com/websock-go/websock/adapters/fasthttp"
	"github.com/websock-go/websock/adapters/gobws"
	"github.com/websock-go/websock/adapters/gorilla"
	"github.com/websock-go/websock/adapters/gws"
	"github.com/websock-go/websock/adapters/longpoll"
	"github.com/websock-go/websock/adapters/nbio"
	"github.com/websock-go/websock/adapters/nhooyr"
	"github.com/websock-go/websock/websock"
)

// Server is one running adapter endpoint.
type Server struct {
	Addr string // host:port it listens on
	// Shutdown closes every WebSocket connection gracefully (close 1001,
	// Terminate(Shutdown)), then stops the listener.
	Shutdown func(ctx context.Context) error
	// Restart is Shutdown with close 1012 (service restart).
	Restart func(ctx context.Context) error
	Live    func() int // live WebSocket connections
}

// StartFunc starts an adapter endpoint on addr that serves accept at every
// path.
type StartFunc func(addr string, accept websock.AcceptFunc, opts *adapters.Options) (*Server, error)

// Adapter is a built-in adapter: its declaration and how to start it.
type Adapter struct {
	adapters.Adapter
	Start StartFunc
}

// all is every built-in adapter, sorted by name.
var all = []Adapter{
	{coder.Adapter, netHTTP(coder.New)},
	{fasthttpws.Adapter, startFastHTTP},
	{gobws.Adapter, netHTTP(gobws.New)},
	{gobws.NetpollAdapter, netHTTP(gobws.NewNetpoll)},
	{gorilla.Adapter, netHTTP(gorilla.New)},
	{gws.Adapter, netHTTP(gws.New)},
	{longpoll.Adapter, netHTTP(newLongPoll)},
	{nbio.Adapter, startNbio},
	{nhooyr.Adapter, netHTTP(nhooyr.New)},
}

// All returns the built-in adapters, sorted by name.
func All() []Adapter { return append([]Adapter(nil), all...) }

// WebSocket reports whether the adapter serves WebSocket connections;
// the other (longpoll) serves a transport of its own, which a WebSocket
// client cannot reach.
func (a Adapter) WebSocket() bool { return a.Lacks.Frames == "" }

// WebSockets returns the built-in adapters that serve WebSocket
// connections, sorted by name.
func WebSockets() []Adapter {
	var out []Adapter
	for _, a := range all {
		if a.WebSocket() {
			out = append(out, a)
		}
	}
	return out
}

// WebSocketNames returns the names of WebSockets(), sorted.
func WebSocketNames() []string {
	var out []string
	for _, a := range WebSockets() {
		out = append(out, a.Name)
	}
	return out
}

// Names returns the built-in adapters' names, sorted.
func Names() []string {
	var out []string
	for _, a := range all {
		out = append(out, a.Name)
	}
	return out
}

// Lookup returns the adapter called name, or an error listing the valid
// names.
func Lookup(name string) (Adapter, error) {
	for _, a := range all {
		if a.Name == name {
			return a, nil
		}
	}
	return Adapter{}, fmt.Errorf("unknown adapter %q; valid adapters are: %s", name, strings.Join(Names(), ", "))
}

// endpoint is what every adapter's handler offers.
type endpoint interface {
	Shutdown(ctx context.Context) error
	Restart(ctx context.Context) error
	Live() int
}

// HTTPServer returns the http.Server a production WebSocket endpoint
// needs, serving h: a read-header timeout, so that a client that
// dribbles its headers (slowloris) is dropped; an idle timeout for
// keep-alive HTTP connections between requests; and a bound on the
// headers. It sets no ReadTimeout or WriteTimeout: net/http leaves their
// deadlines on a hijacked connection, where they would end a WebSocket
// connection that lives longer, whatever it does; the engine's
// IdleTimeout and WriteTimeout govern an upgraded connection instead.
//
// It speaks HTTP/1.1, and HTTP/2 without TLS to clients that know it
// does (prior knowledge), such as a proxy in front of it: with
// GODEBUG=http2xconnect=1, such a client opens WebSockets as HTTP/2
// streams (RFC 8441) on the adapters that can run over them.
func HTTPServer(h http.Handler) *http.Server {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    64 << 10,
		Protocols:         new(http.Protocols),
	}
	srv.Protocols.SetHTTP1(true)
	srv.Protocols.SetUnencryptedHTTP2(true)
	return srv
}

// netHTTP returns the StartFunc of a net/http adapter whose constructor
// is newHandler.
func netHTTP[H interface {
	http.Handler
	endpoint
}](newHandler func(websock.AcceptFunc, *adapters.Options) (H, error)) StartFunc {
	return func(addr string, accept websock.AcceptFunc, opts *adapters.Options) (*Server, error) {
		h, err := newHandler(accept, opts)
		if err != nil {
			return nil, err
		}
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, err
		}
		srv := HTTPServer(h)
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
		return &Server{Addr: ln.Addr().String(), Shutdown: stop(h.Shutdown), Restart: stop(h.Restart), Live: h.Live}, nil
	}
}

// newLongPoll is longpoll.New with the engine's options only.
func newLongPoll(accept websock.AcceptFunc, opts *adapters.Options) (*longpoll.Handler, error) {
	o := &longpoll.Options{}
	if opts != nil {
		o.Options = *opts
	}
	return longpoll.New(accept, o)
}

// startFastHTTP serves the fasthttp adapter with a fasthttp server on addr.
func startFastHTTP(addr string, accept websock.AcceptFunc, opts *adapters.Options) (*Server, error) {
	h, err := fasthttpws.New(accept, opts)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	shutdown := fasthttpws.Serve(ln, h)
	restart := func(ctx context.Context) error {
		err := h.Restart(ctx)
		if e := shutdown(ctx); err == nil {
			err = e
		}
		return err
	}
	return &Server{Addr: ln.Addr().String(), Shutdown: shutdown, Restart: restart, Live: h.Live}, nil
}

// startNbio serves the nbio adapter with its own nbhttp server on addr.
func startNbio(addr string, accept websock.AcceptFunc, opts *adapters.Options) (*Server, error) {
	h, err := nbio.New(accept, opts)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	if err := h.Serve(ln); err != nil {
		ln.Close()
		return nil, err
	}
	return &Server{Addr: ln.Addr().String(), Shutdown: h.Shutdown, Restart: h.Restart, Live: h.Live}, nil
}
