package gobws_test

import (
	"log"
	"net"
	"net/http"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsflate"

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
