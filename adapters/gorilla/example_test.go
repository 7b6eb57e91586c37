package gorilla_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/gorilla/websocket"

	"github.com/websock-go/websock/adapters"
	"github.com/websock-go/websock/adapters/gorilla"
	"github.com/websock-go/websock/websock"
)

func echo(f websock.Frame) websock.Result { return websock.Push(f) }

// Serve a handler with options, then shut down gracefully: clients get
// close 1001 and every handler's Terminate runs before Shutdown returns.
func ExampleNew() {
	h, err := gorilla.New(func(*websock.Request) (websock.Handler, error) {
		return websock.HandlerFunc(echo), nil
	}, &adapters.Options{MaxMessageSize: 1 << 20, IdleTimeout: time.Minute})
	if err != nil {
		fmt.Println(err)
		return
	}
	srv := httptest.NewServer(h)
	defer srv.Close()

	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer ws.Close()
	ws.WriteMessage(websocket.TextMessage, []byte("hi"))
	_, msg, _ := ws.ReadMessage()
	fmt.Println(string(msg))

	go ws.ReadMessage() // the client answers the server's close
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	fmt.Println("shutdown:", h.Shutdown(ctx), "live:", h.Live())
	// Output:
	// hi
	// shutdown: <nil> live: 0
}

// Run a handler over a connection you upgraded yourself.
func ExampleHandler_ServeConn() {
	h, err := gorilla.New(nil, nil)
	if err != nil {
		fmt.Println(err)
		return
	} // no AcceptFunc: this handler only serves upgraded conns
	up := websocket.Upgrader{}
	done := make(chan websock.Reason, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		done <- h.ServeConn(ws, r, websock.HandlerFunc(echo))
	}))
	defer srv.Close()

	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer ws.Close()
	ws.WriteMessage(websocket.TextMessage, []byte("hello"))
	_, msg, _ := ws.ReadMessage()
	fmt.Println(string(msg))
	ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(4000, "done"))
	r := <-done
	fmt.Println(r.Kind, r.Code, r.Text)
	// Output:
	// hello
	// remote 4000 done
}
