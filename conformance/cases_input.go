package conformance

import (
	"bytes"
	"time"

	"github.com/websock-go/websock/adapters"
	"github.com/websock-go/websock/websock"
)

func pingAnswered(e *env) {
	accept, _ := probes(nil, false)
	c := e.dial(e.serve(accept, nil))
	c.send(opPing, []byte("are you there"))
	c.sendText("after ping")
	var pongs []string
	op, data, err := c.readMessage(10*time.Second, &pongs)
	if err != nil || op != opText || string(data) != "after ping" {
		e.Fatalf("echo after ping: %v %q %v", op, data, err)
	}
	if len(pongs) != 1 || pongs[0] != "are you there" {
		e.Errorf("pongs %q before the echo; want one pong with the ping's payload (RFC 6455 section 5.5.3)", pongs)
	}
}

func handleControlPing(e *env) {
	seen := make(chan string, 4)
	accept, _ := probes(func(p *probe) {
		p.ctl = func(_ *probe, f websock.Frame) websock.Result {
			seen <- f.Op.String() + ":" + string(f.Data)
			return websock.Push(websock.TextString("saw " + f.Op.String()))
		}
	}, true)
	c := e.dial(e.serve(accept, nil))
	c.send(opPing, []byte("p1"))
	var pongs []string
	op, data, err := c.readMessage(10*time.Second, &pongs)
	if err != nil || op != opText || string(data) != "saw ping" {
		e.Fatalf("HandleControl's push: %v %q %v", op, data, err)
	}
	if len(pongs) != 1 || pongs[0] != "p1" {
		e.Errorf("pongs %q; want the pong written before HandleControl runs (rule: the server answers pings itself)", pongs)
	}
	if got := <-seen; got != "ping:p1" {
		e.Errorf("HandleControl saw %q; want ping:p1", got)
	}
}

func handleControlPong(e *env) {
	seen := make(chan string, 4)
	accept, _ := probes(func(p *probe) {
		p.ctl = func(_ *probe, f websock.Frame) websock.Result {
			seen <- f.Op.String() + ":" + string(f.Data)
			return websock.OK()
		}
	}, true)
	c := e.dial(e.serve(accept, nil))
	c.send(opPong, []byte("unsolicited"))
	select {
	case got := <-seen:
		if got != "pong:unsolicited" {
			e.Errorf("HandleControl saw %q; want pong:unsolicited", got)
		}
	case <-time.After(10 * time.Second):
		e.Errorf("HandleControl did not see the pong within 10s")
	}
}

func fragmented(e *env) {
	accept, _ := probes(nil, false)
	c := e.dial(e.serve(accept, nil))
	c.writeFrame(frame{op: opText, payload: []byte("frag")}, false)
	c.writeFrame(frame{fin: true, op: opPing, payload: []byte("mid")}, false)
	c.writeFrame(frame{op: opCont, payload: []byte("men")}, false)
	c.writeFrame(frame{fin: true, op: opCont, payload: []byte("ted")}, false)
	var pongs []string
	op, data, err := c.readMessage(10*time.Second, &pongs)
	if err != nil || op != opText || string(data) != "fragmented" {
		e.Fatalf("got %v %q %v; want the text message \"fragmented\" reassembled (RFC 6455 section 5.4)", op, data, err)
	}
	if len(pongs) != 1 || pongs[0] != "mid" {
		e.Errorf("pongs %q; want the ping between fragments answered (RFC 6455 section 5.4)", pongs)
	}
}

func largeMessage(e *env) {
	accept, _ := probes(nil, false)
	c := e.dial(e.serve(accept, nil)) // default maximum: 16 MiB
	data := bytes.Repeat([]byte("0123456789abcdef"), (16<<20)/16)
	c.send(opBinary, data)
	op, got, err := c.readMessage(30*time.Second, nil)
	if err != nil || op != opBinary || !bytes.Equal(got, data) {
		e.Fatalf("16 MiB echo: op %v, %d bytes, err %v; want the same 16 MiB back", op, len(got), err)
	}
}

func invalidUTF8(e *env) {
	accept, ch := probes(nil, false)
	c := e.dial(e.serve(accept, nil))
	p := e.next(ch)
	c.send(opText, []byte("ok \xff\xfe bad"))
	e.closeAndReply(c, 1007, "RFC 6455 section 8.1: invalid UTF-8 in a text message closes 1007")
	e.wantReason(p, websock.KindError, websock.CloseInvalidPayload, websock.ErrInvalidUTF8, "invalid UTF-8")
}

func utf8Split(e *env) {
	accept, _ := probes(nil, false)
	c := e.dial(e.serve(accept, nil))
	s := []byte("κόσμε ✓") // a code point split across the fragments is fine
	c.writeFrame(frame{op: opText, payload: s[:1]}, false)
	c.writeFrame(frame{op: opCont, payload: s[1:8]}, false)
	c.writeFrame(frame{fin: true, op: opCont, payload: s[8:]}, false)
	e.wantMessage(c, opText, string(s))
}

func invalidUTF8Fragmented(e *env) {
	accept, ch := probes(nil, false)
	c := e.dial(e.serve(accept, nil))
	p := e.next(ch)
	c.writeFrame(frame{op: opText, payload: []byte("fine so far ")}, false)
	c.writeFrame(frame{fin: true, op: opCont, payload: []byte("\xed\xa0\x80")}, false) // a UTF-16 surrogate
	e.closeAndReply(c, 1007, "RFC 6455 section 8.1")
	e.wantReason(p, websock.KindError, websock.CloseInvalidPayload, websock.ErrInvalidUTF8, "invalid UTF-8")
}

func messageTooBig(e *env) {
	accept, ch := probes(nil, false)
	srv := e.serve(accept, &adapters.Options{MaxMessageSize: 4096})
	c := e.dial(srv)
	p := e.next(ch)
	c.send(opBinary, make([]byte, 4096)) // exactly the limit is accepted
	e.wantMessage(c, opBinary, string(make([]byte, 4096)))
	c.send(opBinary, make([]byte, 1<<20))
	e.closeAndReply(c, 1009, "RFC 6455 section 7.4.1: a message over the maximum closes 1009")
	e.wantReason(p, websock.KindError, websock.CloseMessageTooBig, websock.ErrMessageTooBig, "message too big")
}

func messageTooBigFragmented(e *env) {
	accept, ch := probes(nil, false)
	c := e.dial(e.serve(accept, &adapters.Options{MaxMessageSize: 4096}))
	p := e.next(ch)
	for i := 0; i < 8; i++ {
		if err := c.writeFrame(frame{op: map[bool]byte{true: opBinary, false: opCont}[i == 0], payload: make([]byte, 1000)}, false); err != nil {
			break // the server may have closed already
		}
	}
	e.closeAndReply(c, 1009, "the maximum applies to the reassembled message")
	e.wantReason(p, websock.KindError, websock.CloseMessageTooBig, websock.ErrMessageTooBig, "message too big")
}

// protocolError sends f and expects close 1002 and Terminate(Error,
// ErrProtocol).
func protocolError(f frame, unmasked bool) func(e *env) {
	return violation(f, unmasked, "RFC 6455 sections 5.1-5.5: a protocol violation closes 1002")
}

// violation sends f and expects close 1002 and Terminate(Error,
// ErrProtocol); rule names what f breaks.
func violation(f frame, unmasked bool, rule string) func(e *env) {
	return func(e *env) {
		accept, ch := probes(nil, false)
		c := e.dial(e.serve(accept, nil))
		p := e.next(ch)
		c.writeFrame(f, unmasked)
		e.closeAndReply(c, 1002, rule)
		e.wantReason(p, websock.KindError, websock.CloseProtocolError, websock.ErrProtocol, "protocol error")
	}
}

func protocolNewMessageInFragment(e *env) {
	accept, ch := probes(nil, false)
	c := e.dial(e.serve(accept, nil))
	p := e.next(ch)
	c.writeFrame(frame{op: opText, payload: []byte("one")}, false)
	c.writeFrame(frame{fin: true, op: opText, payload: []byte("two")}, false)
	e.closeAndReply(c, 1002, "RFC 6455 section 5.4: a new message may not start inside a fragmented one")
	e.wantReason(p, websock.KindError, websock.CloseProtocolError, websock.ErrProtocol, "protocol error")
}

func skipUTF8Validation(e *env) {
	accept, _ := probes(nil, false)
	c := e.dial(e.serve(accept, &adapters.Options{SkipUTF8Validation: true}))
	c.send(opText, []byte("raw \xff bytes"))
	e.wantMessage(c, opText, "raw \xff bytes")
}
