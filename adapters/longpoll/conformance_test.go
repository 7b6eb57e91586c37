package longpoll_test

import (
	"testing"

	"github.com/websock-go/websock/adapters"
	"github.com/websock-go/websock/adapters/longpoll"
	"github.com/websock-go/websock/conformance"
	"github.com/websock-go/websock/websock"
)

// newHandler is longpoll.New with the engine's options only, the shape
// the suite starts adapters with.
func newHandler(accept websock.AcceptFunc, opts *adapters.Options) (*longpoll.Handler, error) {
	o := &longpoll.Options{}
	if opts != nil {
		o.Options = *opts
	}
	return longpoll.New(accept, o)
}

func TestConformance(t *testing.T) {
	conformance.Run(t, conformance.Adapter{Adapter: longpoll.Adapter, Serve: conformance.ServeLongPoll(newHandler)})
}
