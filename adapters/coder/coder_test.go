package coder_test

import (
	"testing"

	"github.com/websock-go/websock/adapters/coder"
	"github.com/websock-go/websock/conformance"
)

func TestConformance(t *testing.T) {
	conformance.Run(t, conformance.Adapter{Adapter: coder.Adapter, Serve: conformance.ServeHTTP(coder.New)})
}

func TestClientConformance(t *testing.T) {
	conformance.RunClient(t, conformance.ClientAdapter{Adapter: coder.ClientAdapter, Dial: coder.Dial})
}
