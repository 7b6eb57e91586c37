package conformance_test

import (
	"testing"

	"github.com/websock-go/websock/conformance"
)

// An adapter's tests run the cases of feature HTTP2 with Go's HTTP/2 server
// accepting extended CONNECT when its TestMain hands them to MainHTTP2:
//
//	func TestMain(m *testing.M) { conformance.MainHTTP2(m) }
func ExampleMainHTTP2() {
	var testMain func(*testing.M) = conformance.MainHTTP2
	_ = testMain
}
