package conformance_test

import (
	"testing"

	"github.com/websock-go/websock/conformance"
)

// TestMain runs the tests with Go's HTTP/2 server accepting extended
// CONNECT, which the reference adapter needs for the cases over HTTP/2.
func TestMain(m *testing.M) { conformance.MainHTTP2(m) }
