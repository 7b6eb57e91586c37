// Package redistest runs a real redis-server for tests: on a free
// 127.0.0.1 port, with no persistence, in a temporary directory, stopped
// when the test ends (see package redisproc). It needs the redis-server
// program (Debian package redis-server); without it the test is skipped,
// or fails when the CI environment variable is set.
package redistest

import (
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/websock-go/websock/internal/redisproc"
)

// Server is one redis-server process.
type Server struct {
	*redisproc.Server
	t testing.TB
}

// Start runs redis-server on a free loopback port until the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	p, err := redisproc.New(t.TempDir())
	if errors.Is(err, redisproc.ErrNotInstalled) {
		if os.Getenv("CI") != "" {
			t.Fatalf("redis-server is not installed (Debian package redis-server); CI must install it")
		}
		t.Skip("redis-server is not installed: install the Debian package redis-server to run this test")
	}
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{Server: p, t: t}
	s.Restart()
	t.Cleanup(s.Kill)
	return s
}

// Restart starts the server again on the same port, after Kill (or for
// the first time), and waits until it answers.
func (s *Server) Restart() {
	s.t.Helper()
	if err := s.Start(); err != nil {
		s.t.Fatal(err)
	}
}

// Do sends one command and returns the first line of the answer or, for
// a bulk string, its body; it fails the test when the server cannot be
// reached.
func (s *Server) Do(words ...string) string {
	s.t.Helper()
	out, err := s.Server.Do(words...)
	if err != nil {
		s.t.Fatal(err)
	}
	return out
}

// PublishCalls returns how many PUBLISH commands the server ran.
func (s *Server) PublishCalls() int {
	s.t.Helper()
	for _, line := range strings.Split(s.Do("INFO", "commandstats"), "\n") {
		if rest, ok := strings.CutPrefix(line, "cmdstat_publish:calls="); ok {
			n, _ := strconv.Atoi(rest[:strings.IndexByte(rest, ',')])
			return n
		}
	}
	return 0
}
