package builtin

import (
	"github.com/websock-go/websock/adapters/gorilla"
)

func init() {
	register(Adapter{
		Name:  gorilla.Name,
		Start: netHTTP(gorilla.New),
		Unsupported: map[string]string{
			"CloseCode1014":       "gorilla/websocket takes the registered close code 1014 (bad gateway) for an invalid one and answers it with 1002 itself",
			"CloseOneBytePayload": "gorilla/websocket reports a close frame with a 1-byte payload as one with no status code, so it cannot be refused with 1002",
		},
	})
}
