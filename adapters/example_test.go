package adapters_test

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/websock-go/websock/adapters"
	"github.com/websock-go/websock/websock"
)

// memTransport is a Transport over no network: Read delivers the messages
// it holds, then reports that the peer went away; writes are printed.
type memTransport struct {
	in []string
}

func (t *memTransport) Read(ev adapters.Events) error {
	for _, msg := range t.in {
		if err := ev.Message(websock.OpText, []byte(msg)); err != nil {
			return err
		}
	}
	return io.EOF // the peer vanished without a close frame
}

func (t *memTransport) WriteFrame(op websock.Opcode, data []byte) error {
	fmt.Printf("wrote %v %q\n", op, data)
	return nil
}

func (t *memTransport) WriteClose(code websock.CloseCode, text string) error {
	fmt.Printf("wrote close %d %q\n", code, text)
	return nil
}

func (t *memTransport) SetWriteDeadline(time.Time) error { return nil }
func (t *memTransport) Close() error                     { return nil }

// An adapter hands the engine a Transport over its library's connection;
// Engine.Run then runs the Handler over it on the calling goroutine and
// returns why the connection ended, once Terminate has run.
func ExampleEngine_Run() {
	e, err := adapters.NewEngine(adapters.Adapter{Name: "mem"}, nil, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	echo := websock.HandlerFunc(func(f websock.Frame) websock.Result {
		return websock.Push(websock.TextString("echo: " + string(f.Data)))
	})
	info := &websock.ConnInfo{RemoteAddr: "memory"}
	r := e.Run(&memTransport{in: []string{"hello", "world"}}, echo, info)

	fmt.Println(r.Kind, r.Code, errors.Is(r, websock.ErrConnectionLost))
	fmt.Println("adapter:", info.Adapter, "live:", e.Live())
	// Output:
	// wrote text "echo: hello"
	// wrote text "echo: world"
	// error 1006 (abnormal closure) true
	// adapter: mem live: 0
}

// endPrinter is an Observer that prints how each connection ended; it
// embeds NopObserver for the events it does not want.
type endPrinter struct{ adapters.NopObserver }

func (endPrinter) Start(ev adapters.StartEvent) { fmt.Println("start", ev.Adapter, ev.Info.RemoteAddr) }

func (endPrinter) End(ev adapters.EndEvent) {
	fmt.Printf("end %s: %v, sent close %d, received %d; in %d text (%d bytes), out %d text (%d bytes)\n",
		ev.Adapter, ev.Reason.Kind, ev.Sent, ev.Received,
		ev.In.Text.Frames, ev.In.Text.Bytes, ev.Out.Text.Frames, ev.Out.Text.Bytes)
}

// An Observer set in Options is told of every connection's start and end,
// on every adapter alike.
func ExampleObserver() {
	e, err := adapters.NewEngine(adapters.Adapter{Name: "mem"}, nil, &adapters.Options{Observer: endPrinter{}})
	if err != nil {
		fmt.Println(err)
		return
	}
	echo := websock.HandlerFunc(func(f websock.Frame) websock.Result { return websock.Push(f) })
	e.Run(&memTransport{in: []string{"hello", "world"}}, echo, &websock.ConnInfo{RemoteAddr: "memory"})
	// Output:
	// start mem memory
	// wrote text "hello"
	// wrote text "world"
	// end mem: error, sent close 0, received 0; in 2 text (10 bytes), out 2 text (10 bytes)
}
