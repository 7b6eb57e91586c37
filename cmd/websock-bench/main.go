// Command websock-bench measures what the websock adapters cost over the
// libraries they wrap. For every built-in adapter it runs the same
// workloads against two echo servers, the adapter (the websock echo
// handler, websock.Push of each frame received) and the raw library (an
// echo server written directly on it as its own docs write one), and
// prints one Markdown table with both figures and their ratio:
//
//	go run ./cmd/websock-bench                    # every adapter, defaults
//	go run ./cmd/websock-bench -adapters gorilla  # one adapter
//
// The workloads:
//
//   - rtt: -conns connections (default 50) each send a -size message
//     (1 KiB) and wait for its echo, in a closed loop, for -duration (3 s)
//     after -warmup; round trips per second and p50/p99 latency.
//     With -observer (on by default), each adapter also runs with a
//     no-op Observer that wants every event and message, alternating with
//     the other runs, and the table compares it with the adapter without
//     one: what the engine's observability hook costs.
//   - tput: one connection streams -tput-size messages (64 KiB) with
//     -window in flight; echoed MB/s (10^6 bytes).
//   - fanout: -fanout-conns connections (1,000); the server pushes one
//     message to all of them (adapter: Conn.Send from a hub, delivered by
//     HandleInfo; raw: a loop writing to every connection under its own
//     mutex), -fanout-reps times; the median time from the trigger until
//     every client has it.
//   - broadcast: -broadcast-conns connections (10,000) get one
//     -broadcast-size message (1 KiB) per push, -broadcast-reps times, as
//     in fanout, from the adapter's hub pushing a plain frame or a
//     websock.Prepared (framed, and compressed, once for all), each
//     without and with permessage-deflate, and from raw gws's
//     gws.Broadcaster (without and with it) in the same run; the median
//     time until every connection has the message, and the server's CPU
//     time per push. The message is JSON-like text, which compresses as
//     chat events do; the client checks it on every connection (inflating
//     it on one in a hundred).
//   - idle: -idle-conns silent connections (10,000); the server's resident
//     memory (VmRSS), Go heap and goroutine stacks (runtime/metrics) and
//     goroutines, per connection, each measured after a forced garbage
//     collection, before and after the connections open.
//
// Server and load client are separate processes, talking only over
// 127.0.0.1: the command re-executes itself as `websock-bench server` (an
// adapter from the built-in registry, or the raw library) and as
// `websock-bench client` (a minimal RFC 6455 client of its own, which
// shares no code with any library under test). Every run gets fresh
// processes. Raw and adapter runs alternate (raw, adapter, adapter, raw,
// ... over -reps runs) so that machine noise hits both; the table shows
// the median of the runs. Both processes raise their open-file limit to
// the hard limit.
//
// `websock-bench vs A B` compares two servers head to head on rtt (or
// tput), alternating them pair by pair, and prints each one's median and
// the ratio A/B of every pair; a side is an adapter's name or raw:NAME,
// the raw server of that adapter's library:
//
//	go run ./cmd/websock-bench vs -reps 8 gobws raw:gws        # against the fastest library
//	go run ./cmd/websock-bench vs -reps 8 gobws-netpoll gobws  # event-driven against a goroutine each
//
// With -save, -readme and -svg it also writes the run's results (JSON),
// the table between the bench markers of a Markdown file (docs/performance.md), and a chart (SVG) of
// adapter/raw per workload and of an idle connection's cost; `make bench`
// writes all three, and `websock-bench render -from FILE -readme FILE
// -svg FILE` makes the table and the chart again from saved results.
//
// The defaults suit a 2-core machine that allows 20,000 open files per
// process and take about 40 s per adapter (3.5 min for five). On a bigger
// machine, scale up with, for example:
//
//	ulimit -Hn 200000; ulimit -n 200000
//	go run ./cmd/websock-bench -conns 500 -duration 10s -reps 4 \
//		-fanout-conns 10000 -idle-conns 60000
//
// All connections go from 127.0.0.1 to one server port, so their number is
// bounded by the ephemeral port range: beyond about 28,000 widen
// net.ipv4.ip_local_port_range (at most about 64,000 are possible).
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
)

// childEnv marks a process started by the benchmark as its server or
// client, so that a test binary, which cannot take subcommands, can act
// as one too (see TestMain).
const childEnv = "WEBSOCK_BENCH_CHILD"

func main() {
	if len(os.Args) > 1 && (os.Args[1] == "server" || os.Args[1] == "client" || os.Args[1] == "node") {
		os.Exit(childMain(os.Args[1:]))
	}
	main := run
	if len(os.Args) > 1 && os.Args[1] == "nodes" {
		main, os.Args = runNodes, os.Args[1:]
	}
	if len(os.Args) > 1 && os.Args[1] == "vs" {
		main, os.Args = runVs, os.Args[1:]
	}
	if len(os.Args) > 1 && os.Args[1] == "render" {
		main, os.Args = runRender, os.Args[1:]
	}
	if err := main(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "websock-bench:", err)
		}
		os.Exit(1)
	}
}

// childMain runs a server or client process: args[0] is "server" or
// "client". It returns the exit code.
func childMain(args []string) int {
	var err error
	switch args[0] {
	case "server":
		err = runServer(args[1:], os.Stdin, os.Stdout, os.Stderr)
	case "client":
		err = runClient(args[1:], os.Stdin, os.Stdout, os.Stderr)
	case "node":
		err = runNode(args[1:], os.Stdin, os.Stdout, os.Stderr)
	default:
		err = fmt.Errorf("unknown subcommand %q", args[0])
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "websock-bench %s: %v\n", args[0], err)
		return 1
	}
	return 0
}

// run is the parent process: it parses the flags, runs every workload and
// prints the table to stdout and progress to stderr.
func run(args []string, stdout, stderr io.Writer) error {
	cfg, out, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	exe, env, err := childSetup()
	if err != nil {
		return err
	}
	b := &bench{cfg: cfg, exe: exe, env: env, log: stderr, pin: newPinning(cfg.pin)}
	res := b.runAll()
	printTable(stdout, cfg, res)
	if len(res.errs) > 0 {
		return fmt.Errorf("%d runs failed (nothing written); the first: %w", len(res.errs), res.errs[0])
	}
	return out.write(cfg, res)
}

// childSetup returns this program and the environment to start it with as
// a child process.
func childSetup() (exe string, env []string, err error) {
	exe, err = os.Executable()
	if err != nil {
		return "", nil, fmt.Errorf("finding this program to start the server and client processes: %w", err)
	}
	env = append(os.Environ(), childEnv+"=1")
	if _, ok := os.LookupEnv("GORACE"); !ok {
		// A -race build otherwise sleeps 1 s at every child's exit.
		env = append(env, "GORACE=atexit_sleep_ms=0")
	}
	return exe, env, nil
}
