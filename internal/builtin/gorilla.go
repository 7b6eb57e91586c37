package builtin

import (
	"github.com/websock-go/websock/adapters"
	"github.com/websock-go/websock/adapters/gorilla"
	"github.com/websock-go/websock/websock"
)

func init() {
	register(Adapter{
		Name: gorilla.Name,
		Start: func(addr string, accept websock.AcceptFunc, opts *adapters.Options) (*Server, error) {
			return startHTTP(addr, gorilla.New(accept, opts))
		},
		Unsupported: map[string]string{
			"CloseOneBytePayload": "gorilla/websocket reports a close frame with a 1-byte payload as one with no status code, so it cannot be refused with 1002",
		},
	})
}
