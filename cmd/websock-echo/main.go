// Command websock-echo serves a WebSocket echo handler on one of the
// built-in adapters, for protocol test suites, third-party clients and
// benchmarks:
//
//	go run ./cmd/websock-echo -adapter gorilla -addr 127.0.0.1:9001
//
// Every text or binary message is echoed back as the same type. It prints
// the URL it listens on and, on SIGINT or SIGTERM, shuts down gracefully:
// every client gets close 1001. With -debug ADDR it also serves
// net/http/pprof and expvar (with a live-connections counter) on ADDR, and
// Prometheus metrics at /metrics (see package adapters/observe/promobs).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/websock-go/websock/cmd/internal/builtin"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr, nil); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "websock-echo:", err)
		}
		os.Exit(2)
	}
}

// run parses args, serves until a signal (or until stop is closed, for
// tests), and shuts down.
func run(args []string, stdout, stderr io.Writer, stop <-chan struct{}) error {
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	a, err := builtin.Lookup(cfg.adapter)
	if err != nil {
		return err
	}
	opts := cfg.options()
	var reg *prometheus.Registry
	if cfg.debug != "" {
		if reg, opts.Observer, err = newMetrics(); err != nil {
			return err
		}
	}
	srv, err := a.Start(cfg.addr, echoAccept, opts)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", cfg.addr, err)
	}
	if a.WebSocket() {
		fmt.Fprintf(stdout, "websock-echo: adapter %s listening on ws://%s/\n", a.Name, srv.Addr)
	} else {
		fmt.Fprintf(stdout, "websock-echo: adapter %s listening on http://%s/ (long-poll, see package adapters/longpoll)\n", a.Name, srv.Addr)
	}
	if cfg.debug != "" {
		dbg, err := serveDebug(cfg.debug, srv.Live, reg)
		if err != nil {
			srv.Shutdown(context.Background())
			return fmt.Errorf("debug listener on %s: %w", cfg.debug, err)
		}
		defer dbg.Close()
		fmt.Fprintf(stdout, "websock-echo: debug endpoints (pprof, expvar) on http://%s/debug/, Prometheus metrics on http://%s/metrics\n", dbg.Addr, dbg.Addr)
	}

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sig)
	select {
	case <-sig:
	case <-stop:
	}
	fmt.Fprintf(stdout, "websock-echo: %s\n", cfg.drain.Describe(srv.Live()))
	ctx, cancel := context.WithTimeout(context.Background(), cfg.drain.Timeout)
	defer cancel()
	if err := cfg.drain.Stop(srv)(ctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}
