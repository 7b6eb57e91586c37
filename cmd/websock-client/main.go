// Command websock-client is an interactive WebSocket client, like
// websocat: each line read from standard input is sent as a text message,
// and each message received is written to standard output, a text
// message as a line, a binary one as a line of hex after "binary: ".
//
//	go run ./cmd/websock-client [flags] ws://127.0.0.1:9001/ [ws://127.0.0.1:9002/ ...]
//
// It runs on any built-in adapter's client (-adapter), offers
// subprotocols (-subprotocol, repeatable) and compression (-compress),
// sends extra headers (-header "Name: value", repeatable), and reconnects
// with the default backoff when the connection is lost (-reconnect,
// default on), unless the server closed it with 1000. Lines typed while it
// reconnects are sent once it is back. Given several URLs (the nodes of
// one service), it fails over: a lost connection or a failed dial moves
// to the next URL at once, and only once every URL failed in a row does
// it wait, with the backoff of the rounds that failed.
//
// It exits with status 0 when standard input ends (it closes with 1000
// first) or the server closes with 1000; 3 when the server closes with
// another code and it does not reconnect; 1 when a dial fails and it does not reconnect, or the
// connection is lost; 2 for bad flags.
package main

import (
	"bufio"
	"context"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/websock-go/websock/adapters"
	"github.com/websock-go/websock/cmd/internal/builtin"
	"github.com/websock-go/websock/websock"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// The exit statuses.
const (
	exitOK     = 0
	exitFailed = 1
	exitUsage  = 2
	exitRemote = 3
)

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ", ") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// run runs the client until stdin ends, ctx is done or the connection
// ends for good, and returns the exit status.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("websock-client", flag.ContinueOnError)
	fs.SetOutput(stderr)
	adapter := fs.String("adapter", "gorilla", "the client adapter: "+strings.Join(clientNames(), ", "))
	var headers, protocols listFlag
	fs.Var(&headers, "header", `an extra handshake header, "Name: value" (repeatable)`)
	fs.Var(&protocols, "subprotocol", "a subprotocol to offer, in order of preference (repeatable)")
	compress := fs.Bool("compress", false, "offer permessage-deflate")
	reconnect := fs.Bool("reconnect", true, "reconnect, with backoff, when the connection is lost or fails")
	maxMessage := fs.Int64("max-message", 0, "the largest message accepted, in bytes (default 16 MiB)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: websock-client [flags] ws://host:port/path [more URLs to fail over to]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if fs.NArg() < 1 {
		fs.Usage()
		return exitUsage
	}
	c, err := builtin.LookupClient(*adapter)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitUsage
	}
	hdr := http.Header{}
	for _, h := range headers {
		k, v, ok := strings.Cut(h, ":")
		if !ok {
			fmt.Fprintf(stderr, "-header %q: want \"Name: value\"\n", h)
			return exitUsage
		}
		hdr.Add(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	opts := &adapters.DialOptions{Header: hdr, RetryInitialDial: *reconnect,
		Options: adapters.Options{Subprotocols: protocols, Compression: *compress, MaxMessageSize: *maxMessage}}
	h := &handler{out: bufio.NewWriter(stdout), log: stderr, reconnect: *reconnect, urls: fs.Args()}
	cl, err := c.Dial(ctx, fs.Arg(0), h, opts)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitFailed
	}

	go func() {
		sc := bufio.NewScanner(stdin)
		sc.Buffer(nil, 16<<20)
		for sc.Scan() {
			if err := cl.Send(sc.Text()); err != nil {
				if errors.Is(err, websock.ErrClosed) {
					return
				}
				fmt.Fprintln(stderr, "send:", err)
			}
		}
		cl.Close(websock.CloseNormal, "")
	}()
	select {
	case <-cl.Done():
	case <-ctx.Done():
		cl.Close(websock.CloseNormal, "")
	}
	return status(cl.Wait(), stderr)
}

// status returns the exit status for the client's final reason.
func status(r websock.Reason, stderr io.Writer) int {
	switch {
	case r.Kind == websock.KindNormal, r.Kind == websock.KindRemote && r.Code == websock.CloseNormal:
		return exitOK
	case r.Kind == websock.KindRemote:
		fmt.Fprintf(stderr, "closed by the server: %d %s\n", r.Code, r.Text)
		return exitRemote
	}
	fmt.Fprintln(stderr, r.Error())
	return exitFailed
}

func clientNames() []string {
	var out []string
	for _, c := range builtin.Clients() {
		out = append(out, c.Name)
	}
	return out
}

// handler prints what arrives and sends what stdin gives.
type handler struct {
	out       *bufio.Writer
	log       io.Writer
	reconnect bool
	urls      []string // to fail over between, in order
}

func (h *handler) Init(c websock.Conn) websock.Result {
	info := c.Info()
	fmt.Fprintf(h.log, "connected to %s (adapter %s, subprotocol %q, compressed %v)\n", info.URL, info.Adapter, info.Subprotocol, info.Compressed)
	return websock.Result{}
}

func (h *handler) HandleIn(f websock.Frame) websock.Result {
	if f.Op == websock.OpBinary {
		h.out.WriteString("binary: " + hex.EncodeToString(f.Data) + "\n")
	} else {
		h.out.Write(f.Data)
		h.out.WriteByte('\n')
	}
	h.out.Flush()
	return websock.Result{}
}

func (h *handler) HandleInfo(msg any) websock.Result {
	return websock.Push(websock.Frame{Op: websock.OpText, Data: []byte(msg.(string))})
}

func (h *handler) Terminate(websock.Reason) {}

// HandleDisconnect reconnects, unless told not to or the server closed
// normally: with one URL, to it with the default backoff; with several,
// to the next one, at once unless every URL failed in a row since the
// last connection.
func (h *handler) HandleDisconnect(d websock.Disconnect) websock.Reconnect {
	if !h.reconnect || d.Reason.Kind == websock.KindRemote && d.Reason.Code == websock.CloseNormal {
		return websock.StopReconnecting
	}
	if len(h.urls) == 1 {
		fmt.Fprintf(h.log, "disconnected (%v); reconnecting, attempt %d\n", d.Reason, d.Attempt+1)
		return websock.Reconnect{}
	}
	next := h.urls[0]
	for i, u := range h.urls {
		if u == d.URL {
			next = h.urls[(i+1)%len(h.urls)]
		}
	}
	r := websock.Reconnect{URL: next, Delay: -1}
	if rounds := d.Attempt / len(h.urls); d.Attempt > 0 && d.Attempt%len(h.urls) == 0 {
		r.Delay = websock.Backoff(rounds) // every URL failed: wait before the next round
	}
	fmt.Fprintf(h.log, "disconnected from %s (%v); reconnecting to %s, attempt %d\n", d.URL, d.Reason, next, d.Attempt+1)
	return r
}
