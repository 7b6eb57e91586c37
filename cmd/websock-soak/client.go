package main

import (
	"bufio"
	"bytes"
	"compress/flate"
	"crypto/rand"
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

// The soak's client: just enough RFC 6455 to behave well or badly on
// purpose. It shares no code with the libraries under test.

const (
	opCont   = 0x0
	opText   = 0x1
	opBinary = 0x2
	opClose  = 0x8
	opPing   = 0x9
	opPong   = 0xA
)

type wsClient struct {
	nc      *net.TCPConn
	br      *bufio.Reader
	deflate bool // permessage-deflate was agreed
}

// errClosed carries the close code the server sent.
type errClosed struct{ code int }

func (e errClosed) Error() string { return fmt.Sprintf("server closed with %d", e.code) }

// dial opens a WebSocket connection to addr, offering permessage-deflate
// when deflate is set.
func dial(addr string, deflate bool, timeout time.Duration) (*wsClient, error) {
	c, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return nil, err
	}
	nc := c.(*net.TCPConn)
	nc.SetDeadline(time.Now().Add(timeout))
	var key [16]byte
	rand.Read(key[:])
	req := "GET / HTTP/1.1\r\nHost: " + addr + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: " + base64.StdEncoding.EncodeToString(key[:]) + "\r\nSec-WebSocket-Version: 13\r\n"
	if deflate {
		req += "Sec-WebSocket-Extensions: permessage-deflate; client_no_context_takeover; server_no_context_takeover\r\n"
	}
	if _, err := io.WriteString(nc, req+"\r\n"); err != nil {
		nc.Close()
		return nil, err
	}
	br := bufio.NewReaderSize(nc, 4<<10)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		nc.Close()
		return nil, err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSwitchingProtocols {
		nc.Close()
		return nil, fmt.Errorf("upgrade answered %s", resp.Status)
	}
	nc.SetDeadline(time.Time{})
	agreed := strings.Contains(resp.Header.Get("Sec-WebSocket-Extensions"), "permessage-deflate")
	return &wsClient{nc: nc, br: br, deflate: agreed}, nil
}

// frame returns a masked client frame; b0 is its first byte.
func frame(b0 byte, payload []byte) []byte {
	n := len(payload)
	f := make([]byte, 0, n+14)
	f = append(f, b0)
	switch {
	case n < 126:
		f = append(f, 0x80|byte(n))
	case n <= 0xFFFF:
		f = binary.BigEndian.AppendUint16(append(f, 0x80|126), uint16(n))
	default:
		f = binary.BigEndian.AppendUint64(append(f, 0x80|127), uint64(n))
	}
	var key [4]byte
	rand.Read(key[:])
	f = append(f, key[:]...)
	for i, b := range payload {
		f = append(f, b^key[i&3])
	}
	return f
}

func (c *wsClient) write(b []byte) error {
	c.nc.SetWriteDeadline(time.Now().Add(10 * time.Second))
	_, err := c.nc.Write(b)
	return err
}

func (c *wsClient) send(op byte, p []byte) error { return c.write(frame(0x80|op, p)) }

// read returns the next data message's payload, answering pings; a close
// frame from the server is answered and returned as errClosed.
func (c *wsClient) read(timeout time.Duration) ([]byte, error) {
	c.nc.SetReadDeadline(time.Now().Add(timeout))
	var msg []byte
	for {
		var h [2]byte
		if _, err := io.ReadFull(c.br, h[:]); err != nil {
			return nil, err
		}
		n := uint64(h[1] & 0x7F)
		switch n {
		case 126:
			var b [2]byte
			if _, err := io.ReadFull(c.br, b[:]); err != nil {
				return nil, err
			}
			n = uint64(binary.BigEndian.Uint16(b[:]))
		case 127:
			var b [8]byte
			if _, err := io.ReadFull(c.br, b[:]); err != nil {
				return nil, err
			}
			n = binary.BigEndian.Uint64(b[:])
		}
		if n > 1<<20 {
			return nil, fmt.Errorf("a frame of %d bytes from the server", n)
		}
		p := make([]byte, n)
		if _, err := io.ReadFull(c.br, p); err != nil {
			return nil, err
		}
		switch op := h[0] & 0x0F; op {
		case opPing:
			if err := c.send(opPong, p); err != nil {
				return nil, err
			}
		case opPong:
		case opClose:
			code := 1005
			if len(p) >= 2 {
				code = int(binary.BigEndian.Uint16(p))
			}
			c.send(opClose, p[:min(len(p), 2)]) // the closing handshake; the server may be gone
			return nil, errClosed{code}
		default:
			msg = append(msg, p...)
			if h[0]&0x80 != 0 {
				return msg, nil
			}
		}
	}
}

// closeCode reads until the server closes, and returns its close code, or
// 1006 when the connection ended without a close frame.
func (c *wsClient) closeCode(timeout time.Duration) int {
	for {
		_, err := c.read(timeout)
		var ce errClosed
		if errors.As(err, &ce) {
			return ce.code
		}
		if err != nil {
			return 1006
		}
	}
}

// reset closes the connection with a TCP reset.
func (c *wsClient) reset() {
	c.nc.SetLinger(0)
	c.nc.Close()
}

// bomb returns a compressed message payload (RFC 7692: the deflate
// stream without its 0x00 0x00 0xff 0xff tail) that inflates to n zeros.
func bomb(n int) []byte {
	var buf bytes.Buffer
	w, _ := flate.NewWriter(&buf, flate.BestCompression)
	w.Write(make([]byte, n))
	w.Flush()
	return bytes.TrimSuffix(buf.Bytes(), []byte{0, 0, 0xff, 0xff})
}
