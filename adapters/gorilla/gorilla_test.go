package gorilla_test

import (
	"testing"

	"github.com/websock-go/websock/adapters/gorilla"
	"github.com/websock-go/websock/conformance"
)

func TestConformance(t *testing.T) {
	conformance.Run(t, conformance.Adapter{Adapter: gorilla.Adapter, Serve: conformance.ServeHTTP(gorilla.New)})
}

func TestClientConformance(t *testing.T) {
	conformance.RunClient(t, conformance.ClientAdapter{Adapter: gorilla.ClientAdapter, Dial: gorilla.Dial})
}
