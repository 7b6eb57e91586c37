package longpoll_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/websock-go/websock/adapters"
	"github.com/websock-go/websock/adapters/longpoll"
	"github.com/websock-go/websock/websock"
)

func echo(f websock.Frame) websock.Result { return websock.Push(f) }

// Serve an unchanged handler over long-polling, and speak the protocol
// with plain HTTP requests: open a session, send a message, poll for the
// echo. A browser does the same with websock.js (see ScriptHandler).
func ExampleNew() {
	h, err := longpoll.New(func(*websock.Request) (websock.Handler, error) {
		return websock.HandlerFunc(echo), nil
	}, &longpoll.Options{Options: adapters.Options{MaxMessageSize: 1 << 20}, PollTimeout: 10 * time.Second})
	if err != nil {
		fmt.Println(err)
		return
	}
	srv := httptest.NewServer(h)
	defer srv.Close()

	// Open: the answer is the session's token.
	resp, err := http.Post(srv.URL, "", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	token, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	do := func(method, ack string, body []byte) string {
		req, _ := http.NewRequest(method, srv.URL, bytes.NewReader(body))
		req.Header.Set(longpoll.HeaderSession, string(token))
		if ack != "" {
			req.Header.Set(longpoll.HeaderAck, ack)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return fmt.Sprintf("%s %q", resp.Status, b)
	}

	// Send a batch: the sequence number of its first message (1), then a
	// text message (type 1) of 2 bytes.
	fmt.Println("send:", do(http.MethodPost, "", []byte{1, 1, 2, 'h', 'i'}))
	// Poll, having received nothing (ack 0): the answer is a batch too.
	fmt.Println("poll:", do(http.MethodGet, "0", nil))

	// Shut down: the next poll gets close 1001 (type 8), and the client
	// answers it with its own (message 2 of its own).
	done := make(chan error)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		done <- h.Shutdown(ctx)
	}()
	fmt.Println("poll:", do(http.MethodGet, "1", nil))
	fmt.Println("send:", do(http.MethodPost, "", []byte{2, 8, 2, 0x03, 0xe9}))
	fmt.Println("shutdown:", <-done, "live:", h.Live())
	// Output:
	// send: 204 No Content ""
	// poll: 200 OK "\x01\x01\x02hi"
	// poll: 200 OK "\x02\b\x16\x03\xe9server shutting down"
	// send: 204 No Content ""
	// shutdown: <nil> live: 0
}

// Serve the browser client next to the long-poll endpoint; a page then
// uses WebSock as it would a WebSocket.
func ExampleScriptHandler() {
	mux := http.NewServeMux()
	mux.Handle("GET /websock.js", longpoll.ScriptHandler())
	srv := httptest.NewServer(mux)
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/websock.js")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	js, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.Header.Get("Content-Type"), strings.Contains(string(js), "class WebSock"))
	// Output:
	// text/javascript; charset=utf-8 true
}
