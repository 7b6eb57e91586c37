package nbio_test

import (
	"context"
	"log"
	"net"
	"time"

	"github.com/websock-go/websock/adapters/nbio"
	"github.com/websock-go/websock/websock"
)

// echo pushes back every message it receives.
type echo struct{}

func (echo) Init(websock.Conn) websock.Result        { return websock.OK() }
func (echo) HandleIn(f websock.Frame) websock.Result { return websock.Push(f) }
func (echo) HandleInfo(any) websock.Result           { return websock.OK() }
func (echo) Terminate(websock.Reason)                {}

// An echo server on nbio: nbio's pollers read every connection; an idle
// connection holds no goroutine.
func ExampleNew() {
	h, err := nbio.New(func(*websock.Request) (websock.Handler, error) { return echo{}, nil }, nil)
	if err != nil {
		log.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	if err := h.Serve(ln); err != nil {
		log.Fatal(err)
	}
	// ... serve until it is time to stop, then:
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := h.Shutdown(ctx); err != nil {
		log.Print(err)
	}
	// Output:
}
