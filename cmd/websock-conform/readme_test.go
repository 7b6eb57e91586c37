package main

import (
	"os"
	"strings"
	"testing"

	"github.com/websock-go/websock/cmd/internal/builtin"
)

// TestDocsCurrent fails when the guides' table of adapters or capability
// matrix (docs/adapters.md) differs from what the adapters declare, or the
// cross matrix (docs/client.md) from what running every client adapter
// against every server adapter gives; regenerate them with the commands
// the failure names and paste each between its markers.
func TestDocsCurrent(t *testing.T) {
	cross, failed := crossMatrix(builtin.WebSockets(), builtin.Clients())
	for _, f := range failed {
		t.Errorf("cross matrix: %s", f)
	}
	for _, r := range []struct{ file, name, cmd, want string }{
		{"docs/client.md", "cross", "go run ./cmd/websock-conform -cross", cross},
		{"docs/adapters.md", "adapters", "go run ./cmd/websock-conform -table", adapterTable(builtin.All())},
		{"docs/adapters.md", "matrix", "go run ./cmd/websock-conform -static", matrix(builtin.All(), nil)},
	} {
		doc, err := os.ReadFile("../../" + r.file)
		if err != nil {
			t.Fatal(err)
		}
		begin, end := "<!-- "+r.name+":begin -->\n", "<!-- "+r.name+":end -->"
		s := string(doc)
		i, j := strings.Index(s, begin), strings.Index(s, end)
		if i < 0 || j < i {
			t.Fatalf("%s lacks the %q ... %q markers", r.file, begin, end)
		}
		if got := s[i+len(begin) : j]; got != r.want {
			t.Errorf("%s's %s table is out of date; run `%s` and paste its output between the markers.\nwant:\n%s\ngot:\n%s", r.file, r.name, r.cmd, r.want, got)
		}
	}
}
