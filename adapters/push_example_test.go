package adapters_test

import (
	"fmt"
	"io"

	"github.com/websock-go/websock/adapters"
	"github.com/websock-go/websock/websock"
)

// printer prints what HandleIn gets.
type printer struct{}

func (printer) Init(websock.Conn) websock.Result { return websock.OK() }
func (printer) HandleIn(f websock.Frame) websock.Result {
	fmt.Printf("HandleIn: %s\n", f.Data)
	return websock.OK()
}
func (printer) HandleInfo(any) websock.Result { return websock.OK() }
func (printer) Terminate(websock.Reason)      { fmt.Println("Terminate") }

// A push library's callbacks hand what they read to the connection's
// Inbox; the engine runs the handler on the connection's actor. Here the
// test plays the library.
func ExampleNewInbox() {
	e, err := adapters.NewEngine(adapters.Adapter{Name: "mem", EventDriven: true}, nil, &adapters.Options{IdleTimeout: -1, PingInterval: -1})
	if err != nil {
		panic(err)
	}
	tr := &memPush{in: adapters.NewInbox(nil), closed: make(chan struct{})} // a PushTransport
	done := make(chan websock.Reason, 1)
	e.Start(tr, printer{}, &websock.ConnInfo{}, func(r websock.Reason) { done <- r })

	tr.Inbox().Message(websock.OpText, []byte("hello"), false) // the library's message callback
	tr.Inbox().End(io.EOF)                                     // its close callback
	<-done
	// Output:
	// HandleIn: hello
	// Terminate
}
