// Command websock-conform prints the adapter × feature matrix of the
// built-in adapters as Markdown:
//
//	go run ./cmd/websock-conform                    # runs the conformance suite on every adapter
//	go run ./cmd/websock-conform -adapters gorilla  # on some
//	go run ./cmd/websock-conform -static            # from the adapters' declarations only
//	go run ./cmd/websock-conform -table             # the table of adapters, from their declarations
//	go run ./cmd/websock-conform -list              # every case: name, feature, source, rule
//
// By default it runs the suite in this process, through conformance.Test,
// prints each failure with the rule it broke to standard error, marks a
// feature failing when any of its cases failed, and exits 1 if any did.
// With -static it prints what the adapters declare, without running
// anything: that is the copy kept in docs/adapters.md, and a test checks that
// copy is current. It runs itself again with GODEBUG=http2xconnect=1
// added to its environment, for the cases over HTTP/2.
//
// An adapter that is not built in runs the same suite from a main of its
// own:
//
//	func main() {
//		err := conformance.Test(conformance.Adapter{Adapter: mylib.Adapter, Serve: conformance.ServeHTTP(mylib.New)})
//		if err != nil {
//			log.Fatal(err)
//		}
//	}
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/valyala/fasthttp"
	"github.com/websock-go/websock/adapters"
	"github.com/websock-go/websock/cmd/internal/builtin"
	"github.com/websock-go/websock/conformance"
	"github.com/websock-go/websock/internal/xconnect"
	"github.com/websock-go/websock/websock"
)

func main() {
	static := flag.Bool("static", false, "print the matrix from the adapters' declarations, without running the suite")
	list := flag.Bool("list", false, "list every case: name, feature, source and rule, description")
	only := flag.String("adapters", "", "comma-separated built-in adapters to run the suite on (default: all)")
	table := flag.Bool("table", false, "print the table of adapters (package, library, server, what the library lacks) from their declarations")
	cross := flag.Bool("cross", false, "run every client adapter against every server adapter (echo, compression off and on) and print the table")
	flag.Parse()
	if !*static && !*list && !*table && !*cross && !xconnect.Enabled() {
		// The cases of feature HTTP2 need Go's HTTP/2 server to accept
		// extended CONNECT, which only the environment can turn on.
		code, err := xconnect.Rerun()
		if err != nil {
			fmt.Fprintln(os.Stderr, "websock-conform:", err)
			os.Exit(1)
		}
		os.Exit(code)
	}
	if *cross {
		t, failed := crossMatrix(builtin.WebSockets(), builtin.Clients())
		io.WriteString(os.Stdout, t)
		for _, f := range failed {
			fmt.Fprintln(os.Stderr, f)
		}
		if len(failed) > 0 {
			os.Exit(1)
		}
		return
	}
	if *list {
		for _, c := range conformance.Cases() {
			feature := "core"
			if c.Feature != 0 {
				feature = c.Feature.String()
			}
			fmt.Printf("%s\t%s\t%s: %s\t%s\n", c.Name, feature, c.Source, c.Rule, c.Description)
		}
		return
	}
	if *table {
		io.WriteString(os.Stdout, adapterTable(builtin.All()))
		return
	}
	var results map[string]map[string]string
	if !*static {
		var err error
		var names []string
		if *only != "" {
			names = strings.Split(*only, ",")
		}
		if results, err = runSuites(names); err != nil {
			fmt.Fprintln(os.Stderr, "websock-conform:", err)
			os.Exit(1)
		}
	}
	io.WriteString(os.Stdout, matrix(builtin.All(), results))
	for _, byCase := range results {
		for _, r := range byCase {
			if r == "fail" {
				os.Exit(1)
			}
		}
	}
}

// row is one line of the matrix: a feature, or the core every adapter
// must pass.
type row struct {
	feature adapters.Feature
	title   string
}

func rows() []row {
	r := []row{{0, "Core: lifecycle, results, close codes, bad input, ordering, shutdown, options"}}
	for _, f := range adapters.Features() {
		r = append(r, row{f, f.String()})
	}
	return r
}

// matrix renders the Markdown table. results maps adapter → case → pass,
// fail or skip; nil means nothing was run.
func matrix(all []builtin.Adapter, results map[string]map[string]string) string {
	var b strings.Builder
	b.WriteString("| feature (cases) |")
	for _, a := range all {
		b.WriteString(" " + a.Name + " |")
	}
	b.WriteString("\n|---|")
	for range all {
		b.WriteString("---|")
	}
	b.WriteString("\n")
	var notes []string
	for _, r := range rows() {
		n := 0
		for _, c := range conformance.Cases() {
			if c.Feature == r.feature {
				n++
			}
		}
		fmt.Fprintf(&b, "| %s (%d) |", r.title, n)
		for _, a := range all {
			cell := "✅ supported"
			if why := a.Lacks.Why(r.feature); why != "" {
				cell = fmt.Sprintf("➖ unsupported by the library [%d]", len(notes)+1)
				notes = append(notes, fmt.Sprintf("[%d] %s, %s: %s", len(notes)+1, a.Name, r.feature, why))
			} else if results != nil && results[a.Name] == nil {
				cell = "· not run"
			} else if results != nil {
				cell = "✅ passing"
				for _, c := range conformance.Cases() {
					if c.Feature == r.feature && results[a.Name][c.Name] == "fail" {
						cell = "❌ failing"
					}
				}
			}
			b.WriteString(" " + cell + " |")
		}
		b.WriteString("\n")
	}
	if len(notes) > 0 {
		b.WriteString("\n")
		for _, n := range notes {
			b.WriteString(n + "\n\n")
		}
	}
	return b.String()
}

// adapterTable renders the Markdown table of adapters from their
// declarations.
func adapterTable(all []builtin.Adapter) string {
	var b strings.Builder
	b.WriteString("| adapter | package | library | HTTP server | lacked by the library |\n|---|---|---|---|---|\n")
	for _, a := range all {
		var lacks []string
		for _, f := range adapters.Features() {
			if a.Lacks.Why(f) != "" {
				lacks = append(lacks, "`"+f.String()+"`")
			}
		}
		lacked := "—"
		if len(lacks) > 0 {
			lacked = strings.Join(lacks, ", ")
		}
		pkg, _, _ := strings.Cut(a.Name, "-") // a mode of an adapter, such as gobws-netpoll, is in its package
		fmt.Fprintf(&b, "| `%s` | `adapters/%s` | %s | %s | %s |\n", a.Name, pkg, a.Library, a.Server, lacked)
	}
	return b.String()
}

// runSuites runs the conformance suite on the named built-in adapters (all
// when names is empty), in this process, through conformance.Test, and
// returns each case's outcome: fail for the cases Test reports, skip for
// the cases of a feature the adapter lacks, pass for the rest. Each
// failure is printed to standard error with the rule it broke.
func runSuites(names []string) (map[string]map[string]string, error) {
	startFastHTTPDate()
	out := map[string]map[string]string{}
	for _, a := range builtin.All() {
		if len(names) > 0 && !slices.Contains(names, a.Name) {
			continue
		}
		byCase := map[string]string{}
		for _, c := range conformance.Cases() {
			byCase[c.Name] = "pass"
			if a.Lacks.Why(c.Feature) != "" {
				byCase[c.Name] = "skip"
			}
		}
		err := conformance.Test(suiteAdapter(a))
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				var ce *conformance.CaseError
				if !errors.As(e, &ce) {
					return nil, e
				}
				byCase[ce.Case.Name] = "fail"
				fmt.Fprintln(os.Stderr, ce)
			}
		} else if err != nil {
			return nil, err
		}
		fmt.Fprintf(os.Stderr, "websock-conform: %s: %d cases run\n", a.Name, len(byCase))
		out[a.Name] = byCase
	}
	return out, nil
}

// suiteAdapter describes a built-in adapter to the suite.
func suiteAdapter(a builtin.Adapter) conformance.Adapter {
	return conformance.Adapter{
		Adapter: a.Adapter,
		Serve: func(accept websock.AcceptFunc, opts *adapters.Options) (*conformance.Server, error) {
			srv, err := a.Start("127.0.0.1:0", accept, opts)
			if err != nil {
				return nil, err
			}
			s := &conformance.Server{URL: "ws://" + srv.Addr + "/", Shutdown: srv.Shutdown, Restart: srv.Restart}
			if !a.WebSocket() {
				s.Dial = conformance.LongPollDial("http://" + srv.Addr + "/") // the suite's long-poll client
			}
			return s, nil
		},
	}
}

// startFastHTTPDate starts the goroutine fasthttp runs, once per process
// and for its life, to keep the Date header current, so that the suite's
// leak check does not take it for one that outlived a connection.
func startFastHTTPDate() {
	var h fasthttp.ResponseHeader
	_ = h.Header()
}
