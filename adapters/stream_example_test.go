package adapters_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/websock-go/websock/adapters"
	"github.com/websock-go/websock/websock"
)

// An adapter whose library can run over any connection serves WebSockets
// over HTTP/2 (RFC 8441) by giving ServeHTTPStreams a StreamUpgradeFunc,
// which runs the library over the Stream. Here the request is made by
// hand, as net/http's HTTP/2 server hands over an extended CONNECT, and
// the library is memTransport, which ignores the stream.
func ExampleEngine_ServeHTTPStreams() {
	echo := func(*websock.Request) (websock.Handler, error) {
		return websock.HandlerFunc(func(f websock.Frame) websock.Result {
			return websock.Push(websock.TextString("echo: " + string(f.Data)))
		}), nil
	}
	e, err := adapters.NewEngine(adapters.Adapter{Name: "mem"}, echo, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	stream := func(s *adapters.Stream, u adapters.Upgrade) (adapters.Upgraded, error) {
		// A real library reads frames from s and writes them to it.
		return adapters.Upgraded{Transport: &memTransport{in: []string{"hello"}}}, nil
	}
	r := httptest.NewRequest(http.MethodConnect, "https://example.com/chat", nil)
	r.Proto, r.ProtoMajor, r.ProtoMinor = "HTTP/2.0", 2, 0
	r.Header.Set(":protocol", "websocket")
	r.Header.Set("Sec-WebSocket-Version", "13")
	w := httptest.NewRecorder()
	e.ServeHTTPStreams(w, r, nil, stream) // returns once the connection has ended
	fmt.Println("answered", w.Code)
	// Output:
	// wrote text "echo: hello"
	// answered 200
}
