package nhooyr_test

//lint:file-ignore SA1019 this adapter exists to serve nhooyr.io/websocket, deprecated in favour of its successor, which the coder adapter serves

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"nhooyr.io/websocket"

	"github.com/websock-go/websock/adapters"
	"github.com/websock-go/websock/adapters/nhooyr"
	"github.com/websock-go/websock/websock"
)

func echo(f websock.Frame) websock.Result { return websock.Push(f) }

// Serve a handler with options, then shut down gracefully: clients get
// close 1001 and every handler's Terminate runs before Shutdown returns.
func ExampleNew() {
	h, err := nhooyr.New(func(*websock.Request) (websock.Handler, error) {
		return websock.HandlerFunc(echo), nil
	}, &adapters.Options{MaxMessageSize: 1 << 20, IdleTimeout: time.Minute, Compression: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	srv := httptest.NewServer(h)
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, srv.URL, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer ws.CloseNow()
	ws.Write(ctx, websocket.MessageText, []byte("hi"))
	_, msg, _ := ws.Read(ctx)
	fmt.Println(string(msg))

	go ws.Read(ctx) // the client answers the server's close
	fmt.Println("shutdown:", h.Shutdown(ctx), "live:", h.Live())
	// Output:
	// hi
	// shutdown: <nil> live: 0
}

// Run a handler over a connection you accepted yourself.
func ExampleHandler_ServeConn() {
	h, err := nhooyr.New(nil, nil)
	if err != nil {
		fmt.Println(err)
		return
	} // no AcceptFunc: this handler only serves accepted conns
	done := make(chan websock.Reason, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		done <- h.ServeConn(ws, r, websock.HandlerFunc(echo))
	}))
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, srv.URL, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	ws.Write(ctx, websocket.MessageText, []byte("hello"))
	_, msg, _ := ws.Read(ctx)
	fmt.Println(string(msg))
	ws.Close(4000, "done")
	r := <-done
	fmt.Println(r.Kind, r.Code, r.Text)
	// Output:
	// hello
	// remote 4000 done
}
