package websocktest_test

import (
	"testing"

	"github.com/websock-go/websock/adapters/websocktest"
)

// BenchmarkRoundTrip measures one in-memory round trip through the
// engine: a 64-byte text message sent, echoed by the handler, and read.
// A handler's own benchmark looks the same, with its handler.
func BenchmarkRoundTrip(b *testing.B) {
	c := websocktest.New(b, echo, nil)
	msg := string(make([]byte, 64))
	b.ReportAllocs()
	for b.Loop() {
		c.SendText(msg)
		c.ExpectText(b, msg)
	}
}
