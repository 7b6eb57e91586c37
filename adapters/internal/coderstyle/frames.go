package coderstyle

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"sync"

	"github.com/websock-go/websock/websock"
)

// errMaskedFrame fails a client connection whose server masked a frame,
// which the libraries' clients accept.
var errMaskedFrame = fmt.Errorf("%w: the server sent a masked frame (RFC 6455 section 5.1)", websock.ErrProtocol)

// serverFrames is the connection under a library's client: it follows the
// headers of the frames the server sends, fails the read on a masked one,
// and keeps the error that ended reading, so that the transport can tell a
// connection lost mid-message from a message that ended.
type serverFrames struct {
	net.Conn

	hdr  [10]byte
	n    int    // header bytes read
	left uint64 // payload bytes left in the frame

	mu  sync.Mutex
	err error
}

func (c *serverFrames) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	for b := p[:n]; len(b) > 0; {
		if c.left > 0 {
			k := min(c.left, uint64(len(b)))
			c.left, b = c.left-k, b[k:]
			continue
		}
		c.hdr[c.n], c.n, b = b[0], c.n+1, b[1:]
		if c.n < 2 {
			continue
		}
		if c.hdr[1]&0x80 != 0 {
			err = errMaskedFrame
			break
		}
		l, need := uint64(c.hdr[1]&0x7f), 2
		switch l {
		case 126:
			need = 4
		case 127:
			need = 10
		}
		if c.n < need {
			continue
		}
		switch l {
		case 126:
			l = uint64(binary.BigEndian.Uint16(c.hdr[2:]))
		case 127:
			l = binary.BigEndian.Uint64(c.hdr[2:])
		}
		c.left, c.n = l, 0
	}
	if err != nil {
		c.mu.Lock()
		if c.err == nil {
			c.err = err
		}
		c.mu.Unlock()
		if errors.Is(err, errMaskedFrame) {
			return 0, err
		}
	}
	return n, err
}

// readErr returns the error that ended reading, if reading ended.
func (c *serverFrames) readErr() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}
