package adapters_test

import (
	"fmt"
	"time"

	"github.com/websock-go/websock/adapters"
)

// A Transport over a library whose writes never block admits each frame
// through a WriteGate and reports what the library wrote.
func ExampleWriteGate() {
	g := adapters.NewWriteGate(adapters.Options{}, 0) // 1 MiB high-water mark
	g.SetDeadline(time.Now().Add(10 * time.Second))   // from Transport.SetWriteDeadline
	frame := make([]byte, 1024)
	if err := g.Admit(len(frame)); err != nil {
		fmt.Println("write failed:", err)
		return
	}
	// library.Write(frame) goes here; its written-bytes callback says:
	g.Written(len(frame))
	fmt.Println("queued:", g.Queued())
	// Output: queued: 0
}

// An adapter that writes the 101 response itself answers the key with
// AcceptKey (the example is RFC 6455's own, section 1.3).
func ExampleAcceptKey() {
	fmt.Println(adapters.AcceptKey("dGhlIHNhbXBsZSBub25jZQ=="))
	// Output: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=
}
