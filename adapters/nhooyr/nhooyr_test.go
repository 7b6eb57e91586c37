package nhooyr_test

import (
	"testing"

	"github.com/websock-go/websock/adapters/nhooyr"
	"github.com/websock-go/websock/conformance"
)

func TestConformance(t *testing.T) {
	conformance.Run(t, conformance.Adapter{Adapter: nhooyr.Adapter, Serve: conformance.ServeHTTP(nhooyr.New)})
}

func TestClientConformance(t *testing.T) {
	conformance.RunClient(t, conformance.ClientAdapter{Adapter: nhooyr.ClientAdapter, Dial: nhooyr.Dial})
}
