package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/pprof"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"time"

	"github.com/websock-go/websock/adapters"
	"github.com/websock-go/websock/cmd/internal/builtin"
	"github.com/websock-go/websock/cmd/internal/procstat"
	"github.com/websock-go/websock/websock"
)

// The server process: `websock-bench server -lib NAME -mode raw|adapter`.
// It serves an echo endpoint on 127.0.0.1, either an adapter from the
// built-in registry or the raw library that adapter wraps, and a debug
// endpoint with /stats, /fanout and /debug/pprof/ (to profile a server
// under load by hand). It prints one JSON line, a
// serverAddrs, and serves until its standard input closes (the parent
// holds it open) or -max-life passes.

// serverAddrs is the line the server process prints when it is ready.
type serverAddrs struct {
	WS    string `json:"ws"`    // host:port of the WebSocket endpoint
	Debug string `json:"debug"` // host:port of the stats and fan-out endpoint
}

// serverStats is what GET /stats returns. With ?gc=1 the server first
// collects garbage and returns freed memory to the OS, so that RSS and
// heap reflect what is live.
type serverStats struct {
	RSS        int64 `json:"rss"`        // VmRSS, bytes
	Heap       int64 `json:"heap"`       // Go heap objects, bytes (runtime/metrics)
	Stacks     int64 `json:"stacks"`     // goroutine stacks, bytes (runtime/metrics)
	Goroutines int64 `json:"goroutines"` // live goroutines
	Conns      int   `json:"conns"`      // live WebSocket connections
	CPU        int64 `json:"cpu_ns"`     // CPU time used so far, user and system; 0 where unknown
}

// fanoutReply is what POST /fanout returns.
type fanoutReply struct {
	Sent   int `json:"sent"`   // connections the message was handed to
	Failed int `json:"failed"` // connections where that failed
}

// maxMessage is the largest message either kind of server accepts.
const maxMessage = 16 << 20

// benchOptions are the adapter options equivalent to the raw servers: no
// idle or write timeout (the raw examples set none), no compression, a
// message limit well above the largest workload message, any origin.
func benchOptions() *adapters.Options {
	return &adapters.Options{
		MaxMessageSize: maxMessage,
		IdleTimeout:    -1,
		WriteTimeout:   -1,
		AllowedOrigins: []string{"*"},
	}
}

// nopObserver observes every event and every message, and does nothing:
// the observed mode measures what the engine's hook itself costs.
type nopObserver struct{ adapters.NopObserver }

func (nopObserver) Message(adapters.MessageEvent) {}

// echo is the adapter-side echo handler's function: pushing the received
// frame back allocates nothing.
func echo(f websock.Frame) websock.Result { return websock.Push(f) }

func runServer(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("websock-bench server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	lib := fs.String("lib", "", "adapter name (the raw server is the library it wraps)")
	mode := fs.String("mode", "", "raw, adapter, or observed (the adapter with a no-op Observer)")
	hub := fs.Bool("hub", false, "track connections for POST /fanout")
	prepared := fs.Bool("prepared", false, "adapter hub: push each fan-out message as one websock.Prepared")
	deflate := fs.Bool("deflate", false, "negotiate permessage-deflate (adapter, and raw gws)")
	broadcaster := fs.Bool("broadcaster", false, "raw gws hub: push with gws.Broadcaster")
	maxLife := fs.Duration("max-life", 15*time.Minute, "exit after this long even if stdin stays open")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := procstat.RaiseFileLimit(); err != nil {
		return err
	}

	var (
		addr string
		live func() int
		fan  func([]byte) fanoutReply
		stop = func() {}
	)
	switch *mode {
	case "adapter", "observed":
		a, err := builtin.Lookup(*lib)
		if err != nil {
			return err
		}
		accept := func(*websock.Request) (websock.Handler, error) { return websock.HandlerFunc(echo), nil }
		var h *adapterHub
		if *hub {
			h = newAdapterHub()
			h.prepared = *prepared
			accept = h.accept
			fan = h.broadcast
		}
		opts := benchOptions()
		opts.Compression = *deflate
		if *mode == "observed" {
			opts.Observer = nopObserver{}
		}
		srv, err := a.Start("127.0.0.1:0", accept, opts)
		if err != nil {
			return fmt.Errorf("starting adapter %s: %w", *lib, err)
		}
		addr, live = srv.Addr, srv.Live
	case "raw":
		start, ok := rawServers[*lib]
		if !ok {
			return fmt.Errorf("no raw server for %q; raw servers exist for: %s", *lib, rawNames())
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		st := &rawState{deflate: *deflate}
		if *deflate && *lib != "gws" {
			return fmt.Errorf("-deflate on a raw server: only raw gws has it")
		}
		if *hub {
			st.hub = newRawHub()
			fan = st.hub.broadcast
			if *broadcaster {
				if *lib != "gws" {
					return fmt.Errorf("-broadcaster: only raw gws has one")
				}
				fan = st.hub.broadcastGws
			}
		}
		stopRaw, err := start(ln, st)
		if err != nil {
			ln.Close()
			return fmt.Errorf("starting raw %s: %w", *lib, err)
		}
		addr, live, stop = ln.Addr().String(), st.liveConns, stopRaw
	default:
		return fmt.Errorf("-mode must be raw, adapter or observed, got %q", *mode)
	}
	defer stop()

	dln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /stats", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("gc") == "1" {
			runtime.GC()
			debug.FreeOSMemory()
		}
		st, err := readStats()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		st.Conns = live()
		json.NewEncoder(w).Encode(st)
	})
	// GET /memory: every runtime/metrics memory class, in bytes, for
	// finding where an idle connection's resident memory goes.
	mux.HandleFunc("GET /memory", func(w http.ResponseWriter, r *http.Request) {
		var s []metrics.Sample
		for _, d := range metrics.All() {
			if strings.HasPrefix(d.Name, "/memory/classes/") {
				s = append(s, metrics.Sample{Name: d.Name})
			}
		}
		metrics.Read(s)
		out := map[string]uint64{}
		for _, m := range s {
			out[m.Name] = m.Value.Uint64()
		}
		json.NewEncoder(w).Encode(out)
	})
	mux.HandleFunc("POST /fanout", func(w http.ResponseWriter, r *http.Request) {
		if fan == nil {
			http.Error(w, "server started without -hub", http.StatusBadRequest)
			return
		}
		size, err := strconv.Atoi(r.URL.Query().Get("size"))
		if err != nil || size <= 0 || size > maxMessage {
			http.Error(w, "size must be 1.."+strconv.Itoa(maxMessage), http.StatusBadRequest)
			return
		}
		json.NewEncoder(w).Encode(fan(fanoutPayload(size)))
	})
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	dsrv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go dsrv.Serve(dln)
	defer dsrv.Close()

	if err := json.NewEncoder(stdout).Encode(serverAddrs{WS: addr, Debug: dln.Addr().String()}); err != nil {
		return err
	}
	eof := make(chan struct{})
	go func() {
		io.Copy(io.Discard, bufio.NewReader(stdin))
		close(eof)
	}()
	select {
	case <-eof:
	case <-time.After(*maxLife):
		return errors.New("-max-life passed before the parent closed stdin")
	}
	return nil
}

// readStats reads the process's memory and goroutine figures.
func readStats() (serverStats, error) {
	rss, err := procstat.ResidentBytes()
	if err != nil {
		return serverStats{}, err
	}
	s := []metrics.Sample{
		{Name: "/memory/classes/heap/objects:bytes"},
		{Name: "/memory/classes/heap/stacks:bytes"},
		{Name: "/sched/goroutines:goroutines"},
	}
	metrics.Read(s)
	for _, m := range s {
		if m.Value.Kind() != metrics.KindUint64 {
			return serverStats{}, fmt.Errorf("runtime/metrics has no %s", m.Name)
		}
	}
	return serverStats{
		CPU:        cpuTime(),
		RSS:        rss,
		Heap:       int64(s[0].Value.Uint64()),
		Stacks:     int64(s[1].Value.Uint64()),
		Goroutines: int64(s[2].Value.Uint64()),
	}, nil
}

// parseServerAddrs parses the line a server process prints when ready.
func parseServerAddrs(line []byte) (serverAddrs, error) {
	var a serverAddrs
	if err := json.Unmarshal(line, &a); err != nil {
		return a, fmt.Errorf("server printed %q, not its addresses: %w", line, err)
	}
	if a.WS == "" || a.Debug == "" {
		return a, fmt.Errorf("server printed %q, without both addresses", line)
	}
	return a, nil
}
