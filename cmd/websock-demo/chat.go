package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/websock-go/websock/adapters/pubsub"
	"github.com/websock-go/websock/websock"
)

// maxNameLen and maxTextLen bound what one client may put in the room.
const (
	maxNameLen = 24
	maxTextLen = 2000
)

// errBadMessage is the reason a connection ends when its client sends
// something that is not a chat command.
var errBadMessage = errors.New("chat: message is not a JSON chat command")

// chat is the handler of one connection. The same type runs, unchanged, on
// every adapter. Its callbacks never run concurrently, so its fields need
// no locks.
type chat struct {
	hub  *hub
	conn websock.Conn
	me   member
	sent *websock.Prepared // the presence event last pushed
}

// command is what the page sends, as JSON in a text message.
type command struct {
	Type string `json:"type"` // "say" or "heartbeat"
	Text string `json:"text"`
}

// accept is the AcceptFunc, the same on every adapter: it refuses a
// request without a usable name and otherwise makes the connection's
// handler.
func (h *hub) accept(req *websock.Request) (websock.Handler, error) {
	name := strings.TrimSpace(req.URL.Query().Get("name"))
	if name == "" || utf8.RuneCountInString(name) > maxNameLen {
		return nil, websock.Refuse(http.StatusBadRequest,
			fmt.Sprintf("chat: the name query parameter must hold 1 to %d characters\n", maxNameLen))
	}
	// The HTTP version the WebSocket runs over: HTTP/2.0 for a stream of
	// an HTTP/2 connection (RFC 8441). fasthttp speaks HTTP/1.1 only.
	proto := "HTTP/1.1"
	if r := req.HTTPRequest(); r != nil {
		proto = r.Proto
	}
	return &chat{hub: h, me: member{Name: name, Proto: proto}}, nil
}

// Init joins the room and greets the client; its presence reaches
// everyone, this connection included, through HandleInfo.
func (c *chat) Init(conn websock.Conn) websock.Result {
	c.conn = conn
	c.me.Server = conn.Info().Adapter
	c.me.Node = c.hub.self.Node
	c.hub.join(conn, c.me)
	frames := []websock.Frame{encode(event{Type: "welcome", Name: c.me.Name, Server: c.me.Server, Node: c.me.Node,
		Proto: c.me.Proto, Compressed: conn.Info().Compressed})}
	// The member hears when the other nodes become unreachable, and
	// when they are back.
	if st := c.hub.ps.WatchBroker(conn); !st.Up {
		frames = append(frames, brokerEvent(st))
	}
	return websock.Push(frames...)
}

// brokerEvent tells a member that the other nodes are out of reach, or
// back.
func brokerEvent(st pubsub.BrokerStatus) websock.Frame {
	if st.Up {
		return encode(event{Type: "error", Text: "the other nodes are reachable again"})
	}
	return encode(event{Type: "error", Text: "the other nodes are unreachable: messages reach this node's members only, until they are back"})
}

// HandleIn takes one command from the client.
func (c *chat) HandleIn(f websock.Frame) websock.Result {
	var cmd command
	if f.Op != websock.OpText || json.Unmarshal(f.Data, &cmd) != nil {
		return websock.StopCode(errBadMessage, websock.CloseUnsupportedData, "send JSON chat commands as text")
	}
	switch cmd.Type {
	case "heartbeat": // keeps an idle tab inside the idle timeout
	case "say":
		text := strings.TrimSpace(cmd.Text)
		if text == "" {
			break
		}
		if utf8.RuneCountInString(text) > maxTextLen {
			return websock.Push(encode(event{Type: "error", Text: fmt.Sprintf("messages hold at most %d characters", maxTextLen)}))
		}
		c.hub.say(c.me, text)
	default:
		return websock.StopCode(errBadMessage, websock.CloseUnsupportedData, "unknown command type")
	}
	return websock.OK()
}

// HandleInfo passes on what the hub and the room's topic sent, in the
// order they sent it.
func (c *chat) HandleInfo(msg any) websock.Result {
	switch m := msg.(type) {
	case *pubsub.PresenceDiff: // someone joined or left, on any node
		if p := c.hub.presence(); p != c.sent {
			c.sent = p
			return websock.Push(p.Frame())
		}
	case *pubsub.BrokerStatus: // the other nodes went out of reach, or came back
		return websock.Push(brokerEvent(*m))
	case *pubsub.Message: // the room's, framed once per publish
		return websock.Push(m.Text())
	}
	return websock.OK()
}

// Terminate leaves the room, however the connection ended.
func (c *chat) Terminate(websock.Reason) {
	if c.conn != nil {
		c.hub.leave(c.conn)
	}
}

// encode returns ev as a JSON text frame.
func encode(ev event) websock.Frame {
	b, err := json.Marshal(ev)
	if err != nil {
		panic(err) // an event is plain strings: it always encodes
	}
	return websock.Text(b)
}
