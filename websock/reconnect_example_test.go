package websock_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"

	"github.com/websock-go/websock/adapters/gorilla"
	"github.com/websock-go/websock/websock"
)

// ticker is a feed client: it subscribes in Init, and reconnects when the
// connection is lost, keeping count of its connections across them (the
// same Handler value serves them all).
type ticker struct {
	connections int
	got         chan string
}

func (t *ticker) Init(websock.Conn) websock.Result {
	t.connections++
	return websock.Push(websock.Frame{Op: websock.OpText, Data: fmt.Appendf(nil, "subscribe #%d", t.connections)})
}

func (t *ticker) HandleIn(f websock.Frame) websock.Result {
	t.got <- string(f.Data)
	return websock.Result{}
}

func (t *ticker) HandleInfo(any) websock.Result { return websock.Result{} }
func (t *ticker) Terminate(websock.Reason)      {}

// HandleDisconnect reconnects at once after the first connection, with the
// default backoff (websock.Backoff) after a failed dial, and stops after
// the second connection.
func (t *ticker) HandleDisconnect(d websock.Disconnect) websock.Reconnect {
	switch {
	case t.connections >= 2:
		return websock.StopReconnecting
	case d.Dialed:
		return websock.Reconnect{Delay: -1}
	}
	return websock.Reconnect{}
}

func ExampleReconnector() {
	server, _ := gorilla.New(func(*websock.Request) (websock.Handler, error) {
		// Echo the subscription, then close: the client comes back.
		return websock.HandlerFunc(func(f websock.Frame) websock.Result {
			return websock.StopAfter(nil, 0, "", f)
		}), nil
	}, nil)
	srv := httptest.NewServer(server)
	defer srv.Close()
	defer server.Shutdown(context.Background())

	t := &ticker{got: make(chan string, 2)}
	c, err := gorilla.Dial(context.Background(), "ws"+strings.TrimPrefix(srv.URL, "http"), t, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(<-t.got)
	fmt.Println(<-t.got)
	fmt.Println(c.Wait().Code)
	// Output:
	// subscribe #1
	// subscribe #2
	// 1000 (normal closure)
}
