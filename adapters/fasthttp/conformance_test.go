package fasthttp_test

import (
	"context"
	"net"
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/websock-go/websock/adapters"
	wsfasthttp "github.com/websock-go/websock/adapters/fasthttp"
	"github.com/websock-go/websock/conformance"
	"github.com/websock-go/websock/websock"
)

// startDateUpdater starts the goroutine that fasthttp runs, once per
// process and for the life of the process, to keep the Date response
// header current. It starts with the first response written; starting it
// before the suite keeps the suite's goroutine-leak check from taking it
// for a goroutine that outlived a connection.
func startDateUpdater() {
	var h fasthttp.ResponseHeader
	_ = h.Header()
}

func TestConformance(t *testing.T) {
	startDateUpdater()
	conformance.Run(t, conformance.Adapter{Adapter: wsfasthttp.Adapter, Serve: serveSuite})
}

// serveSuite starts the adapter on a fasthttp server on 127.0.0.1.
func serveSuite(accept websock.AcceptFunc, opts *adapters.Options) (*conformance.Server, error) {
	h, err := wsfasthttp.New(accept, opts)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	shutdown := wsfasthttp.Serve(ln, h)
	return &conformance.Server{
		URL:      "ws://" + ln.Addr().String() + "/",
		Shutdown: shutdown,
		Restart: func(ctx context.Context) error {
			err := h.Restart(ctx)
			if e := shutdown(ctx); err == nil {
				err = e
			}
			return err
		},
	}, nil
}

func TestClientConformance(t *testing.T) {
	conformance.RunClient(t, conformance.ClientAdapter{Adapter: wsfasthttp.ClientAdapter, Dial: wsfasthttp.Dial})
}
