package pubsub_test

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/websock-go/websock/conformance/reference"
	"github.com/websock-go/websock/websock"
)

// server is the reference adapter's engine, reached in memory: the
// connections are real engine connections, with mailboxes and HandleInfo.
type server struct{ h *reference.Handler }

func newServer(tb testing.TB, accept websock.AcceptFunc, opts *reference.Options) *server {
	tb.Helper()
	h, err := reference.New(accept, opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := h.Shutdown(ctx); err != nil {
			tb.Errorf("shutdown: %v", err)
		}
	})
	return &server{h: h}
}

// client is the peer's end of one connection.
type client struct {
	nc net.Conn
	br *bufio.Reader
}

// dial opens a connection and completes the opening handshake.
func (s *server) dial(tb testing.TB) *client {
	tb.Helper()
	nc, err := s.h.Dial(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { nc.Close() })
	fmt.Fprint(nc, "GET /chat HTTP/1.1\r\nHost: example\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
	br := bufio.NewReader(nc)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		tb.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		tb.Fatalf("upgrade answered %s", resp.Status)
	}
	return &client{nc: nc, br: br}
}

// read returns the payload of the next data frame the server sent; the
// server sends each message as one unmasked frame.
func (c *client) read(tb testing.TB) string {
	tb.Helper()
	c.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	var h [2]byte
	if _, err := io.ReadFull(c.br, h[:]); err != nil {
		tb.Fatal(err)
	}
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		var b [2]byte
		io.ReadFull(c.br, b[:])
		n = uint64(binary.BigEndian.Uint16(b[:]))
	case 127:
		var b [8]byte
		io.ReadFull(c.br, b[:])
		n = binary.BigEndian.Uint64(b[:])
	}
	p := make([]byte, n)
	if _, err := io.ReadFull(c.br, p); err != nil {
		tb.Fatal(err)
	}
	if op := h[0] & 0x0f; op != 1 && op != 2 {
		tb.Fatalf("got opcode %d (payload %q), want a data frame", op, p)
	}
	return string(p)
}
