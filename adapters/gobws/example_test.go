package gobws_test

import (
	"context"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsflate"
	"github.com/gobwas/ws/wsutil"

	"github.com/websock-go/websock/adapters"
	"github.com/websock-go/websock/adapters/gobws"
	"github.com/websock-go/websock/websock"
)

// An echo server on net/http, with permessage-deflate offered.
func ExampleNew() {
	h, err := gobws.New(func(r *websock.Request) (websock.Handler, error) {
		return websock.HandlerFunc(func(f websock.Frame) websock.Result { return websock.Push(f) }), nil
	}, &adapters.Options{Compression: true})
	if err != nil {
		log.Fatal(err)
	}
	http.Handle("/echo", h)
	// Serve with http.ListenAndServe; on exit, call h.Shutdown as well as
	// the http.Server's Shutdown, which does not close WebSocket
	// connections.
}

// An echo server whose idle connections hold no goroutine and no buffer:
// each runs on readiness events from the poller (on Linux).
func ExampleNewNetpoll() {
	h, err := gobws.NewNetpoll(func(*websock.Request) (websock.Handler, error) {
		return websock.HandlerFunc(func(f websock.Frame) websock.Result { return websock.Push(f) }), nil
	}, &gobws.Options{IdleTimeout: 5 * time.Minute})
	if err != nil {
		log.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	defer h.Shutdown(context.Background())

	c, _, _, err := ws.Dial(context.Background(), "ws"+strings.TrimPrefix(srv.URL, "http"))
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	wsutil.WriteClientText(c, []byte("hello"))
	msg, _ := wsutil.ReadServerText(c)
	fmt.Println(string(msg))
	// Output: hello
}

// A server that upgrades with gobwas's zero-copy ws.Upgrader on a raw
// listener, without net/http, and runs each connection with ServeConn.
func ExampleHandler_ServeConn() {
	h, err := gobws.New(nil, nil)
	if err != nil {
		log.Fatal(err)
	} // ServeConn takes the handler itself
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				ext := wsflate.Extension{Parameters: wsflate.DefaultParameters}
				hs, err := ws.Upgrader{Negotiate: ext.Negotiate}.Upgrade(nc)
				if err != nil {
					nc.Close()
					return
				}
				echo := websock.HandlerFunc(func(f websock.Frame) websock.Result { return websock.Push(f) })
				reason := h.ServeConn(nc, nil, hs, nil, echo)
				log.Printf("connection ended: %v", reason)
			}()
		}
	}()
}

// A chat endpoint that browsers reach over HTTP/2 as well as HTTP/1.1:
// served over TLS, with Go's HTTP/2 server offering extended CONNECT
// (run the program with GODEBUG=http2xconnect=1 in its environment), a
// browser that already holds an HTTP/2 connection to the origin opens its
// WebSocket as a stream of it (RFC 8441). The pattern has no method: such
// a WebSocket is a CONNECT, not a GET.
func ExampleHandler_ServeHTTP_http2() {
	h, err := gobws.New(func(r *websock.Request) (websock.Handler, error) {
		return websock.HandlerFunc(func(f websock.Frame) websock.Result { return websock.Push(f) }), nil
	}, nil)
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/chat", h)
	srv := &http.Server{Addr: ":8443", Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	_ = srv // srv.ListenAndServeTLS(certFile, keyFile); on exit, h.Shutdown, then srv.Shutdown
}
