package main

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/websock-go/websock/adapters/pubsub"
	"github.com/websock-go/websock/adapters/websocktest"
	"github.com/websock-go/websock/websock"
)

// Unit tests of the chat handler, on the engine over memory: no server,
// no sockets. They check chat messages, welcomes and closes; who is
// online is the roster's business, and its events are skipped.

// room returns an endpoint serving the demo's chat handler on one node.
func room(t *testing.T) *websocktest.Server {
	h, err := newHub(pubsub.New(nil), roster{Node: "node-1"}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.stop)
	return websocktest.NewServer(t, h.accept, nil)
}

// join connects name to the room and reads its welcome.
func join(t *testing.T, s *websocktest.Server, name string) *websocktest.Conn {
	t.Helper()
	c, refused := s.Dial(websocktest.NewRequest("/ws?name=" + name))
	if refused != nil {
		t.Fatalf("joining as %s: %v", name, refused)
	}
	if ev := nextEvent(t, c); ev.Type != "welcome" || ev.Name != name || ev.Server != "websocktest" || ev.Node != "node-1" {
		t.Fatalf("first event %+v; want a welcome for %s on node-1", ev, name)
	}
	return c
}

// nextEvent returns the next event other than a presence update.
func nextEvent(t *testing.T, c *websocktest.Conn) event {
	t.Helper()
	for range 100 {
		var ev event
		if text := c.NextText(t); json.Unmarshal([]byte(text), &ev) != nil {
			t.Fatalf("the server sent %q, which is no event", text)
		}
		if ev.Type != "presence" {
			return ev
		}
	}
	t.Fatal("100 presence updates in a row, and nothing else")
	return event{}
}

// skipEvents reads the events that came before the next frame that is
// not one, such as a close frame.
func skipEvents(t *testing.T, c *websocktest.Conn) {
	t.Helper()
	for range 100 {
		if c.Peek(t).Op != websock.OpText {
			return
		}
		c.NextText(t)
	}
}

func sayTo(c *websocktest.Conn, text string) {
	b, _ := json.Marshal(command{Type: "say", Text: text})
	c.SendText(string(b))
}

func TestChatNeedsAName(t *testing.T) {
	for _, target := range []string{"/ws", "/ws?name=", "/ws?name=" + strings.Repeat("x", maxNameLen+1)} {
		_, refused := room(t).Dial(websocktest.NewRequest(target))
		if refused == nil || refused.Status != http.StatusBadRequest || !strings.Contains(refused.Body, "name") {
			t.Errorf("%s: refused with %v; want 400 about the name", target, refused)
		}
	}
}

func TestChatMessageReachesEveryone(t *testing.T) {
	s := room(t)
	ann, bob := join(t, s, "ann"), join(t, s, "bob")
	sayTo(ann, "  hello bob  ")
	for _, c := range []*websocktest.Conn{ann, bob} {
		if ev := nextEvent(t, c); ev.Type != "message" || ev.Name != "ann" || ev.Text != "hello bob" || ev.Server != "websocktest" {
			t.Errorf("event %+v; want ann's message, trimmed", ev)
		}
	}
}

func TestChatMessagesKeepTheirOrder(t *testing.T) {
	s := room(t)
	ann, bob := join(t, s, "ann"), join(t, s, "bob")
	for _, text := range []string{"one", "two", "three"} {
		sayTo(ann, text)
	}
	for _, text := range []string{"one", "two", "three"} {
		if ev := nextEvent(t, bob); ev.Text != text {
			t.Fatalf("bob got %+v; want %q", ev, text)
		}
	}
}

func TestChatTooLong(t *testing.T) {
	c := join(t, room(t), "ann")
	sayTo(c, strings.Repeat("é", maxTextLen+1))
	if ev := nextEvent(t, c); ev.Type != "error" || !strings.Contains(ev.Text, "at most") {
		t.Errorf("event %+v; want an error about the length", ev)
	}
	sayTo(c, "short") // the connection lives on
	if ev := nextEvent(t, c); ev.Text != "short" {
		t.Errorf("event %+v; want the short message", ev)
	}
}

func TestChatHeartbeat(t *testing.T) {
	c := join(t, room(t), "ann")
	c.SendText(`{"type":"heartbeat"}`)
	sayTo(c, "after") // a heartbeat answers nothing: the next event is this
	if ev := nextEvent(t, c); ev.Text != "after" {
		t.Errorf("event %+v; want the message after the heartbeat", ev)
	}
}

func TestChatClosesOnBadCommands(t *testing.T) {
	for name, send := range map[string]func(*websocktest.Conn){
		"binary":       func(c *websocktest.Conn) { c.SendBinary([]byte(`{"type":"say"}`)) },
		"not JSON":     func(c *websocktest.Conn) { c.SendText("hello") },
		"unknown type": func(c *websocktest.Conn) { c.SendText(`{"type":"shout","text":"hi"}`) },
	} {
		t.Run(name, func(t *testing.T) {
			c := join(t, room(t), "ann")
			send(c)
			skipEvents(t, c)
			c.ExpectClose(t, websock.CloseUnsupportedData)
			if r := c.Reason(t); r.Err != errBadMessage {
				t.Errorf("Reason %v; want 1003 with errBadMessage", r)
			}
		})
	}
}

func TestChatQuitLeavesTheRoom(t *testing.T) {
	s := room(t)
	ann, bob := join(t, s, "ann"), join(t, s, "bob")
	bob.Close(websock.CloseGoingAway, "tab closed")
	skipEvents(t, bob)
	bob.ExpectClose(t, websock.CloseGoingAway)
	sayTo(ann, "anyone?")
	if ev := nextEvent(t, ann); ev.Text != "anyone?" {
		t.Errorf("event %+v; want ann's own message", ev)
	}
	if n := s.Live(); n != 1 {
		t.Errorf("%d connections live; want ann's only", n)
	}
}
