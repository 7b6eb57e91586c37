// Package memconn is an in-memory network connection whose two
// directions are bounded buffers, as a socket's are. The reference
// adapter and package websocktest serve their connections over it.
package memconn

import (
	"bytes"
	"io"
	"net"
	"os"
	"sync"
	"time"
)

// net.Pipe would do, but its writes are synchronous: a write waits until the peer has read every
// byte. A server that answers a ping while its client is still sending
// fragments would then wait on a client that waits on it. So each
// direction here is a buffer of a bounded size, as a socket's is: writes
// return once their bytes are buffered, and block while the buffer is
// full, so that a peer that stops reading is noticed by the write
// deadline.

// pipeBuffer is how many bytes one direction holds before writes block.
const pipeBuffer = 256 << 10

// Pipe returns the two ends of an in-memory connection: what one end
// writes, the other reads.
func Pipe(clientAddr, serverAddr net.Addr) (client, server net.Conn) {
	up, down := newStream(), newStream()
	return &pipeConn{in: down, out: up, local: clientAddr, remote: serverAddr},
		&pipeConn{in: up, out: down, local: serverAddr, remote: clientAddr}
}

// Addr is the address of an end of an in-memory connection; its network
// is "memory".
type Addr string

func (a Addr) Network() string { return "memory" }
func (a Addr) String() string  { return string(a) }

// stream is one direction of a connection.
type stream struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{} // closed, and replaced, whenever the state changes
	eof     bool          // the writing end closed: reads drain buf, then io.EOF
	gone    bool          // the reading end closed: reads and writes fail
	readBy  time.Time     // the reading end's deadline
	writeBy time.Time     // the writing end's deadline
}

func newStream() *stream { return &stream{changed: make(chan struct{})} }

// update changes the stream's state under its lock and wakes every waiter.
func (s *stream) update(f func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f()
	s.signal()
}

// signal wakes every waiter; the caller holds the lock.
func (s *stream) signal() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// wait releases the lock held by the caller until the state changes or the
// deadline passes, then takes it again.
func (s *stream) wait(deadline time.Time) {
	changed := s.changed
	s.mu.Unlock()
	defer s.mu.Lock()
	if deadline.IsZero() {
		<-changed
		return
	}
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	select {
	case <-changed:
	case <-t.C:
	}
}

func passed(deadline time.Time) bool { return !deadline.IsZero() && !time.Now().Before(deadline) }

func (s *stream) read(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		switch {
		case s.gone:
			return 0, net.ErrClosed
		case s.buf.Len() > 0:
			n, _ := s.buf.Read(p)
			if s.buf.Len() == 0 && s.buf.Cap() > 64<<10 {
				s.buf = bytes.Buffer{} // drained: hold no big buffer, as a socket holds none
			}
			s.signal() // room for a blocked writer
			return n, nil
		case s.eof:
			return 0, io.EOF
		case passed(s.readBy):
			return 0, os.ErrDeadlineExceeded
		}
		s.wait(s.readBy)
	}
}

func (s *stream) write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for {
		switch {
		case s.eof:
			return n, net.ErrClosed
		case s.gone:
			return n, io.ErrClosedPipe
		case n == len(p):
			return n, nil
		case s.buf.Len() < pipeBuffer:
			m, _ := s.buf.Write(p[n:min(len(p), n+pipeBuffer-s.buf.Len())])
			n += m
			s.signal() // data for a blocked reader
			continue
		case passed(s.writeBy):
			return n, os.ErrDeadlineExceeded
		}
		s.wait(s.writeBy)
	}
}

// pipeConn is one end of an in-memory connection: a net.Conn.
type pipeConn struct {
	in, out       *stream
	local, remote net.Addr
}

func (c *pipeConn) Read(p []byte) (int, error)  { return c.in.read(p) }
func (c *pipeConn) Write(p []byte) (int, error) { return c.out.write(p) }
func (c *pipeConn) LocalAddr() net.Addr         { return c.local }
func (c *pipeConn) RemoteAddr() net.Addr        { return c.remote }

// Close ends both directions: the peer reads what was written before, then
// io.EOF; what the peer wrote and this end did not read is dropped.
func (c *pipeConn) Close() error {
	c.in.update(func() { c.in.gone = true; c.in.buf.Reset() })
	c.out.update(func() { c.out.eof = true })
	return nil
}

func (c *pipeConn) SetDeadline(t time.Time) error {
	c.SetReadDeadline(t)
	return c.SetWriteDeadline(t)
}

func (c *pipeConn) SetReadDeadline(t time.Time) error {
	c.in.update(func() { c.in.readBy = t })
	return nil
}

func (c *pipeConn) SetWriteDeadline(t time.Time) error {
	c.out.update(func() { c.out.writeBy = t })
	return nil
}
