package main

import (
	"bufio"
	"bytes"
	"compress/flate"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// A minimal RFC 6455 client, written here so that the load generator
// shares no code with any library under test. It does just what the
// workloads need: the opening handshake, writing pre-masked binary frames,
// and reading whole messages (fragments reassembled, pongs ignored, a close
// frame reported as errServerClosed).

// Frame opcodes the client uses (RFC 6455, section 5.2).
const (
	opContinuation = 0x0
	opBinary       = 0x2
	opClose        = 0x8
	opPing         = 0x9
	opPong         = 0xA
)

// errServerClosed is returned by readMessage when the server sent a close
// frame.
var errServerClosed = errors.New("server sent a close frame")

// wsConn is one client connection. It is not safe for concurrent use,
// except that one goroutine may write while another reads.
type wsConn struct {
	nc  net.Conn
	br  *bufio.Reader
	buf []byte // reassembly buffer, reused between messages
	hdr [8]byte

	deflate    bool // permessage-deflate was negotiated
	compressed bool // the message last read had RSV1 set: it is compressed
}

// deflateOffer is the permessage-deflate offer of a client that asks for
// compression: no context takeover either way, so that the client can
// inflate any one message alone.
const deflateOffer = "permessage-deflate; server_no_context_takeover; client_no_context_takeover"

// handshakeGUID is the key suffix of RFC 6455, section 1.3.
const handshakeGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// dialWS connects to ws://addr/ and completes the opening handshake within
// timeout. bufSize is the size of the connection's read buffer.
func dialWS(addr string, timeout time.Duration, bufSize int) (*wsConn, error) {
	return dialWSWith(addr, nil, timeout, bufSize, false)
}

// dialWSWith is dialWS from the local address from (nil means any),
// offering permessage-deflate when deflate is set (the connection's
// deflate field says whether the server accepted).
func dialWSWith(addr string, from net.IP, timeout time.Duration, bufSize int, deflate bool) (*wsConn, error) {
	d := net.Dialer{Timeout: timeout}
	if from != nil {
		d.LocalAddr = &net.TCPAddr{IP: from}
	}
	nc, err := d.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	nc.SetDeadline(time.Now().Add(timeout))
	var raw [16]byte
	rand.Read(raw[:])
	key := base64.StdEncoding.EncodeToString(raw[:])
	req := "GET / HTTP/1.1\r\nHost: " + addr + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: " + key + "\r\nSec-WebSocket-Version: 13\r\n"
	if deflate {
		req += "Sec-WebSocket-Extensions: " + deflateOffer + "\r\n"
	}
	req += "\r\n"
	if _, err := io.WriteString(nc, req); err != nil {
		nc.Close()
		return nil, fmt.Errorf("writing the upgrade request: %w", err)
	}
	br := bufio.NewReaderSize(nc, bufSize)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("reading the upgrade response: %w", err)
	}
	sum := sha1.Sum([]byte(key + handshakeGUID))
	want := base64.StdEncoding.EncodeToString(sum[:])
	if resp.StatusCode != http.StatusSwitchingProtocols || resp.Header.Get("Sec-WebSocket-Accept") != want {
		nc.Close()
		return nil, fmt.Errorf("upgrade refused: %s (Sec-WebSocket-Accept %q, want %q)",
			resp.Status, resp.Header.Get("Sec-WebSocket-Accept"), want)
	}
	nc.SetDeadline(time.Time{})
	accepted := strings.HasPrefix(resp.Header.Get("Sec-WebSocket-Extensions"), "permessage-deflate")
	return &wsConn{nc: nc, br: br, deflate: deflate && accepted}, nil
}

// maskedFrame returns one complete, final, masked client frame of opcode op
// carrying payload, masked with a fresh random key. The workloads send the
// same payload again and again, so they build the frame once and write it
// each time: the server still unmasks every byte.
func maskedFrame(op byte, payload []byte) []byte {
	n := len(payload)
	f := make([]byte, 0, n+14)
	f = append(f, 0x80|op)
	switch {
	case n < 126:
		f = append(f, 0x80|byte(n))
	case n <= 0xFFFF:
		f = append(f, 0x80|126)
		f = binary.BigEndian.AppendUint16(f, uint16(n))
	default:
		f = append(f, 0x80|127)
		f = binary.BigEndian.AppendUint64(f, uint64(n))
	}
	var key [4]byte
	rand.Read(key[:])
	f = append(f, key[:]...)
	for i, b := range payload {
		f = append(f, b^key[i&3])
	}
	return f
}

// writeFrame writes a frame made by maskedFrame.
func (c *wsConn) writeFrame(frame []byte) error {
	_, err := c.nc.Write(frame)
	return err
}

// readMessage reads the next text or binary message, reassembling
// fragments, and returns its opcode and payload; the payload is valid until
// the next call. Messages larger than max bytes are an error.
func (c *wsConn) readMessage(max int) (op byte, data []byte, err error) {
	c.buf = c.buf[:0]
	for {
		h := c.hdr[:2]
		if _, err := io.ReadFull(c.br, h); err != nil {
			return 0, nil, err
		}
		fin, fop, rsv1 := h[0]&0x80 != 0, h[0]&0x0F, h[0]&0x40 != 0 // h is overwritten by a longer length
		if h[1]&0x80 != 0 {
			return 0, nil, errors.New("protocol error: the server masked a frame")
		}
		n := uint64(h[1] & 0x7F)
		switch n {
		case 126:
			if _, err := io.ReadFull(c.br, c.hdr[:2]); err != nil {
				return 0, nil, err
			}
			n = uint64(binary.BigEndian.Uint16(c.hdr[:2]))
		case 127:
			if _, err := io.ReadFull(c.br, c.hdr[:8]); err != nil {
				return 0, nil, err
			}
			n = binary.BigEndian.Uint64(c.hdr[:8])
		}
		if n > uint64(max-len(c.buf)) {
			return 0, nil, fmt.Errorf("message larger than %d bytes", max)
		}
		if fop >= opClose { // control frame, possibly between fragments
			var ctl [125]byte
			if n > 125 {
				return 0, nil, errors.New("protocol error: control frame longer than 125 bytes")
			}
			if _, err := io.ReadFull(c.br, ctl[:n]); err != nil {
				return 0, nil, err
			}
			if fop == opClose {
				return 0, nil, errServerClosed
			}
			continue // ping or pong: the workloads never ping, so no pong is owed
		}
		switch {
		case fop == opContinuation && op == 0:
			return 0, nil, errors.New("protocol error: continuation frame with no message to continue")
		case fop != opContinuation && op != 0:
			return 0, nil, errors.New("protocol error: new message before the last one ended")
		case fop != opContinuation:
			op = fop
			c.compressed = rsv1
			if c.compressed && !c.deflate {
				return 0, nil, errors.New("protocol error: RSV1 set without permessage-deflate")
			}
		}
		start := len(c.buf)
		c.buf = append(c.buf, make([]byte, n)...)[:start+int(n)]
		if _, err := io.ReadFull(c.br, c.buf[start:]); err != nil {
			return 0, nil, err
		}
		if fin {
			return op, c.buf, nil
		}
	}
}

// inflate returns the payload of a compressed message, inflated (RFC 7692
// section 7.2.2), of at most max bytes.
func inflate(p []byte, max int) ([]byte, error) {
	tail := []byte{0x00, 0x00, 0xff, 0xff, 0x01, 0x00, 0x00, 0xff, 0xff} // the flush, then an empty final block
	r := flate.NewReader(io.MultiReader(bytes.NewReader(p), bytes.NewReader(tail)))
	defer r.Close()
	out, err := io.ReadAll(io.LimitReader(r, int64(max)+1))
	if err == nil && len(out) > max {
		err = fmt.Errorf("inflated message larger than %d bytes", max)
	}
	return out, err
}

// Close closes the connection at once.
func (c *wsConn) Close() error { return c.nc.Close() }
