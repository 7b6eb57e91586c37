package gobws_test

import (
	"testing"

	"github.com/websock-go/websock/conformance"
)

// TestMain runs the tests with Go's HTTP/2 server accepting extended
// CONNECT, for the conformance cases over HTTP/2.
func TestMain(m *testing.M) { conformance.MainHTTP2(m) }
