package websocktest

import (
	"bufio"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/websock-go/websock/adapters"
	"github.com/websock-go/websock/websock"
)

// transport is the engine's side of a connection: an adapters.Transport
// over a net.Conn, a server's (reading masked frames, writing unmasked
// ones) or, with client set, a client's.
type transport struct {
	nc     net.Conn
	br     *bufio.Reader
	client bool
	max    int64 // MaxMessageSize; 0 means none
	clock  adapters.Clock

	wmu  sync.Mutex // the engine never writes twice at once; Close may come at any time
	wbuf []byte
}

var _ adapters.Transport = (*transport)(nil)

func newTransport(nc net.Conn, br *bufio.Reader, client bool, o adapters.Options) *transport {
	if br == nil {
		br = bufio.NewReader(nc)
	}
	return &transport{nc: nc, br: br, client: client, max: o.MaxMessageSize, clock: o.Clock}
}

// Read reads frames until the connection ends, reassembling fragmented
// messages, with control frames between their fragments.
func (t *transport) Read(ev adapters.Events) error {
	var (
		op  websock.Opcode // the message being reassembled; 0 between messages
		msg []byte
	)
	for {
		f, err := readFrame(t.br, !t.client, t.max)
		if err != nil {
			return err
		}
		switch f.op {
		case websock.OpPing:
			ev.Ping(f.data)
			continue
		case websock.OpPong:
			ev.Control(websock.OpPong, f.data)
			continue
		case websock.OpClose:
			code, text, err := parseClose(f.data)
			switch {
			case err != nil:
				return err
			case code == websock.CloseNoStatus && len(f.data) > 0:
				return errProtocol("close code 1005, which may not be sent (RFC 6455 section 7.4.1)")
			}
			return &websock.CloseError{Code: code, Text: text}
		case opContinuation:
			if op == 0 {
				return errProtocol("a continuation frame with no message to continue")
			}
		default:
			if op != 0 {
				return errProtocol("a new message began inside a fragmented one")
			}
			op, msg = f.op, msg[:0]
		}
		msg = append(msg, f.data...)
		if t.max > 0 && int64(len(msg)) > t.max {
			return fmt.Errorf("%w: more than %d bytes", websock.ErrMessageTooBig, t.max)
		}
		if !f.fin {
			continue
		}
		if err := ev.Message(op, msg); err != nil {
			return err
		}
		op = 0
	}
}

// WriteFrame writes one whole frame.
func (t *transport) WriteFrame(op websock.Opcode, data []byte) error {
	return t.write(op, data)
}

// WriteClose writes a close frame.
func (t *transport) WriteClose(code websock.CloseCode, text string) error {
	return t.write(websock.OpClose, closePayload(code, text))
}

func (t *transport) write(op websock.Opcode, data []byte) error {
	t.wmu.Lock()
	defer t.wmu.Unlock()
	t.wbuf = appendFrame(t.wbuf[:0], op, true, data, t.client, maskKey)
	_, err := t.nc.Write(t.wbuf)
	return err
}

// SetWriteDeadline sets the deadline of the writes that follow. The
// engine reads its deadlines from the test's Clock, which stands still
// while the connection runs on the system clock: a write may take as long
// from now as the deadline is from the Clock's now.
func (t *transport) SetWriteDeadline(d time.Time) error {
	if d.IsZero() {
		return t.nc.SetWriteDeadline(d)
	}
	return t.nc.SetWriteDeadline(time.Now().Add(d.Sub(t.clock.Now())))
}

// Close closes the connection: a Read or write under way returns.
func (t *transport) Close() error { return t.nc.Close() }

// maskKey masks what a client writes. RFC 6455 asks a browser for a key
// a script cannot predict; a test has no such script.
var maskKey = [4]byte{0x37, 0xfa, 0x21, 0x3d}
