package wire_test

import (
	"fmt"
	"io"
	"net"
	"time"

	"github.com/websock-go/websock/adapters/wire"
	"github.com/websock-go/websock/websock"
)

// An adapter learns what the peer's close frame said, though the library
// refuses its code, and the peer gets the echo RFC 6455 asks for, though
// the library answers 1002.
func Example() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer ln.Close()

	answer := make(chan []byte, 1)
	go func() { // the peer
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			answer <- nil
			return
		}
		defer c.Close()
		c.Write([]byte{0x88, 0x82, 0, 0, 0, 0, 0x03, 0xf6}) // close 1014, masked with a zero key
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		b, _ := io.ReadAll(c)
		answer <- b
	}()

	nc, err := ln.Accept()
	if err != nil {
		fmt.Println(err)
		return
	}
	c := wire.New(nc) // the library reads and writes through c

	// The library reads the close frame...
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	io.ReadFull(c, make([]byte, 8))
	// ...refuses code 1014, and writes close 1002.
	c.Write([]byte{0x88, 0x13, 0x03, 0xea, 'b', 'a', 'd', ' ', 'c', 'l', 'o', 's', 'e', ' ', 'c', 'o', 'd', 'e', ' ', '1', '0', '1', '4'})

	// The adapter reports what the peer said, and its own close frame is
	// dropped: one went out already.
	if p, ok := c.PeerClose(); ok {
		fmt.Println(wire.CloseError(p))
	}
	c.WriteClose(websock.CloseBadGateway, "", time.Time{})
	lib, _ := c.LibraryClose()
	fmt.Printf("the library wrote % x...\n", lib[:2])
	c.Close()
	fmt.Printf("the peer got % x\n", <-answer)
	// Output:
	// websock: peer closed with 1014 (bad gateway)
	// the library wrote 03 ea...
	// the peer got 88 02 03 f6
}

// A push library's adapter feeds the bytes its poller read to a Parser
// (through an adapters.Inbox, which calls Parse on the connection's
// actor); here, one masked text frame a client sent.
func ExampleParser() {
	p := wire.NewParser(wire.ParserOptions{MaxMessageSize: 1 << 20})
	frame := []byte{0x81, 0x82, 1, 2, 3, 4, 'h' ^ 1, 'i' ^ 2}
	p.Parse(printEvents{}, frame)
	// Output: text "hi"
}

type printEvents struct{}

func (printEvents) Message(op websock.Opcode, data []byte) error {
	fmt.Printf("%v %q\n", op, data)
	return nil
}
func (printEvents) Ping([]byte)                    {}
func (printEvents) Control(websock.Opcode, []byte) {}
