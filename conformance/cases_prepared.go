package conformance

import (
	"bytes"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"

	"github.com/websock-go/websock/adapters"
	"github.com/websock-go/websock/websock"
)

// preparedConns is how many connections each prepared message is pushed
// to in the cases below.
const preparedConns = 12

// readWait bounds each read of a prepared message.
const readWait = 10 * time.Second

// preparedMessages returns prepared messages of op whose lengths take each
// form of the frame header (RFC 6455 section 5.2): none, 7 bits, 16 bits
// and 64 bits, with text that is not all ASCII.
func preparedMessages(op byte) [][]byte {
	if op == opText {
		return [][]byte{
			nil,
			[]byte("héllo, wörld — prepared once"),
			[]byte(strings.Repeat("compress me, please. ¶ ", 50)),
			[]byte(strings.Repeat("a long prepared text message; ", 2500)),
		}
	}
	rng := rand.New(rand.NewPCG(6455, 2))
	random := make([]byte, 70<<10)
	for i := range random {
		random[i] = byte(rng.Uint32())
	}
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	return [][]byte{nil, all[:100], bytes.Repeat(all, 8), random}
}

func preparedText(e *env)   { e.preparedFanOut(opText, nil) }
func preparedBinary(e *env) { e.preparedFanOut(opBinary, nil) }

// preparedCompressed pushes prepared messages to connections that offer
// permessage-deflate with differing parameters, and to one that offers
// none: each must read them as they were made, compressed within the
// window and context it agreed to, or not compressed at all.
func preparedCompressed(e *env) {
	e.preparedFanOut(opText, []string{
		"",
		"permessage-deflate",
		"permessage-deflate; server_no_context_takeover",
		"permessage-deflate; client_no_context_takeover",
		"permessage-deflate; server_max_window_bits=10",
		"permessage-deflate; server_max_window_bits=8; client_max_window_bits",
	})
	e.preparedFanOut(opBinary, []string{"permessage-deflate", "", "permessage-deflate; server_max_window_bits=9"})
}

// preparedFanOut connects preparedConns clients (offering the extension
// offers in turn, Compression on, when offers is not nil), sends each
// message of preparedMessages(op) to every connection as one Prepared,
// which HandleInfo pushes, and checks that every client reads each
// message, byte for byte, then an echo of a message of its own.
func (e *env) preparedFanOut(op byte, offers []string) {
	e.Helper()
	inited := make(chan websock.Conn, preparedConns)
	accept, _ := probes(func(p *probe) {
		p.init = func(p *probe) websock.Result { inited <- p.conn; return websock.OK() }
		p.info = func(p *probe, msg any) websock.Result {
			pm, ok := msg.(*websock.Prepared)
			if !ok {
				p.violate("HandleInfo got %T; the case sends *websock.Prepared only", msg)
				return websock.OK()
			}
			return websock.Push(pm.Frame())
		}
	}, false)
	var opts *adapters.Options
	if offers != nil {
		opts = &adapters.Options{Compression: true}
	}
	srv := e.serve(accept, opts)
	clients := make([]*client, preparedConns)
	conns := make([]websock.Conn, preparedConns)
	compressed := 0
	for i := range clients {
		var hdr http.Header
		if len(offers) > 0 && offers[i%len(offers)] != "" {
			hdr = http.Header{"Sec-WebSocket-Extensions": {offers[i%len(offers)]}}
		}
		if clients[i] = e.wantAccepted(srv, hdr, "a valid upgrade"); clients[i] == nil {
			return
		}
		if clients[i].deflate {
			compressed++
		}
		conns[i] = <-inited
	}
	if offers != nil && compressed == 0 {
		e.Errorf("no connection negotiated permessage-deflate with Compression on, so none carried a compressed prepared message")
	}
	for _, data := range preparedMessages(op) {
		pm := websock.NewPrepared(websock.Opcode(op), data)
		for i, c := range conns {
			if err := c.Send(pm); err != nil {
				e.Fatalf("connection %d: Send: %v", i, err)
			}
		}
		for i, c := range clients {
			gotOp, got, err := c.readMessage(readWait, nil)
			if err != nil {
				e.Fatalf("connection %d (offer %q): want the prepared %s message of %d bytes: %v (rule: a pushed Prepared reaches the peer as the message it was made from)",
					i, offerOf(offers, i), opName(op), len(data), err)
			}
			if gotOp != op || !bytes.Equal(got, data) {
				e.Fatalf("connection %d (offer %q): got %s message of %d bytes; want the prepared %s message of %d bytes, byte for byte",
					i, offerOf(offers, i), opName(gotOp), len(got), opName(op), len(data))
			}
		}
	}
	for i, c := range clients {
		c.sendText("after the prepared ones")
		e.wantMessage(c, opText, "after the prepared ones")
		c.sendClose(1000, "")
		if _, err := c.expectClose(readWait); err != nil {
			e.Errorf("connection %d: want the close echoed: %v", i, err)
		}
	}
}

func offerOf(offers []string, i int) string {
	if len(offers) == 0 {
		return ""
	}
	return offers[i%len(offers)]
}
