package main

import (
	"bytes"
	"context"
	"io"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/websock-go/websock/adapters/gorilla"
	"github.com/websock-go/websock/cmd/internal/builtin"
	"github.com/websock-go/websock/websock"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// syncBuffer is an io.Writer whose contents can be awaited.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
	ch chan struct{}
}

func newSyncBuffer() *syncBuffer { return &syncBuffer{ch: make(chan struct{}, 1)} }

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case s.ch <- struct{}{}:
	default:
	}
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// await waits until the buffer contains want.
func (s *syncBuffer) await(t *testing.T, want string) {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for !strings.Contains(s.String(), want) {
		select {
		case <-s.ch:
		case <-deadline:
			t.Fatalf("output %q never contained %q", s.String(), want)
		}
	}
}

// echoServer serves an echo handler that closes with 4000 on "quit".
func echoServer(t *testing.T) (url string, shutdown func()) {
	h, err := gorilla.New(func(*websock.Request) (websock.Handler, error) {
		return websock.HandlerFunc(func(f websock.Frame) websock.Result {
			if string(f.Data) == "quit" {
				return websock.StopCode(nil, 4000, "asked to quit")
			}
			return websock.Push(f)
		}), nil
	}, &gorilla.Options{Compression: true})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	return "ws" + strings.TrimPrefix(srv.URL, "http"), func() {
		h.Shutdown(context.Background())
		srv.Close()
	}
}

func TestInteractive(t *testing.T) {
	url, shutdown := echoServer(t)
	defer shutdown()
	for _, c := range builtin.Clients() {
		t.Run(c.Name, func(t *testing.T) {
			stdin, w := io.Pipe()
			stdout, stderr := newSyncBuffer(), newSyncBuffer()
			done := make(chan int, 1)
			go func() {
				done <- run(context.Background(), []string{"-adapter", c.Name, "-compress", "-header", "X-Test: 1", url}, stdin, stdout, stderr)
			}()
			io.WriteString(w, "hello\n")
			stdout.await(t, "hello\n")
			io.WriteString(w, "héllo again\n")
			stdout.await(t, "héllo again\n")
			w.Close() // stdin ends: close 1000, exit 0
			if code := <-done; code != exitOK {
				t.Errorf("exit status %d, want %d; stderr: %s", code, exitOK, stderr)
			}
			if !strings.Contains(stderr.String(), "compressed true") {
				t.Errorf("stderr %q does not report a compressed connection", stderr)
			}
		})
	}
}

func TestServerCloseCode(t *testing.T) {
	url, shutdown := echoServer(t)
	defer shutdown()
	stdin, w := io.Pipe()
	defer w.Close()
	stderr := newSyncBuffer()
	done := make(chan int, 1)
	go func() {
		done <- run(context.Background(), []string{"-reconnect=false", url}, stdin, io.Discard, stderr)
	}()
	io.WriteString(w, "quit\n")
	if code := <-done; code != exitRemote {
		t.Errorf("exit status %d, want %d; stderr: %s", code, exitRemote, stderr)
	}
	if !strings.Contains(stderr.String(), "4000 asked to quit") {
		t.Errorf("stderr %q does not give the close code and reason", stderr)
	}
}

func TestReconnects(t *testing.T) {
	url, shutdown := echoServer(t)
	stdin, w := io.Pipe()
	stdout, stderr := newSyncBuffer(), newSyncBuffer()
	done := make(chan int, 1)
	go func() { done <- run(context.Background(), []string{url}, stdin, stdout, stderr) }()
	io.WriteString(w, "one\n")
	stdout.await(t, "one\n")
	shutdown() // close 1001: the client reconnects, and fails to, until stdin ends
	stderr.await(t, "reconnecting")
	w.Close()
	if code := <-done; code != exitOK {
		t.Errorf("exit status %d, want %d after stdin ended; stderr: %s", code, exitOK, stderr)
	}
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{{}, {"-adapter", "nope", "ws://127.0.0.1:1/"}, {"-header", "bad", "ws://127.0.0.1:1/"}} {
		if code := run(context.Background(), args, strings.NewReader(""), io.Discard, io.Discard); code != exitUsage {
			t.Errorf("run(%q) = %d, want %d", args, code, exitUsage)
		}
	}
}

// Given several URLs, the client fails over: at the start, past one that
// does not answer, and when the node it is on goes away.
func TestFailover(t *testing.T) {
	url1, shutdown1 := echoServer(t)
	url2, shutdown2 := echoServer(t)
	defer shutdown2()
	dead, shutdownDead := echoServer(t)
	shutdownDead() // nothing listens there any more
	stdin, w := io.Pipe()
	stdout, stderr := newSyncBuffer(), newSyncBuffer()
	done := make(chan int, 1)
	go func() { done <- run(context.Background(), []string{dead, url1, url2}, stdin, stdout, stderr) }()
	io.WriteString(w, "one\n")
	stdout.await(t, "one\n")
	stderr.await(t, "connected to "+url1)
	shutdown1() // close 1001: on to url2 at once
	stderr.await(t, "reconnecting to "+url2)
	io.WriteString(w, "two\n")
	stdout.await(t, "two\n")
	stderr.await(t, "connected to "+url2)
	w.Close()
	if code := <-done; code != exitOK {
		t.Errorf("exit status %d, want %d after stdin ended; stderr: %s", code, exitOK, stderr)
	}
}
