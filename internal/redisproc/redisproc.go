// Package redisproc runs a redis-server process on a free 127.0.0.1 port,
// with no persistence, in a directory of the caller's: what the Redis
// tests (through package redistest) and websock-bench's nodes workload
// need of a real Redis.
package redisproc

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// ErrNotInstalled is New's error when there is no redis-server program.
var ErrNotInstalled = errors.New("redis-server is not installed (Debian package redis-server)")

// Server is one redis-server, started and killed as often as the caller
// likes, always on the same port.
type Server struct {
	Port  int
	bin   string
	dir   string
	extra []string // more arguments for redis-server
	cmd   *exec.Cmd
	done  chan struct{}
}

// New picks a free loopback port for a redis-server that keeps its files
// in dir, with extra arguments for it; Start starts it.
func New(dir string, extra ...string) (*Server, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, ErrNotInstalled
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return &Server{Port: port, bin: bin, dir: dir, extra: extra}, nil
}

// Addr is the server's host:port.
func (s *Server) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port)) }

// URL is the server's redis:// URL.
func (s *Server) URL() string { return "redis://" + s.Addr() }

// Start starts the server, for the first time or after Kill, and waits
// until it answers.
func (s *Server) Start() error {
	if s.cmd != nil {
		return errors.New("redisproc: Start while the server runs; Kill it first")
	}
	args := append([]string{"--port", strconv.Itoa(s.Port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", s.dir, "--protected-mode", "no", "--loglevel", "warning"}, s.extra...)
	cmd := exec.Command(s.bin, args...)
	cmd.Dir = s.dir
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting redis-server: %w", err)
	}
	s.cmd, s.done = cmd, make(chan struct{})
	go func(done chan struct{}) { cmd.Wait(); close(done) }(s.done)
	for deadline := time.Now().Add(10 * time.Second); ; {
		_, err := s.Do("PING")
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			s.Kill()
			return fmt.Errorf("redis-server on port %d did not answer within 10s (is the port in use?): %w", s.Port, err)
		}
		select {
		case <-s.done:
			s.cmd = nil
			return fmt.Errorf("redis-server on port %d exited at start (is the port in use?)", s.Port)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// Kill kills the server at once (no shutdown, as a crash would) and waits
// for it to exit. Killing a killed server does nothing.
func (s *Server) Kill() {
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Kill()
	<-s.done
	s.cmd = nil
}

// Do sends one command and returns the first line of the answer or, for
// a bulk string, its body.
func (s *Server) Do(words ...string) (string, error) {
	c, err := net.DialTimeout("tcp", s.Addr(), time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(words))
	for _, w := range words {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(w), w)
	}
	if _, err := c.Write([]byte(b.String())); err != nil {
		return "", err
	}
	r := bufio.NewReader(c)
	line, err := r.ReadString('\n')
	if err != nil {
		return "", err
	}
	if !strings.HasPrefix(line, "$") {
		return strings.TrimRight(line, "\r\n"), nil
	}
	n, _ := strconv.Atoi(strings.TrimSpace(line[1:]))
	if n < 0 {
		return "", nil
	}
	body := make([]byte, n+2)
	if _, err := io.ReadFull(r, body); err != nil {
		return "", err
	}
	return string(body[:n]), nil
}
