package reference

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/websock-go/websock/adapters"
	"github.com/websock-go/websock/internal/memconn"
)

// WebSockets over HTTP/2 (RFC 8441). A client that knows the server speaks
// HTTP/2 (prior knowledge) starts with the HTTP/2 preface, whose request
// line has the method PRI. Such a connection is served by net/http's
// HTTP/2 server, on an http.Server of its own, whose handler hands each
// extended CONNECT request to the engine; the engine answers it and runs
// the connection over its stream, with the same frame code as over
// HTTP/1.1. Go's server accepts extended CONNECT only with
// GODEBUG=http2xconnect=1 in the environment (see conformance.MainHTTP2).

// isHTTP2 reports whether br, the start of a connection, holds the HTTP/2
// preface's method.
func isHTTP2(br *bufio.Reader) bool {
	p, _ := br.Peek(len("PRI "))
	return string(p) == "PRI "
}

// serveHTTP2 serves nc, whose first bytes br holds, as an HTTP/2
// connection, until it ends or the Handler stops.
func (h *Handler) serveHTTP2(nc net.Conn, br *bufio.Reader) {
	nc.SetDeadline(time.Time{})
	ln := &oneConn{conn: &readerConn{Conn: nc, r: br}, closed: make(chan struct{})}
	srv := &http.Server{
		Handler:           http.HandlerFunc(h.serveStream),
		ReadHeaderTimeout: headerTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		Protocols:         new(http.Protocols),
		ConnState: func(_ net.Conn, s http.ConnState) {
			if s == http.StateClosed {
				ln.Close()
			}
		},
	}
	srv.Protocols.SetUnencryptedHTTP2(true)
	h.mu.Lock()
	if h.stopped {
		h.mu.Unlock()
		return
	}
	done := make(chan struct{})
	h.http2[srv] = done
	h.mu.Unlock()
	srv.Serve(ln)
	srv.Close() // the connection's goroutine is done, or closes now
	h.mu.Lock()
	delete(h.http2, srv)
	h.mu.Unlock()
	close(done)
}

// serveStream runs one request of an HTTP/2 connection through the
// engine: an extended CONNECT runs over its stream; anything else is
// refused as it is over HTTP/1.1.
func (h *Handler) serveStream(w http.ResponseWriter, r *http.Request) {
	h.e.ServeHTTPStreams(w, r, nil, h.upgradeStream)
}

// upgradeStream runs the adapter's frame code over an HTTP/2 stream, with
// permessage-deflate negotiated as over HTTP/1.1.
func (h *Handler) upgradeStream(s *adapters.Stream, u adapters.Upgrade) (adapters.Upgraded, error) {
	var d deflate
	if u.Compression {
		if d = negotiateDeflate(s.Request().Header.Values("Sec-WebSocket-Extensions")); d.on {
			s.Header().Set("Sec-WebSocket-Extensions", d.response)
		}
	}
	br := bufio.NewReader(s)
	t := newTransport(s, br, h.e.Options(), d, h.faults)
	if h.push {
		return adapters.Upgraded{Transport: newPushed(t, br, h.e.Options(), d), Compressed: d.on}, nil
	}
	return adapters.Upgraded{Transport: t.wrapped(), Compressed: d.on}, nil
}

// stopHTTP2 waits, once the engine has closed every WebSocket, for the
// clients to close their HTTP/2 connections, as an HTTP/1.1 client closes
// TCP after the closing handshake, and closes those left when ctx is done.
func (h *Handler) stopHTTP2(ctx context.Context) {
	h.mu.Lock()
	conns := make(map[*http.Server]chan struct{}, len(h.http2))
	for srv, done := range h.http2 {
		conns[srv] = done
	}
	h.mu.Unlock()
	for srv, done := range conns {
		select {
		case <-done:
		case <-ctx.Done():
			srv.Close()
		}
	}
}

// readerConn is a connection whose first bytes were read into r.
type readerConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *readerConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// oneConn is a listener that accepts one connection, then waits until it
// is closed.
type oneConn struct {
	mu     sync.Mutex
	conn   net.Conn // nil once accepted
	closed chan struct{}
	once   sync.Once
}

func (l *oneConn) Accept() (net.Conn, error) {
	l.mu.Lock()
	c := l.conn
	l.conn = nil
	l.mu.Unlock()
	if c != nil {
		return c, nil
	}
	<-l.closed
	return nil, net.ErrClosed
}

func (l *oneConn) Close() error {
	l.once.Do(func() { close(l.closed) })
	return nil
}

func (l *oneConn) Addr() net.Addr { return memconn.Addr("server:1") }
