// Command websock-conform prints the adapter × feature matrix of the
// built-in adapters as Markdown:
//
//	go run ./cmd/websock-conform          # runs the conformance suite on every adapter
//	go run ./cmd/websock-conform -static  # from the adapters' declarations only
//	go run ./cmd/websock-conform -table   # the table of adapters, from their declarations
//
// By default it runs each adapter's conformance test (go test -json, so
// the Go toolchain must be on PATH) and marks a feature failing when any
// of its cases failed. With -static it prints what the adapters declare,
// without running anything: that is the copy kept in README.md, and a test
// checks that copy is current (the suite itself runs in CI, so a declared
// feature that fails turns CI red).
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"

	"github.com/websock-go/websock/adapters"
	"github.com/websock-go/websock/cmd/internal/builtin"
	"github.com/websock-go/websock/conformance"
)

func main() {
	static := flag.Bool("static", false, "print the matrix from the adapters' declarations, without running the suite")
	table := flag.Bool("table", false, "print the table of adapters (package, library, server, what the library lacks) from their declarations")
	flag.Parse()
	if *table {
		io.WriteString(os.Stdout, adapterTable(builtin.All()))
		return
	}
	var results map[string]map[string]string
	if !*static {
		var err error
		if results, err = runSuites(); err != nil {
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
		fmt.Fprintf(&b, "| `%s` | `adapters/%s` | %s | %s | %s |\n", a.Name, a.Name, a.Library, a.Server, lacked)
	}
	return b.String()
}

// runSuites runs every adapter's conformance test and returns each case's
// outcome.
func runSuites() (map[string]map[string]string, error) {
	out := map[string]map[string]string{}
	for _, a := range builtin.All() {
		cmd := exec.Command("go", "test", "-json", "-count=1", "-run", "^TestConformance$", "./adapters/"+a.Name+"/")
		cmd.Stderr = os.Stderr
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			return nil, err
		}
		if err := cmd.Start(); err != nil {
			return nil, fmt.Errorf("running go test (is the Go toolchain on PATH?): %w", err)
		}
		byCase := map[string]string{}
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var ev struct{ Action, Test string }
			if json.Unmarshal(sc.Bytes(), &ev) != nil {
				continue
			}
			name, ok := strings.CutPrefix(ev.Test, "TestConformance/")
			if !ok || strings.Contains(name, "/") {
				continue
			}
			if ev.Action == "pass" || ev.Action == "fail" || ev.Action == "skip" {
				byCase[name] = ev.Action
			}
		}
		cmd.Wait() // a failing suite exits non-zero; its cases say which
		if len(byCase) == 0 {
			return nil, fmt.Errorf("adapter %s: no conformance results from ./adapters/%s", a.Name, a.Name)
		}
		fmt.Fprintf(os.Stderr, "websock-conform: %s: %d cases run\n", a.Name, len(byCase))
		out[a.Name] = byCase
	}
	return out, nil
}
