package main

import (
	"os"
	"strings"
	"testing"

	"github.com/websock-go/websock/cmd/internal/builtin"
)

// TestReadmeCurrent fails when README.md's table of adapters or capability
// matrix differs from what the adapters declare, or its cross matrix from
// what running every client adapter against every server adapter gives; regenerate them with the
// commands the failure names and paste each between its markers.
func TestReadmeCurrent(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	cross, failed := crossMatrix(builtin.WebSockets(), builtin.Clients())
	for _, f := range failed {
		t.Errorf("cross matrix: %s", f)
	}
	for _, r := range []struct{ name, cmd, want string }{
		{"cross", "go run ./cmd/websock-conform -cross", cross},
		{"adapters", "go run ./cmd/websock-conform -table", adapterTable(builtin.All())},
		{"matrix", "go run ./cmd/websock-conform -static", matrix(builtin.All(), nil)},
	} {
		begin, end := "<!-- "+r.name+":begin -->\n", "<!-- "+r.name+":end -->"
		s := string(readme)
		i, j := strings.Index(s, begin), strings.Index(s, end)
		if i < 0 || j < i {
			t.Fatalf("README.md lacks the %q ... %q markers", begin, end)
		}
		if got := s[i+len(begin) : j]; got != r.want {
			t.Errorf("README.md's %s table is out of date; run `%s` and paste its output between the markers.\nwant:\n%s\ngot:\n%s", r.name, r.cmd, r.want, got)
		}
	}
}
