package builtin

import (
	"github.com/websock-go/websock/adapters/nhooyr"
)

func init() {
	register(Adapter{
		Name:  nhooyr.Name,
		Start: netHTTP(nhooyr.New),
		Unsupported: map[string]string{
			"HandleControl": "nhooyr.io/websocket answers pings itself and has no hook that reports ping or pong frames",
			"Keepalive":     "nhooyr.io/websocket consumes pongs without reporting them, so the engine cannot see the answers to its keepalive pings",
		},
	})
}
