package conformance

import (
	"bytes"
	"encoding/binary"
	"fmt"
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

// appendFrame appends f to b, masked as a client must, so that a case can
// write many frames in one write.
func appendFrame(b []byte, f frame) []byte {
	b0 := f.op&0x0f | (f.rsv&0x7)<<4
	if f.fin {
		b0 |= 0x80
	}
	b = append(b, b0)
	switch n := len(f.payload); {
	case n <= 125:
		b = append(b, 0x80|byte(n))
	case n <= 0xffff:
		b = append(b, 0x80|126, byte(n>>8), byte(n))
	default:
		b = append(b, 0x80|127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	key := [4]byte{0x37, 0xfa, 0x21, 0x3d}
	b = append(b, key[:]...)
	for i, c := range f.payload {
		b = append(b, c^key[i&3])
	}
	return b
}

// writeRaw writes b as it is, within the client's usual write deadline.
func (c *client) writeRaw(b []byte) error {
	c.nc.SetWriteDeadline(time.Now().Add(20 * time.Second))
	_, err := c.nc.Write(b)
	return err
}

func pingsInOrder(e *env) {
	const n = 100
	accept, _ := probes(nil, false)
	c := e.dial(e.serve(accept, nil))
	var batch []byte
	for i := range n {
		batch = appendFrame(batch, frame{fin: true, op: opPing, payload: []byte(fmt.Sprintf("ping %03d", i))})
	}
	batch = appendFrame(batch, frame{fin: true, op: opText, payload: []byte("after the pings")})
	if err := c.writeRaw(batch); err != nil {
		e.Fatalf("writing %d pings: %v", n, err)
	}
	var pongs []string
	op, data, err := c.readMessage(10*time.Second, &pongs)
	if err != nil || op != opText || string(data) != "after the pings" {
		e.Fatalf("echo after %d pings: %v %q %v (after %d pongs)", n, op, data, err, len(pongs))
	}
	if len(pongs) != n {
		e.Fatalf("got %d pongs before the echo; want %d, one per ping (RFC 6455 section 5.5.3)", len(pongs), n)
	}
	for i, p := range pongs {
		if want := fmt.Sprintf("ping %03d", i); p != want {
			e.Fatalf("pong %d has payload %q; want %q: pongs answer pings in the order they came", i, p, want)
		}
	}
}

func fragmentedWithPings(e *env) {
	const size, fragment, every = 4 << 20, 64, 1000
	accept, _ := probes(nil, false)
	c := e.dial(e.serve(accept, nil)) // default maximum: 16 MiB
	msg := bytes.Repeat([]byte("websock fragment"), size/16)
	pings := 0
	var batch []byte
	written := make(chan error, 1)
	batches := make(chan []byte, 4)
	go func() { // write while the case reads, in batches of about 1 MiB
		var err error
		for b := range batches {
			if err == nil {
				err = c.writeRaw(b)
			}
		}
		written <- err
	}()
	for i, off := 0, 0; off < size; i, off = i+1, off+fragment {
		op := opCont
		if i == 0 {
			op = opText
		}
		batch = appendFrame(batch, frame{fin: off+fragment >= size, op: op, payload: msg[off:min(off+fragment, size)]})
		if i%every == every-1 {
			batch = appendFrame(batch, frame{fin: true, op: opPing, payload: []byte(fmt.Sprintf("ping %d", pings))})
			pings++
		}
		if len(batch) >= 1<<20 || off+fragment >= size {
			batches <- batch
			batch = nil
		}
	}
	close(batches)
	var pongs []string
	op, data, err := c.readMessage(60*time.Second, &pongs)
	if werr := <-written; werr != nil {
		e.Fatalf("writing the fragments: %v", werr)
	}
	if err != nil || op != opText || !bytes.Equal(data, msg) {
		e.Fatalf("got %v, %d bytes, %v; want the 4 MiB text message reassembled from %d fragments (RFC 6455 section 5.4)",
			opName(op), len(data), err, size/fragment)
	}
	if len(pongs) != pings {
		e.Fatalf("got %d pongs; want %d, one per ping between the fragments (RFC 6455 section 5.4)", len(pongs), pings)
	}
	for i, p := range pongs {
		if want := fmt.Sprintf("ping %d", i); p != want {
			e.Fatalf("pong %d has payload %q; want %q", i, p, want)
		}
	}
}

// The text of Autobahn's cases 6.4.1 to 6.4.4: valid UTF-8, then a code
// point above U+10FFFF, then more valid UTF-8.
const (
	failFastBefore = "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"
	failFastBad    = "\xf4\x90\x80\x80"
	failFastAfter  = "\x65\x64\x69\x74\x65\x64"
)

// wantFailFast checks that the server closes 1007 within 5s although the
// message is not finished: the client sends nothing more until then.
func (e *env) wantFailFast(c *client, p *probe, sent string) {
	e.Helper()
	cf, err := c.expectClose(5 * time.Second)
	if err != nil {
		e.Fatalf("no close within 5s of %s, with the rest of the message not sent: %v (RFC 6455 section 8.1: "+
			"invalid UTF-8 fails the connection as soon as it is seen, not once the message is whole)", sent, err)
	}
	if cf.code != 1007 {
		e.Errorf("server closed with %d %q; want 1007 (RFC 6455 section 8.1)", cf.code, cf.text)
	}
	c.sendClose(cf.code, "")
	if err := c.expectEOF(5 * time.Second); err != nil {
		e.Errorf("%v (RFC 6455 section 7.1.1: the server closes TCP after the closing handshake)", err)
	}
	c.close()
	e.wantReason(p, websock.KindError, websock.CloseInvalidPayload, websock.ErrInvalidUTF8, "invalid UTF-8")
}

func invalidUTF8FailFast(e *env) {
	accept, ch := probes(nil, false)
	c := e.dial(e.serve(accept, nil))
	p := e.next(ch)
	c.writeFrame(frame{op: opText, payload: []byte(failFastBefore)}, false)
	c.writeFrame(frame{op: opCont, payload: []byte(failFastBad)}, false)
	e.wantFailFast(c, p, "a fragment with invalid UTF-8 in the middle of a text message")
}

func invalidUTF8FailFastMidFrame(e *env) {
	accept, ch := probes(nil, false)
	c := e.dial(e.serve(accept, nil))
	p := e.next(ch)
	b := appendFrame(nil, frame{fin: true, op: opText, payload: []byte(failFastBefore + failFastBad + failFastAfter)})
	head := len(b) - len(failFastBefore+failFastBad+failFastAfter) // the header and the mask
	// The header and the valid text, then the first octet of the bad code
	// point (which could still start a valid one), then the octet that
	// makes it invalid; the rest of the frame is never sent.
	for _, part := range [][]byte{b[:head+len(failFastBefore)], b[head+len(failFastBefore) : head+len(failFastBefore)+1],
		b[head+len(failFastBefore)+1 : head+len(failFastBefore)+2]} {
		if err := c.writeRaw(part); err != nil {
			e.Fatalf("writing the frame in parts: %v", err)
		}
	}
	e.wantFailFast(c, p, "an invalid octet in the middle of a text frame")
}
