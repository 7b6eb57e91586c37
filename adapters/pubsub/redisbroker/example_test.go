package redisbroker_test

import (
	"log"

	"github.com/websock-go/websock/adapters/pubsub"
	"github.com/websock-go/websock/adapters/pubsub/redisbroker"
)

// Every node of a deployment connects its PubSub to the same Redis; a
// message published on one node reaches the subscribers of all of them.
func Example() {
	b, err := redisbroker.Connect("redis://127.0.0.1:6379", nil)
	if err != nil {
		log.Fatal(err) // no Redis there: see the error for what to check
	}
	defer b.Close()
	ps := pubsub.New(b)
	defer ps.Close()
	// Handlers call ps.Subscribe(conn, "room.1") in Init, and anything
	// calls ps.Publish("room.1", data).
}
