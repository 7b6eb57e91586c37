package main

import (
	"expvar"
	"net"
	"net/http"
	"net/http/pprof"

	"github.com/websock-go/websock/cmd/internal/builtin"
)

// live is the expvar counter of live WebSocket connections.
var live = new(expvar.Func)

func init() { expvar.Publish("websock_live_connections", live) }

// debugServer serves pprof and expvar.
type debugServer struct {
	Addr string
	srv  *http.Server
}

func (d *debugServer) Close() error { return d.srv.Close() }

// serveDebug serves /debug/pprof/ and /debug/vars on addr; the expvar
// websock_live_connections reports liveFn().
func serveDebug(addr string, liveFn func() int) (*debugServer, error) {
	*live = func() any { return liveFn() }
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.Handle("/debug/vars", expvar.Handler())
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	srv := builtin.HTTPServer(mux)
	go srv.Serve(ln)
	return &debugServer{Addr: ln.Addr().String(), srv: srv}, nil
}
