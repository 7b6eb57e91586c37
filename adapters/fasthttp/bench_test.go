package fasthttp_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/websock-go/websock/adapters"
	wsfasthttp "github.com/websock-go/websock/adapters/fasthttp"
	"github.com/websock-go/websock/websock"
)

// BenchmarkEcho measures one echoed 64-byte binary message, server and a
// raw client that allocates nothing per message; -benchmem shows the
// adapter's allocations per message.
func BenchmarkEcho(b *testing.B) {
	h, err := wsfasthttp.New(func(*websock.Request) (websock.Handler, error) {
		return websock.HandlerFunc(func(f websock.Frame) websock.Result { return websock.Push(f) }), nil
	}, &adapters.Options{Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	url := serve(b, h.ServeFastHTTP, h.Shutdown)
	nc, err := net.Dial("tcp", strings.TrimPrefix(url, "ws://"))
	if err != nil {
		b.Fatal(err)
	}
	defer nc.Close()
	fmt.Fprintf(nc, "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
	br := bufio.NewReader(nc)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		b.Fatalf("handshake: %v %v", resp, err)
	}
	const n = 64
	frame := append([]byte{0x82, 0x80 | n, 0, 0, 0, 0}, make([]byte, n)...) // masked with a zero key
	reply := make([]byte, 2+n)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := nc.Write(frame); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(br, reply); err != nil {
			b.Fatal(err)
		}
	}
}
