//lint:file-ignore SA1019 net/http's own client refuses the :protocol pseudo-header of RFC 8441, which golang.org/x/net/http2's sends

package gobws_test

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"golang.org/x/net/http2"

	"github.com/websock-go/websock/adapters/gobws"
)

// BenchmarkEchoHTTP2 is BenchmarkEcho/plain over an HTTP/2 stream (RFC
// 8441, HTTP/2 without TLS): a 100-byte text message and its echo per
// iteration.
func BenchmarkEchoHTTP2(b *testing.B) {
	h, err := gobws.New(echo, nil)
	if err != nil {
		b.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: h, Protocols: new(http.Protocols)}
	srv.Protocols.SetUnencryptedHTTP2(true)
	go srv.Serve(ln)
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		h.Shutdown(ctx)
		srv.Shutdown(ctx)
	})
	nc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer nc.Close()
	cc, err := (&http2.Transport{AllowHTTP: true}).NewClientConn(nc)
	if err != nil {
		b.Fatal(err)
	}
	pr, pw := io.Pipe()
	defer pw.Close()
	req, _ := http.NewRequest(http.MethodConnect, "http://"+ln.Addr().String()+"/", pr)
	req.Header = http.Header{":protocol": {"websocket"}, "Sec-Websocket-Version": {"13"}}
	resp, err := cc.RoundTrip(req)
	if err != nil {
		b.Fatalf("extended CONNECT: %v (run with GODEBUG=http2xconnect=1; TestMain does)", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b.Fatalf("extended CONNECT answered %s", resp.Status)
	}

	payload := bytes.Repeat([]byte("echo me "), 13)[:100]
	var frame bytes.Buffer
	f := ws.Frame{Header: ws.Header{Fin: true, OpCode: ws.OpText, Length: int64(len(payload))}, Payload: payload}
	ws.WriteFrame(&frame, ws.MaskFrameWith(f, [4]byte{7, 7, 7, 7}))
	benchRoundTrips(b, pw, resp.Body, frame.Bytes())
}
