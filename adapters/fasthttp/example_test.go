package fasthttp_test

import (
	"context"
	"log"

	fws "github.com/fasthttp/websocket"
	"github.com/valyala/fasthttp"

	"github.com/websock-go/websock/adapters"
	wsfasthttp "github.com/websock-go/websock/adapters/fasthttp"
	"github.com/websock-go/websock/websock"
)

// Serve an echo handler on a fasthttp server, then shut down: the
// Handler's Shutdown closes the WebSocket connections with 1001, the
// server's closes the listener.
func ExampleNew() {
	accept := func(r *websock.Request) (websock.Handler, error) {
		return websock.HandlerFunc(func(f websock.Frame) websock.Result { return websock.Push(f) }), nil
	}
	h, err := wsfasthttp.New(accept, &adapters.Options{Compression: true})
	if err != nil {
		log.Fatal(err)
	}
	srv := &fasthttp.Server{Handler: h.ServeFastHTTP}
	go func() {
		if err := srv.ListenAndServe("127.0.0.1:8080"); err != nil {
			log.Print(err)
		}
	}()

	// Later, to stop:
	ctx := context.Background()
	h.Shutdown(ctx)
	srv.ShutdownWithContext(ctx)
}

// Upgrade with a FastHTTPUpgrader of your own and run a websock Handler
// over the connection.
func ExampleHandler_ServeConn() {
	h, err := wsfasthttp.New(nil, nil)
	if err != nil {
		log.Fatal(err)
	}
	up := fws.FastHTTPUpgrader{}
	echo := websock.HandlerFunc(func(f websock.Frame) websock.Result { return websock.Push(f) })
	handler := func(ctx *fasthttp.RequestCtx) {
		req := wsfasthttp.NewRequest(ctx) // copied now: ctx is not valid in the upgrade callback
		err := up.Upgrade(ctx, func(ws *fws.Conn) {
			reason := h.ServeConn(ws, req, echo)
			log.Printf("connection from %s ended: %v", req.RemoteAddr, reason)
		})
		if err != nil {
			log.Print(err)
		}
	}
	_ = &fasthttp.Server{Handler: handler}
}

// A fasthttp.Server of your own logs, through ServerLogger, what fasthttp
// says about requests it cannot parse bounded and rate-limited, to the
// Handler's Options.Logger, as Serve's server does.
func ExampleHandler_ServerLogger() {
	accept := func(r *websock.Request) (websock.Handler, error) {
		return websock.HandlerFunc(func(f websock.Frame) websock.Result { return websock.Push(f) }), nil
	}
	h, err := wsfasthttp.New(accept, nil)
	if err != nil {
		log.Fatal(err)
	}
	srv := &fasthttp.Server{Handler: h.ServeFastHTTP, Logger: h.ServerLogger()}
	_ = srv // srv.ListenAndServe("127.0.0.1:8080"), as in the example of New
}
