package gorilla_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"

	"github.com/websock-go/websock/adapters"
	"github.com/websock-go/websock/adapters/gorilla"
	"github.com/websock-go/websock/websock"
)

// printer sends what it is given and prints what arrives.
type printer struct{ got chan string }

func (p *printer) Init(websock.Conn) websock.Result { return websock.Result{} }
func (p *printer) HandleIn(f websock.Frame) websock.Result {
	p.got <- string(f.Data)
	return websock.Result{}
}
func (p *printer) HandleInfo(msg any) websock.Result {
	return websock.Push(websock.Frame{Op: websock.OpText, Data: []byte(msg.(string))})
}
func (p *printer) Terminate(websock.Reason) {}

// Dial an echo server, send from outside the handler, and close.
func ExampleDial() {
	h, _ := gorilla.New(func(*websock.Request) (websock.Handler, error) {
		return websock.HandlerFunc(func(f websock.Frame) websock.Result { return websock.Push(f) }), nil
	}, &gorilla.Options{Compression: true})
	srv := httptest.NewServer(h)
	defer srv.Close()
	defer h.Shutdown(context.Background())

	p := &printer{got: make(chan string, 1)}
	c, err := gorilla.Dial(context.Background(), "ws"+strings.TrimPrefix(srv.URL, "http"), p,
		&gorilla.DialOptions{Options: adapters.Options{Compression: true}})
	if err != nil {
		fmt.Println(err)
		return
	}
	c.Send("hello") // queued until Init has run, then pushed by HandleInfo
	fmt.Println(<-p.got)
	c.Close(websock.CloseNormal, "bye")
	fmt.Println(c.Wait().Kind)
	// Output:
	// hello
	// normal
}

// A URL that is not a WebSocket URL fails at once, with an error that
// matches adapters.ErrBadURL and says what to write instead.
func ExampleDial_badURL() {
	h := websock.HandlerFunc(func(f websock.Frame) websock.Result { return websock.OK() })
	_, err := gorilla.Dial(context.Background(), "http://127.0.0.1:8080/feed", h, nil)
	fmt.Println(errors.Is(err, adapters.ErrBadURL))
	fmt.Println(err)
	// Output:
	// true
	// websock: bad WebSocket URL: dial http://127.0.0.1:8080/feed: scheme "http" is an HTTP scheme; a WebSocket URL starts with ws://
}
