package websocktest_test

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/websock-go/websock/adapters/websocktest"
	"github.com/websock-go/websock/websock"
)

// subscriber is a client handler: it subscribes once connected, shows
// what the server sends, and dials again after a second, up to three
// failed dials in a row.
type subscriber struct {
	got      []string
	attempts []websock.Disconnect
}

func (s *subscriber) Init(c websock.Conn) websock.Result {
	return websock.Push(websock.TextString("subscribe prices"))
}
func (s *subscriber) HandleIn(f websock.Frame) websock.Result {
	s.got = append(s.got, string(f.Data))
	return websock.OK()
}
func (s *subscriber) HandleInfo(any) websock.Result { return websock.OK() }
func (s *subscriber) Terminate(websock.Reason)      {}
func (s *subscriber) HandleDisconnect(d websock.Disconnect) websock.Reconnect {
	s.attempts = append(s.attempts, d)
	if d.Attempt >= 3 {
		return websock.StopReconnecting
	}
	return websock.Reconnect{Delay: time.Second}
}

func TestClientReconnects(t *testing.T) {
	p := websocktest.NewPeer(t)
	h := &subscriber{}
	cl := p.Dial(h, nil)

	srv := p.Next(t).Accept("")
	srv.ExpectText(t, "subscribe prices")
	srv.SendText("AAPL 1")
	srv.Close(4000, "maintenance") // the server goes away with a code of its own
	srv.ExpectClose(t, 4000)

	p.Clock().WaitTimer(t, time.Second) // the client waits a second...
	p.Advance(time.Second)
	p.Next(t).Refuse(http.StatusServiceUnavailable, "busy") // ...and is refused

	p.Clock().WaitTimer(t, time.Second)
	p.Advance(time.Second)
	srv = p.Next(t).Accept("")
	srv.ExpectText(t, "subscribe prices")
	srv.Vanish() // then the network goes

	for range 3 { // three dials in a row fail: the handler gives up
		p.Clock().WaitTimer(t, time.Second)
		p.Advance(time.Second)
		p.Next(t).Refuse(http.StatusBadGateway, "down")
	}
	r := cl.Wait(t)
	if !errors.Is(r.Err, websock.ErrBadHandshake) {
		t.Errorf("final Reason %v; want the last refusal", r)
	}
	want := []struct {
		dialed  bool
		attempt int
		code    websock.CloseCode
	}{
		{true, 0, 4000},
		{false, 1, websock.CloseAbnormal},
		{true, 0, websock.CloseAbnormal},
		{false, 1, websock.CloseAbnormal},
		{false, 2, websock.CloseAbnormal},
		{false, 3, websock.CloseAbnormal},
	}
	if len(h.attempts) != len(want) {
		t.Fatalf("HandleDisconnect saw %d disconnects: %+v; want %d", len(h.attempts), h.attempts, len(want))
	}
	for i, w := range want {
		d := h.attempts[i]
		if d.Dialed != w.dialed || d.Attempt != w.attempt || d.Reason.Code != w.code {
			t.Errorf("disconnect %d: Dialed %v, Attempt %d, code %d; want %v, %d, %d", i, d.Dialed, d.Attempt, d.Reason.Code, w.dialed, w.attempt, w.code)
		}
	}
	if len(h.got) != 1 || h.got[0] != "AAPL 1" {
		t.Errorf("the handler got %q; want [AAPL 1]", h.got)
	}
}

func TestClientRefusedFirst(t *testing.T) {
	p := websocktest.NewPeer(t)
	cl := p.Dial(&subscriber{}, nil)
	p.Next(t).Refuse(http.StatusUnauthorized, "no token")
	var he interface{ Is(error) bool }
	err := cl.Dialed(t)
	if !errors.As(err, &he) || !errors.Is(err, websock.ErrBadHandshake) {
		t.Fatalf("Dialed: %v; want a handshake error", err)
	}
}

func TestClientCloses(t *testing.T) {
	p := websocktest.NewPeer(t)
	cl := p.Dial(&subscriber{}, nil)
	srv := p.Next(t).Accept("")
	srv.ExpectText(t, "subscribe prices")
	cl.Client(t).Close(websock.CloseNormal, "bye")
	if text := srv.ExpectClose(t, websock.CloseNormal); text != "bye" {
		t.Errorf("close text %q; want bye", text)
	}
	if r := cl.Wait(t); r.Kind != websock.KindNormal {
		t.Errorf("Reason %v; want Normal", r)
	}
}
