package main

import (
	"expvar"
	"net"
	"net/http"
	"net/http/pprof"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/websock-go/websock/adapters/observe/promobs"
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

// newMetrics returns a registry with the Go runtime's and the process's
// metrics, and an Observer that adds the WebSocket metrics to it.
func newMetrics() (*prometheus.Registry, *promobs.Observer, error) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	obs, err := promobs.New(reg)
	return reg, obs, err
}

// serveDebug serves /debug/pprof/, /debug/vars and, from reg, /metrics
// on addr; the expvar websock_live_connections reports liveFn().
func serveDebug(addr string, liveFn func() int, reg *prometheus.Registry) (*debugServer, error) {
	*live = func() any { return liveFn() }
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.Handle("/debug/vars", expvar.Handler())
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	srv := builtin.HTTPServer(mux)
	go srv.Serve(ln)
	return &debugServer{Addr: ln.Addr().String(), srv: srv}, nil
}
