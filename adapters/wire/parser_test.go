package wire_test

import (
	"errors"
	"testing"

	"github.com/websock-go/websock/adapters/wire"
	"github.com/websock-go/websock/websock"
)

// clientFrame returns a masked frame as a client sends it.
func clientFrame(b0 byte, payload []byte) []byte {
	key := [4]byte{1, 2, 3, 4}
	f := []byte{b0}
	switch n := len(payload); {
	case n <= 125:
		f = append(f, 0x80|byte(n))
	default:
		f = append(f, 0x80|126, byte(n>>8), byte(n))
	}
	f = append(f, key[:]...)
	for i, c := range payload {
		f = append(f, c^key[i&3])
	}
	return f
}

// events records what a Parser reports.
type events struct {
	msgs  []string
	pings int
}

func (e *events) Message(op websock.Opcode, data []byte) error {
	e.msgs = append(e.msgs, op.String()+":"+string(data))
	return nil
}
func (e *events) Ping([]byte)                    { e.pings++ }
func (e *events) Control(websock.Opcode, []byte) {}

// TestParserSplitAnywhere checks that a fragmented message with a ping
// between its fragments, an empty message and a close frame parse the
// same however the bytes are cut.
func TestParserSplitAnywhere(t *testing.T) {
	var in []byte
	in = append(in, clientFrame(0x01, []byte("hél"))...) // text, not final
	in = append(in, clientFrame(0x89, []byte("p"))...)   // ping between fragments
	in = append(in, clientFrame(0x80, []byte("lo"))...)  // final continuation
	in = append(in, clientFrame(0x82, nil)...)           // an empty binary message
	in = append(in, clientFrame(0x88, []byte{0x03, 0xe8, 'b', 'y', 'e'})...)
	for cut := 1; cut < len(in); cut++ {
		p := wire.NewParser(wire.ParserOptions{})
		ev := &events{}
		b := append([]byte(nil), in...)
		err := p.Parse(ev, b[:cut])
		if err == nil {
			err = p.Parse(ev, b[cut:])
		}
		var ce *websock.CloseError
		if !errors.As(err, &ce) || ce.Code != 1000 || ce.Text != "bye" {
			t.Fatalf("cut at %d: Parse ended with %v; want the close frame 1000 \"bye\"", cut, err)
		}
		if len(ev.msgs) != 2 || ev.msgs[0] != websock.OpText.String()+":héllo" || ev.msgs[1] != websock.OpBinary.String()+":" || ev.pings != 1 {
			t.Fatalf("cut at %d: got messages %q and %d pings; want the text, the empty binary message and 1 ping", cut, ev.msgs, ev.pings)
		}
	}
}

// TestParserRules checks that what a server must refuse is refused with
// the error the engine maps to the right close code, and that invalid
// UTF-8 fails before the message is whole.
func TestParserRules(t *testing.T) {
	unmasked := []byte{0x81, 0x01, 'x'}
	for _, c := range []struct {
		name string
		in   []byte
		want error
	}{
		{"unmasked", unmasked, websock.ErrProtocol},
		{"oversized control", clientFrame(0x89, make([]byte, 126)), websock.ErrProtocol},
		{"RSV1 without compression", clientFrame(0xc1, []byte("x")), websock.ErrProtocol},
		{"reserved opcode", clientFrame(0x83, nil), websock.ErrProtocol},
		{"continuation first", clientFrame(0x80, []byte("x")), websock.ErrProtocol},
		{"invalid UTF-8, not final", clientFrame(0x01, []byte{0xff}), websock.ErrInvalidUTF8},
		{"one-byte close", clientFrame(0x88, []byte{3}), websock.ErrProtocol},
		{"too big", clientFrame(0x82, make([]byte, 200)), websock.ErrMessageTooBig},
	} {
		p := wire.NewParser(wire.ParserOptions{MaxMessageSize: 100})
		if err := p.Parse(&events{}, c.in); !errors.Is(err, c.want) {
			t.Errorf("%s: Parse = %v; want %v", c.name, err, c.want)
		}
	}
}

// TestParserInPlace checks that a message that arrives whole is handed
// over where it lay, without a copy.
func TestParserInPlace(t *testing.T) {
	b := clientFrame(0x82, []byte("abcdef"))
	var got []byte
	p := wire.NewParser(wire.ParserOptions{})
	p.Parse(msgFunc(func(data []byte) { got = data }), b)
	if len(got) != 6 || &got[0] != &b[6] {
		t.Fatalf("the message was copied (or lost): got %q", got)
	}
}

type msgFunc func([]byte)

func (f msgFunc) Message(_ websock.Opcode, data []byte) error { f(data); return nil }
func (f msgFunc) Ping([]byte)                                 {}
func (f msgFunc) Control(websock.Opcode, []byte)              {}

// TestTrackerFeed checks a Tracker fed from outside a Conn: it stops
// before the close frame, then reports its payload.
func TestTrackerFeed(t *testing.T) {
	tr := wire.NewTracker(wire.TrackerOptions{Strict: true, ValidateUTF8: true})
	data := clientFrame(0x81, []byte("hi"))
	in := append(append([]byte(nil), data...), clientFrame(0x88, []byte{0x03, 0xe9})...)
	n, err := tr.Feed(in)
	if err != nil || n != len(data) {
		t.Fatalf("Feed = %d, %v; want %d (up to the close frame), nil", n, err, len(data))
	}
	if _, ok := tr.PeerClose(); ok {
		t.Fatal("PeerClose reported a close frame not yet fed")
	}
	if n, err := tr.Feed(in[n:]); err != nil || n != len(in)-len(data) {
		t.Fatalf("Feed of the close frame = %d, %v", n, err)
	}
	if p, ok := tr.PeerClose(); !ok || len(p) != 2 || p[1] != 0xe9 || tr.Following() {
		t.Fatalf("PeerClose = %x, %v; Following = %v", p, ok, tr.Following())
	}
}
