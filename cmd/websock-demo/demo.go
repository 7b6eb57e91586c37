package main

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"

	"github.com/websock-go/websock/adapters"
	"github.com/websock-go/websock/cmd/internal/builtin"
)

//go:embed page.html
var page []byte

// config says where the demo listens.
type config struct {
	pageAddr string
	// adapterAddrs overrides, by adapter name, the address an adapter
	// listens on; by default it is the page's port plus its place in the
	// list (or any free port, when the page's port is 0).
	adapterAddrs map[string]string
}

// server is one adapter endpoint, as the page lists it.
type server struct {
	Name string `json:"name"`
	Port int    `json:"port"`
	URL  string `json:"url"`
}

// demo is the running page and chat servers.
type demo struct {
	pageURL string
	page    *http.Server
	servers []server
	stops   []func(context.Context) error
	hub     *hub
}

// start serves the page on cfg.pageAddr and the chat handler on every
// built-in adapter.
func start(cfg config) (*demo, error) {
	ln, err := net.Listen("tcp", cfg.pageAddr)
	if err != nil {
		return nil, fmt.Errorf("page listener: %w", err)
	}
	host, portStr, _ := net.SplitHostPort(ln.Addr().String())
	pagePort, _ := strconv.Atoi(portStr)
	_, wantPort, _ := net.SplitHostPort(cfg.pageAddr)

	d := &demo{pageURL: "http://" + ln.Addr().String() + "/", hub: newHub()}
	opts := &adapters.Options{
		// A browser on the page's origin may connect; so may one that
		// opened it as localhost.
		AllowedOrigins: []string{
			"http://" + net.JoinHostPort(host, portStr),
			"http://" + net.JoinHostPort("localhost", portStr),
		},
		MaxMessageSize: 16 << 10,
		// Browsers offer permessage-deflate; chat text compresses well.
		Compression: true,
		// A member whose browser falls this far behind the room is
		// closed with 1013 and can reconnect, rather than hold the room's
		// messages in memory without limit.
		MailboxSize:        256,
		CloseOnMailboxFull: true,
	}
	for i, a := range builtin.All() {
		addr := net.JoinHostPort(host, "0")
		if wantPort != "0" {
			addr = net.JoinHostPort(host, strconv.Itoa(pagePort+1+i))
		}
		if cfg.adapterAddrs[a.Name] != "" {
			addr = cfg.adapterAddrs[a.Name]
		}
		srv, err := a.Start(addr, d.hub.accept, opts)
		if err != nil {
			ln.Close()
			d.shutdown(context.Background())
			return nil, fmt.Errorf("adapter %s on %s: %w", a.Name, addr, err)
		}
		_, p, _ := net.SplitHostPort(srv.Addr)
		port, _ := strconv.Atoi(p)
		d.servers = append(d.servers, server{Name: a.Name, Port: port, URL: "ws://" + srv.Addr + "/"})
		d.stops = append(d.stops, srv.Shutdown)
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.Write(page)
	})
	mux.HandleFunc("GET /servers", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		json.NewEncoder(w).Encode(d.servers)
	})
	d.page = builtin.HTTPServer(mux)
	go d.page.Serve(ln)
	return d, nil
}

// shutdown closes every chat connection with 1001, on every adapter at
// once, waits for their Terminate, and then stops the page.
func (d *demo) shutdown(ctx context.Context) error {
	errs := make([]error, len(d.stops)+1)
	var wg sync.WaitGroup
	for i, stop := range d.stops {
		wg.Go(func() { errs[i] = stop(ctx) })
	}
	wg.Wait()
	if d.page != nil {
		errs[len(d.stops)] = d.page.Shutdown(ctx)
	}
	return errors.Join(errs...)
}
