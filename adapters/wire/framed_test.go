package wire

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/websock-go/websock/websock"
)

// TestWritePrepared checks that a prepared message's frame goes out whole
// between the library's frames, waits while the library is mid-frame,
// and goes nowhere once a close frame went out.
func TestWritePrepared(t *testing.T) {
	server, client := pair(t)
	c := New(server)
	got := readAll(client)
	p := websock.NewPrepared(websock.OpText, []byte("shared"))

	if err := c.WriteFrame([]byte{0x88, 0}, time.Time{}); !errors.Is(err, ErrNotAFrame) {
		t.Errorf("WriteFrame(close): %v; want ErrNotAFrame", err)
	}
	c.Write(frame(0x2, []byte("lib")))
	if done, err := c.WritePrepared(p, false, time.Time{}); !done || err != nil {
		t.Fatalf("WritePrepared between frames: %v, %v; want it written", done, err)
	}
	c.Write(header(0x2, 3, false)) // a frame half written
	if done, err := c.WritePrepared(p, false, time.Time{}); done || err != nil {
		t.Errorf("WritePrepared mid-frame: %v, %v; want nothing written and no error", done, err)
	}
	c.Write([]byte("end"))
	c.WriteClose(websock.CloseNormal, "", time.Time{})
	if done, err := c.WritePrepared(p, false, time.Time{}); !done || err != nil {
		t.Errorf("WritePrepared after the close: %v, %v; want it dropped, as written", done, err)
	}
	server.Close()
	want := cat(frame(0x2, []byte("lib")), frame(0x1, []byte("shared")), frame(0x2, []byte("end")), frame(opClose, []byte{0x03, 0xe8}))
	if b := <-got; !bytes.Equal(b, want) {
		t.Errorf("the peer read %x; want %x", b, want)
	}
}
