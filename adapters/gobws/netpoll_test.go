package gobws_test

import (
	"testing"

	"github.com/websock-go/websock/adapters/gobws"
	"github.com/websock-go/websock/conformance"
)

func TestNetpollConformance(t *testing.T) {
	conformance.Run(t, conformance.Adapter{Adapter: gobws.NetpollAdapter, Serve: conformance.ServeHTTP(gobws.NewNetpoll)})
}
