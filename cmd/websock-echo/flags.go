package main

import (
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/websock-go/websock/adapters"
	"github.com/websock-go/websock/cmd/internal/builtin"
)

// config is what the flags say. The flags are a stable interface: test
// suites and benchmarks script them.
type config struct {
	adapter     string
	addr        string
	maxMessage  int64
	compress    bool
	debug       string
	idleTimeout time.Duration
	drain       builtin.DrainFlags
	limits      builtin.LimitFlags
}

func parseFlags(args []string, stderr io.Writer) (*config, error) {
	fs := flag.NewFlagSet("websock-echo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg := &config{}
	fs.StringVar(&cfg.adapter, "adapter", "gorilla", "adapter to serve on: "+strings.Join(builtin.Names(), ", "))
	fs.StringVar(&cfg.addr, "addr", "127.0.0.1:9001", "address to listen on")
	fs.Int64Var(&cfg.maxMessage, "max-message", adapters.DefaultMaxMessageSize, "largest message accepted, in bytes")
	fs.BoolVar(&cfg.compress, "compress", false, "offer permessage-deflate compression")
	fs.StringVar(&cfg.debug, "debug", "", "also serve net/http/pprof, expvar and Prometheus /metrics on this address, e.g. 127.0.0.1:6060")
	fs.DurationVar(&cfg.idleTimeout, "idle-timeout", adapters.DefaultIdleTimeout, "close connections idle for this long (negative: never)")
	cfg.drain.Register(fs)
	cfg.limits.Register(fs)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: websock-echo [flags]\n\nServes a WebSocket echo handler at / on the chosen adapter.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q; all options are flags (see -h)", fs.Args())
	}
	if err := cfg.drain.Check(); err != nil {
		return nil, err
	}
	if err := cfg.limits.Check(); err != nil {
		return nil, err
	}
	if cfg.maxMessage <= 0 {
		return nil, fmt.Errorf("-max-message must be positive, got %d", cfg.maxMessage)
	}
	return cfg, nil
}

// options returns the adapter options the flags ask for. The origin
// policy is the library's (same origin only) unless -origin widens it:
// test suites and other clients that are not browsers send no Origin and
// are always let in; a browser page elsewhere needs -origin.
func (c *config) options() *adapters.Options {
	o := &adapters.Options{
		MaxMessageSize: c.maxMessage,
		Compression:    c.compress,
		IdleTimeout:    c.idleTimeout,
		DrainBatch:     c.drain.Batch,
		DrainInterval:  c.drain.Interval,
	}
	c.limits.Apply(o)
	return o
}
