package gws_test

import (
	"testing"

	"github.com/websock-go/websock/adapters/gws"
	"github.com/websock-go/websock/conformance"
)

func TestConformance(t *testing.T) {
	conformance.Run(t, conformance.Adapter{Adapter: gws.Adapter, Serve: conformance.ServeHTTP(gws.New)})
}

func TestClientConformance(t *testing.T) {
	conformance.RunClient(t, conformance.ClientAdapter{Adapter: gws.ClientAdapter, Dial: gws.Dial})
}
