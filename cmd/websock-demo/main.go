// Command websock-demo serves one chat handler on every built-in adapter at
// once, and a page that lists them:
//
//	go run ./cmd/websock-demo        # then open http://127.0.0.1:8080
//
// Each adapter listens on its own port, the ones after the page's (8081,
// 8082, ...), and every connection joins one room, so a message typed on a
// page connected through gorilla reaches a page connected through fasthttp:
// the handlers broadcast through a small in-process hub, and each
// connection's HandleInfo passes the room's events on in order. Opened
// without parameters, the page shows one chat panel per adapter, each
// connected at once under a generated name (?connect=0 shows one chat of
// your own instead; ?name=N&server=S connects one as N through S). The page
// shows which server each message came through and who is online, and
// reconnects when the servers come back after a restart. Below the chat,
// the page shows every adapter's live counters side by side (connections,
// messages in and out, closes), from one Prometheus Observer whose metrics
// the page server also serves at /metrics. SIGINT or SIGTERM shuts every
// server down gracefully: every page sees close 1001.
//
//	go run ./cmd/websock-demo -tls 127.0.0.1:8443   # also https://127.0.0.1:8443
//
// With -tls the page is also served over https, with a self-signed
// certificate made at start (nothing is written to disk), and HTTP/2; that
// page chats through gobws on its own origin, and a browser opens its
// WebSocket as a stream of the page's HTTP/2 connection (RFC 8441). Go's
// server offers this only with GODEBUG=http2xconnect=1 in its environment,
// so the demo runs itself again with it. The page shows which protocol its
// WebSocket got: HTTP/2.0 or HTTP/1.1.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/websock-go/websock/cmd/internal/builtin"
	"github.com/websock-go/websock/internal/xconnect"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "websock-demo:", err)
		}
		os.Exit(2)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("websock-demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg config
	var drain builtin.DrainFlags
	fs.StringVar(&cfg.pageAddr, "addr", "127.0.0.1:8080", "address of the page; the adapters listen on the ports after it (port 0: any free ports)")
	fs.StringVar(&cfg.node, "node", "", "this node's name, shown with its members (default: the page's address)")
	fs.StringVar(&cfg.nats, "nats", "", `join other nodes through NATS: "embedded" runs a NATS server here (see -nats-addr), or give a server's URL such as nats://127.0.0.1:4222; default: this node alone`)
	fs.StringVar(&cfg.redis, "redis", "", "join other nodes through Redis instead: a server's URL such as redis://127.0.0.1:6379; default: this node alone")
	fs.StringVar(&cfg.natsCluster, "nats-cluster", "", "with -nats embedded: where the embedded server listens for the routes of other nodes' embedded servers (such as 127.0.0.1:6222), so that they form one cluster and losing any node cuts no other off; default: no cluster")
	var routes string
	fs.StringVar(&routes, "nats-routes", "", "with -nats-cluster: the cluster addresses of other nodes' servers to join, comma-separated (such as 127.0.0.1:6222)")
	fs.StringVar(&cfg.natsAddr, "nats-addr", "127.0.0.1:4222", "where -nats embedded listens (port 0: any free port)")
	fs.StringVar(&cfg.tlsAddr, "tls", "", "also serve the page over https on this address (such as 127.0.0.1:8443), with a self-signed certificate made at start, HTTP/2, and the chat over HTTP/2 on the page's origin (RFC 8441); the demo then runs itself again with GODEBUG=http2xconnect=1")
	drain.Register(fs)
	cfg.limits.Register(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if routes != "" {
		cfg.natsRoutes = strings.Split(routes, ",")
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q; all options are flags (see -h)", fs.Args())
	}
	if err := drain.Check(); err != nil {
		return err
	}
	if err := cfg.limits.Check(); err != nil {
		return err
	}
	if cfg.tlsAddr != "" && !xconnect.Enabled() {
		code, err := xconnect.Rerun()
		if err != nil {
			return fmt.Errorf("running again with GODEBUG=%s: %w", xconnect.Setting, err)
		}
		os.Exit(code)
	}
	cfg.drainBatch, cfg.drainInterval, cfg.restart = drain.Batch, drain.Interval, drain.Restart
	cfg.log = slog.New(slog.NewTextHandler(stderr, nil))

	d, err := start(cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "websock-demo: chat page on %s\n", d.pageURL)
	if d.tlsURL != "" {
		fmt.Fprintf(stdout, "websock-demo: chat page over https on %s (self-signed certificate), chat over HTTP/2 at %s\n", d.tlsURL, chatPath)
	}
	if d.natsURL != "" {
		fmt.Fprintf(stdout, "websock-demo: joined to other nodes through NATS at %s\n", d.natsURL)
	}
	if d.redisURL != "" {
		fmt.Fprintf(stdout, "websock-demo: joined to other nodes through Redis at %s\n", d.redisURL)
	}
	for _, s := range d.servers {
		fmt.Fprintf(stdout, "websock-demo:   %-8s %s\n", s.Name, s.URL)
	}

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
	signal.Stop(sig) // a second Ctrl-C kills at once
	live := 0
	for _, s := range d.running {
		live += s.Live()
	}
	fmt.Fprintf(stdout, "websock-demo: shutting down: %s\n", drain.Describe(live))
	ctx, cancel := context.WithTimeout(context.Background(), drain.Timeout)
	defer cancel()
	return d.shutdown(ctx)
}
