package main

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/websock-go/websock/adapters"
	"github.com/websock-go/websock/adapters/longpoll"
	"github.com/websock-go/websock/adapters/pubsub"
	"github.com/websock-go/websock/adapters/pubsub/natsbroker"
	"github.com/websock-go/websock/adapters/pubsub/redisbroker"
	"github.com/websock-go/websock/cmd/internal/builtin"
)

//go:embed page.html
var page []byte

// config says where the demo listens and how its nodes meet.
type config struct {
	pageAddr string
	// adapterAddrs overrides, by adapter name, the address an adapter
	// listens on; by default it is the page's port plus its place in the
	// list (or any free port, when the page's port is 0).
	adapterAddrs map[string]string
	// node names this node; default: the page's address.
	node string
	// nats is "" for this node alone (an in-process broker), "embedded"
	// to run a NATS server here on natsAddr, or the URL of a NATS server
	// that the other nodes use too.
	nats, natsAddr string
	// natsCluster, with nats "embedded", is where the embedded server
	// listens for the routes of other nodes' servers, and natsRoutes
	// those it joins: the nodes' servers then form one cluster, and no
	// node's loss cuts the others off.
	natsCluster string
	natsRoutes  []string
	// redis is the URL of a Redis server that the other nodes use too
	// (redis://host:port), instead of NATS.
	redis string
	// drainBatch and drainInterval pace the shutdown (see
	// adapters.Options.DrainBatch).
	drainBatch    int
	drainInterval time.Duration
	// restart closes with 1012 (service restart) on shutdown, instead of
	// 1001 (going away).
	restart bool
	// tlsAddr, when set, is where the page is also served over https,
	// with the chat over HTTP/2 on its origin (tls.go).
	tlsAddr string
	// limits are the -origin, -max-connections and -upgrade-* flags:
	// origins besides the pages' own, and the caps of every adapter.
	limits builtin.LimitFlags
	log    *slog.Logger
}

// server is one adapter endpoint, as the page lists it.
type server struct {
	Name string `json:"name"`
	Port int    `json:"port"`
	URL  string `json:"url"`
	Node string `json:"node"`
	Path string `json:"path,omitempty"` // where on its port; default "/"
}

// demo is the running page and chat servers.
type demo struct {
	pageURL  string
	natsURL  string // the NATS server the node uses, if any
	redisURL string // the Redis server the node uses, if any
	page     *http.Server
	tlsURL   string       // the https page, with -tls
	tlsPage  *http.Server // its server
	servers  []server
	running  []*builtin.Server
	poll     *longpoll.Handler // the long-poll fallback, on the page's server
	hub      *hub
	ps       *pubsub.PubSub
	closers  []func() // the broker (and the NATS server it embeds)
	restart  bool
	metrics  *metrics
}

// start serves the page on cfg.pageAddr and the chat handler on every
// built-in adapter, joined to the other nodes through NATS when asked.
func start(cfg config) (*demo, error) {
	if cfg.log == nil {
		cfg.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	ln, err := net.Listen("tcp", cfg.pageAddr)
	if err != nil {
		return nil, fmt.Errorf("page listener: %w", err)
	}
	host, portStr, _ := net.SplitHostPort(ln.Addr().String())
	pagePort, _ := strconv.Atoi(portStr)
	_, wantPort, _ := net.SplitHostPort(cfg.pageAddr)
	if cfg.node == "" {
		cfg.node = ln.Addr().String()
	}

	m, err := newMetrics()
	if err != nil {
		ln.Close()
		return nil, err
	}
	d := &demo{pageURL: "http://" + ln.Addr().String() + "/", restart: cfg.restart, metrics: m}
	fail := func(err error) (*demo, error) {
		ln.Close()
		d.shutdown(context.Background())
		return nil, err
	}
	broker, err := d.connect(cfg)
	if err != nil {
		return fail(err)
	}
	d.ps = pubsub.New(broker)
	if d.hub, err = newHub(d.ps, roster{Node: cfg.node, Page: d.pageURL}, cfg.log); err != nil {
		return fail(err)
	}
	opts := &adapters.Options{
		// One Observer counts for every adapter: /metrics and the page's
		// counters.
		Observer: m.obs,
		// A browser on the page of this node, or of another node whose
		// pages move here when it goes away, may connect.
		CheckOrigin:    d.hub.checkOrigin,
		MaxMessageSize: 16 << 10,
		// Browsers offer permessage-deflate; chat text compresses well.
		Compression: true,
		// A member whose browser falls this far behind the room is
		// closed with 1013 and can reconnect, rather than hold the room's
		// messages in memory without limit.
		MailboxSize:        256,
		CloseOnMailboxFull: true,
		DrainBatch:         cfg.drainBatch,
		DrainInterval:      cfg.drainInterval,
	}
	cfg.limits.Apply(opts)
	// The pages' own origins, and those -origin lists: CheckOrigin
	// replaces AllowedOrigins.
	opts.AllowedOrigins, d.hub.origins = nil, cfg.limits.Origins
	for i, a := range byPort(builtin.WebSockets()) {
		addr := net.JoinHostPort(host, "0")
		if wantPort != "0" {
			addr = net.JoinHostPort(host, strconv.Itoa(pagePort+1+i))
		}
		if cfg.adapterAddrs[a.Name] != "" {
			addr = cfg.adapterAddrs[a.Name]
		}
		srv, err := a.Start(addr, d.hub.accept, opts)
		if err != nil {
			return fail(fmt.Errorf("adapter %s on %s: %w", a.Name, addr, err))
		}
		_, p, _ := net.SplitHostPort(srv.Addr)
		port, _ := strconv.Atoi(p)
		d.servers = append(d.servers, server{Name: a.Name, Port: port, URL: "ws://" + srv.Addr + "/", Node: cfg.node})
		d.running = append(d.running, srv)
	}
	d.hub.self.Servers = d.servers
	// The same handler over long-polling, for browsers whose WebSocket
	// cannot open: websock.js falls back to it, on the page's own origin.
	pollOpts := *opts
	pollOpts.Compression = false // long-polling has none
	if d.poll, err = longpoll.New(d.hub.accept, &longpoll.Options{Options: pollOpts}); err != nil {
		return fail(err)
	}
	if err := d.hub.run(); err != nil {
		return fail(err)
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", servePage)
	mux.HandleFunc("GET /servers", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		json.NewEncoder(w).Encode(d.hub.servers())
	})
	mux.Handle("/longpoll", d.poll)
	mux.Handle("GET /websock.js", longpoll.ScriptHandler())
	var names []string
	for _, s := range d.servers {
		names = append(names, s.Name)
	}
	names = append(names, longpoll.Adapter.Name)
	m.handle(mux, names)
	d.page = builtin.HTTPServer(mux)
	go d.page.Serve(ln)
	if cfg.tlsAddr != "" {
		if err := d.startTLS(cfg.tlsAddr, *opts); err != nil {
			return fail(err)
		}
	}
	return d, nil
}

// servePage serves the chat page.
func servePage(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(page)
}

// connect returns the broker cfg asks for: none, NATS (embedded or
// not), or Redis.
func (d *demo) connect(cfg config) (pubsub.Broker, error) {
	switch {
	case cfg.nats != "" && cfg.redis != "":
		return nil, errors.New("-nats and -redis both given: choose one broker")
	case cfg.nats != "embedded" && (cfg.natsCluster != "" || len(cfg.natsRoutes) > 0):
		return nil, errors.New("-nats-cluster and -nats-routes need -nats embedded")
	case cfg.redis != "":
		b, err := redisbroker.Connect(cfg.redis, nil)
		if err != nil {
			return nil, err
		}
		d.redisURL = cfg.redis
		d.closers = append(d.closers, b.Close)
		return b, nil
	case cfg.nats == "embedded":
		b, stop, err := natsbroker.Embedded(&natsbroker.EmbeddedOptions{Addr: cfg.natsAddr,
			Cluster: cfg.natsCluster, Routes: cfg.natsRoutes})
		if err != nil {
			return nil, err
		}
		d.natsURL = b.Conn().ConnectedUrl()
		d.closers = append(d.closers, stop)
		return b, nil
	case cfg.nats != "":
		b, err := natsbroker.Connect(cfg.nats, nil)
		if err != nil {
			return nil, err
		}
		d.natsURL = cfg.nats
		d.closers = append(d.closers, b.Close)
		return b, nil
	}
	return nil, nil
}

// shutdown closes every chat connection on every adapter at once (close
// 1001, or 1012 with config.restart), paced as configured, waits for
// their Terminate, tells the other nodes this one left, and then stops the
// page and NATS.
func (d *demo) shutdown(ctx context.Context) error {
	errs := make([]error, len(d.running)+2)
	var wg sync.WaitGroup
	for i, srv := range d.running {
		stop := srv.Shutdown
		if d.restart {
			stop = srv.Restart
		}
		wg.Go(func() { errs[i] = stop(ctx) })
	}
	if d.poll != nil { // before the page's server, which waits for the polls
		stop := d.poll.Shutdown
		if d.restart {
			stop = d.poll.Restart
		}
		wg.Go(func() { errs[len(errs)-1] = stop(ctx) })
	}
	wg.Wait()
	if d.hub != nil {
		d.hub.stop()
	}
	if d.ps != nil {
		d.ps.Close()
	}
	if d.page != nil {
		errs[len(d.running)] = d.page.Shutdown(ctx)
	}
	if d.tlsPage != nil {
		errs = append(errs, d.tlsPage.Shutdown(ctx))
	}
	for _, c := range d.closers {
		c()
	}
	d.closers = nil
	return errors.Join(errs...)
}

// addedLater are the adapters added after the demo's ports were handed
// out, in the order they were added: each takes the port after the last,
// so that every other adapter keeps its port.
var addedLater = []string{"nbio"}

// byPort orders ws as their ports go: the adapters of addedLater last.
func byPort(ws []builtin.Adapter) []builtin.Adapter {
	late := func(a builtin.Adapter) int { return slices.Index(addedLater, a.Name) }
	slices.SortStableFunc(ws, func(a, b builtin.Adapter) int { return late(a) - late(b) })
	return ws
}
