package peerlog

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

func TestBound(t *testing.T) {
	for _, tc := range []struct {
		in   string
		max  int
		want string
	}{
		{"hello", 10, "hello"},
		{"a\r\nb\x00\xff", 32, `a\x0d\x0ab\x00\xff`},
		{"a\r\nb\x00\xff", 10, `a\x0d\x0ab... (2 more bytes)`},
		{strings.Repeat("x", 300), 10, strings.Repeat("x", 10) + "... (290 more bytes)"},
		{"héllo", 10, "héllo"},
	} {
		if got := Bound(tc.in, tc.max); got != tc.want {
			t.Errorf("Bound(%q, %d) = %q; want %q", tc.in, tc.max, got, tc.want)
		}
	}
}

// TestRateLimit checks that a flood of lines, each quoting 7 KB a peer
// sent, logs Burst lines at once, each bounded, and counts the rest in
// the next line that goes out.
func TestRateLimit(t *testing.T) {
	var buf bytes.Buffer
	p := New(slog.New(slog.NewTextHandler(&buf, nil)), "test")
	hostile := strings.Repeat("\x16\x03\x01GET /", 1000)
	for range 1000 {
		p.Printf("error when serving connection: cannot parse %q", hostile)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) > Burst+1 { // one more if a second passed during the loop
		t.Errorf("1000 lines at once logged %d; want at most %d", len(lines), Burst+1)
	}
	for _, l := range lines {
		if len(l) > 2*MaxLine {
			t.Errorf("a line of %d bytes; want under %d: %.100q", len(l), 2*MaxLine, l)
		}
	}
	p.tokens = 1 // as after a quiet second
	p.Printf("after")
	last := buf.String()[strings.LastIndex(strings.TrimSpace(buf.String()), "\n")+1:]
	if !strings.Contains(last, "suppressed=") || !strings.Contains(last, "after") {
		t.Errorf("the line after a flood is %q; want it to count the lines left out", last)
	}
}
