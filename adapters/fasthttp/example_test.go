package fasthttp_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strconv"
	"time"

	fws "github.com/fasthttp/websocket"
	"github.com/valyala/fasthttp"

	"github.com/websock-go/websock/adapters"
	wsfasthttp "github.com/websock-go/websock/adapters/fasthttp"
	"github.com/websock-go/websock/adapters/wire"
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

// Route on one port: the WebSocket on /ws, other handlers on other paths.
// ServeFastHTTP upgrades every request it is given, so give it only the
// WebSocket's path; a request elsewhere never reaches the engine.
func ExampleHandler_ServeFastHTTP_routing() {
	accept := func(r *websock.Request) (websock.Handler, error) {
		return websock.HandlerFunc(func(f websock.Frame) websock.Result { return websock.Push(f) }), nil
	}
	h, err := wsfasthttp.New(accept, nil)
	if err != nil {
		log.Fatal(err)
	}
	router := func(ctx *fasthttp.RequestCtx) {
		switch string(ctx.Path()) {
		case "/ws":
			h.ServeFastHTTP(ctx)
		case "/health":
			ctx.SetBodyString("ok")
		default:
			ctx.Error("not found", fasthttp.StatusNotFound)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	// wire.Listener puts the wire under each connection through which the
	// adapter corrects what the library gets wrong (see the package doc).
	// A short MaxIdleWorkerDuration lets fasthttp's worker cleaner end
	// soon after Shutdown (it wakes every 10 s by default).
	srv := &fasthttp.Server{Handler: router, Logger: h.ServerLogger(), MaxIdleWorkerDuration: 100 * time.Millisecond}
	go srv.Serve(wire.Listener{Listener: ln})
	base := "127.0.0.1:" + strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)

	ws, _, err := fws.DefaultDialer.Dial("ws://"+base+"/ws", nil)
	if err != nil {
		log.Fatal(err)
	}
	ws.WriteMessage(fws.TextMessage, []byte("hello"))
	_, msg, _ := ws.ReadMessage()
	fmt.Printf("/ws echoed %q\n", msg)
	ws.Close()

	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	for _, path := range []string{"/health", "/not-ws?topic=BTC"} {
		resp, err := client.Get("http://" + base + path)
		if err != nil {
			log.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Printf("%s: %d %s\n", path, resp.StatusCode, body)
	}

	ctx := context.Background()
	h.Shutdown(ctx)
	srv.ShutdownWithContext(ctx)
	// Output:
	// /ws echoed "hello"
	// /health: 200 ok
	// /not-ws?topic=BTC: 404 not found
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
