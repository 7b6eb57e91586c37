package gobws

import (
	"errors"
	"io"
	"net"
	"sync"
	"syscall"
	"time"
)

// readBufferSize is the size of the pooled buffer a connection reads
// frames through: one read brings a frame header and up to this much of
// what follows.
const readBufferSize = 4 << 10

var readBufPool = sync.Pool{New: func() any { return new([readBufferSize]byte) }}

// errAgain is what a read that must not block returns when nothing has
// arrived.
var errAgain = errors.New("gobws: nothing to read yet")

// reader is what a connection reads frames through: the bytes read ahead
// of it (past the handshake), then the connection, through a buffer taken
// from a pool only once bytes have arrived and given back once they are
// used, so that an idle connection holds none.
//
// Where the connection has a file descriptor (a TCP or Unix connection on
// a Unix system), a reader waiting for the next frame reads through
// syscall.RawConn.Read: the runtime's poller parks the goroutine until the
// connection is readable, and the buffer is taken from the pool just
// before the read, so that one read brings the frame header and its
// payload. Elsewhere it waits by reading a few bytes into a small array of
// its own, and reads the rest through the buffer.
type reader struct {
	nc  net.Conn
	rc  syscall.RawConn // nil when nc has no file descriptor to read directly
	pre []byte          // bytes read ahead of nc, read first

	buf  *[readBufferSize]byte // pooled; nil while idle
	r, w int                   // buf[r:w] is not read yet
	err  error                 // the error of the read that filled buf, returned once buf[r:w] is read

	// What rc.Read's callback reads and reports. fill is made once, so
	// that waiting allocates nothing.
	fill  func(fd uintptr) bool
	block bool // fill waits for readiness instead of reporting errAgain
	n     int
	ferr  error

	first [32]byte // the portable wait reads into it

	// stall, when set, bounds each wait for the rest of what has started
	// arriving, from the first such wait until unstall; deadline says the
	// connection's read deadline is set.
	stall    time.Duration
	deadline uint8 // which read deadline is set: noDeadline or stallDeadline

	// drained says the last read from the connection came back short:
	// it had nothing more at the time.
	drained bool
}

func newReader(nc net.Conn, pre []byte) reader {
	return reader{nc: nc, pre: pre}
}

// init sets up the direct reads; r must not move afterwards.
func (b *reader) init() {
	if !rawReads {
		return
	}
	sc, ok := b.nc.(syscall.Conn)
	if !ok {
		return
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return
	}
	b.rc = rc
	b.fill = b.fillFD
}

// Buffered returns how many bytes can be read without reading from the
// connection.
func (b *reader) Buffered() int { return b.w - b.r + len(b.pre) }

// Read reads from the buffer, or from the connection when it is empty. It
// reads into the buffer only when it holds one: a read for more than the
// buffer holds goes straight into p.
func (b *reader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if b.r == b.w {
		if err := b.err; err != nil {
			b.err = nil
			return 0, err
		}
		if len(b.pre) > 0 {
			n := copy(p, b.pre)
			b.pre = b.pre[n:]
			return n, nil
		}
		b.blocking()
		if b.buf == nil || len(p) >= len(b.buf) {
			n, err := b.nc.Read(p)
			b.drained = n < len(p)
			return n, err
		}
		n, err := b.nc.Read(b.buf[:])
		b.drained = n < len(b.buf)
		if n <= 0 {
			return 0, err
		}
		b.r, b.w, b.err = 0, n, err
	}
	n := copy(p, b.buf[b.r:b.w])
	b.r += n
	return n, nil
}

// wait blocks until bytes have arrived, and leaves them buffered.
func (b *reader) wait() error {
	if ok, err := b.pending(); ok {
		return err
	}
	b.blocking()
	if b.rc != nil {
		b.block = true
		return b.readFD()
	}
	n, err := b.nc.Read(b.first[:])
	if n <= 0 {
		if err == nil {
			err = errNoProgress
		}
		return err
	}
	b.take()
	b.r, b.w, b.err = 0, copy(b.buf[:], b.first[:n]), err
	return nil
}

// poll reads what has arrived without waiting for more, and leaves it
// buffered; it returns errAgain when nothing has. The connection must have
// a file descriptor (see canPoll).
func (b *reader) poll() error {
	if ok, err := b.pending(); ok {
		return err
	}
	b.block = false
	return b.readFD()
}

// pending reports whether there is something to read without reading
// from the connection: bytes, for which it takes a buffer, or the error
// of the read that filled it, which it returns.
func (b *reader) pending() (bool, error) {
	if b.Buffered() > 0 {
		b.take()
		return true, nil
	}
	if err := b.err; err != nil {
		b.err = nil
		return true, err
	}
	return false, nil
}

// The read deadlines a reader sets.
const (
	noDeadline uint8 = iota
	stallDeadline
)

// blocking sets the read deadline of a stall, before a read that may
// wait.
func (b *reader) blocking() {
	if b.stall > 0 && b.deadline != stallDeadline {
		b.deadline = stallDeadline
		b.nc.SetReadDeadline(time.Now().Add(b.stall))
	}
}

// unstall clears the read deadline blocking set.
func (b *reader) unstall() {
	if b.deadline != noDeadline {
		b.deadline = noDeadline
		b.nc.SetReadDeadline(time.Time{})
	}
}

// waitFD waits, with no deadline of its own, until bytes have arrived,
// taking the buffer only once they have, and leaves them buffered. The
// connection must have a file descriptor (see canPoll).
func (b *reader) waitFD() error {
	b.unstall()
	b.block = true
	return b.readFD()
}

// canPoll reports whether poll may be used.
func (b *reader) canPoll() bool { return b.rc != nil }

// readFD reads into the buffer through rc, taking the buffer from the pool
// only when there is something to read.
func (b *reader) readFD() error {
	b.n, b.ferr = 0, nil
	if err := b.rc.Read(b.fill); err != nil {
		b.release()
		return err
	}
	if b.n <= 0 {
		b.release()
		return b.ferr
	}
	b.r, b.w = 0, b.n
	return nil
}

// fillFD is rc.Read's callback: it reads what the descriptor has into the
// buffer, and when it has nothing, gives the buffer back and either waits
// (block) or stops with errAgain.
func (b *reader) fillFD(fd uintptr) bool {
	b.take()
	b.n, b.ferr = readFD(fd, b.buf[:])
	b.drained = b.n < len(b.buf)
	if b.ferr == errAgain {
		b.release()
		return !b.block
	}
	return true
}

// take takes a buffer from the pool unless it holds one.
func (b *reader) take() {
	if b.buf == nil {
		b.buf = readBufPool.Get().(*[readBufferSize]byte)
		b.r, b.w = 0, 0
	}
}

// idle gives the buffer back when nothing in it is left to read.
func (b *reader) idle() {
	if b.buf != nil && b.r == b.w {
		b.release()
	}
}

// release gives the buffer back, with whatever it holds.
func (b *reader) release() {
	if b.buf != nil {
		readBufPool.Put(b.buf)
		b.buf = nil
	}
	b.r, b.w = 0, 0
}

var _ io.Reader = (*reader)(nil)
