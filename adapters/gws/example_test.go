package gws_test

import (
	"context"
	"fmt"
	"net"
	"net/http"

	lib "github.com/lxzan/gws"

	"github.com/websock-go/websock/adapters/gws"
	"github.com/websock-go/websock/websock"
)

// An echo server: every message comes back as it went.
func ExampleNew() {
	h, err := gws.New(func(*websock.Request) (websock.Handler, error) {
		return websock.HandlerFunc(func(f websock.Frame) websock.Result { return websock.Push(f) }), nil
	}, nil)
	if err != nil {
		panic(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	srv := &http.Server{Handler: h}
	go srv.Serve(ln)
	defer srv.Shutdown(context.Background())
	defer h.Shutdown(context.Background())

	// A client on gws itself.
	got := make(chan string, 1)
	c, _, err := lib.NewClient(client{got}, &lib.ClientOption{Addr: "ws://" + ln.Addr().String() + "/"})
	if err != nil {
		panic(err)
	}
	go c.ReadLoop()
	c.WriteString("hello")
	fmt.Println(<-got)
	c.WriteClose(1000, nil)
	// Output: hello
}

type client struct{ got chan string }

func (client) OnOpen(*lib.Conn)                        {}
func (client) OnClose(*lib.Conn, error)                {}
func (client) OnPing(*lib.Conn, []byte)                {}
func (client) OnPong(*lib.Conn, []byte)                {}
func (c client) OnMessage(_ *lib.Conn, m *lib.Message) { c.got <- m.Data.String() }
