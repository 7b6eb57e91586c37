package main

import (
	"testing"

	"github.com/websock-go/websock/adapters/websocktest"
	"github.com/websock-go/websock/websock"
)

// Unit tests of the echo handler, on the engine over memory.

func echoConn(t *testing.T) *websocktest.Conn {
	s := websocktest.NewServer(t, echoAccept, nil)
	c, refused := s.Dial(nil)
	if refused != nil {
		t.Fatal(refused)
	}
	return c
}

func TestEchoText(t *testing.T) {
	c := echoConn(t)
	c.SendText("hello")
	c.ExpectText(t, "hello")
}

func TestEchoBinary(t *testing.T) {
	c := echoConn(t)
	c.SendBinary([]byte{0, 1, 2, 0xff})
	c.ExpectBinary(t, []byte{0, 1, 2, 0xff})
}

func TestEchoFragmented(t *testing.T) {
	c := echoConn(t)
	c.SendFragmented(websock.OpText, []byte("hel"), []byte("lo"))
	c.ExpectText(t, "hello")
}

func TestEchoKeepsOrder(t *testing.T) {
	c := echoConn(t)
	for _, m := range []string{"a", "b", "c"} {
		c.SendText(m)
	}
	for _, m := range []string{"a", "b", "c"} {
		c.ExpectText(t, m)
	}
}

func TestEchoPingPong(t *testing.T) {
	c := echoConn(t)
	c.Ping([]byte("are you there"))
	c.ExpectPong(t, []byte("are you there"))
}

func TestEchoClose(t *testing.T) {
	c := echoConn(t)
	c.Close(websock.CloseNormal, "bye")
	c.ExpectClose(t, websock.CloseNormal)
	if r := c.Reason(t); r.Kind != websock.KindRemote {
		t.Errorf("Reason %v; want Remote", r)
	}
}

func TestEchoRejectsInvalidUTF8(t *testing.T) {
	c := echoConn(t)
	c.SendText("\xc3\x28")
	c.ExpectClose(t, websock.CloseInvalidPayload)
}
