package main

import (
	"os"
	"strings"
	"testing"

	"github.com/websock-go/websock/cmd/internal/builtin"
)

// TestReadmeMatrixCurrent fails when README.md's capability matrix differs
// from what the adapters declare; regenerate it with
// `go run ./cmd/websock-conform -static` and paste it between the markers.
func TestReadmeMatrixCurrent(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	const begin, end = "<!-- matrix:begin -->\n", "<!-- matrix:end -->"
	s := string(readme)
	i, j := strings.Index(s, begin), strings.Index(s, end)
	if i < 0 || j < i {
		t.Fatalf("README.md lacks the %q ... %q markers around the capability matrix", begin, end)
	}
	got := s[i+len(begin) : j]
	want := matrix(builtin.All(), nil)
	if got != want {
		t.Errorf("README.md's capability matrix is out of date; run `go run ./cmd/websock-conform -static` and paste its output between the markers.\nwant:\n%s\ngot:\n%s", want, got)
	}
}
