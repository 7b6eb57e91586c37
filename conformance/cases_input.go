package conformance

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
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

func protocolCloseCodeInvalid(e *env) {
	e.eachCloseCode([]uint16{999, 1004, 1005, 1006, 1015, 1016, 2999, 5000}, func(sub *env, c *client, p *probe, code uint16) {
		c.sendClose(code, "")
		sub.closeAndReply(c, 1002, "RFC 6455 section 7.4: a received close code that may not be sent is a protocol error")
		sub.wantReason(p, websock.KindError, websock.CloseProtocolError, websock.ErrProtocol, "invalid close code")
	})
}

// eachCloseCode runs check in a subtest named after each code, on a fresh
// connection and probe.
func (e *env) eachCloseCode(codes []uint16, check func(sub *env, c *client, p *probe, code uint16)) {
	for _, code := range codes {
		e.Run(fmt.Sprint(code), func(t *testing.T) {
			sub := &env{T: t, adapter: e.adapter}
			accept, ch := probes(nil, false)
			c := sub.dial(sub.serve(accept, nil))
			check(sub, c, sub.next(ch), code)
		})
	}
}

func connectionDropped(e *env) {
	accept, ch := probes(nil, false)
	c := e.dial(e.serve(accept, nil))
	p := e.next(ch)
	c.sendText("hi")
	e.wantMessage(c, opText, "hi")
	c.close()
	e.wantReason(p, websock.KindError, websock.CloseAbnormal, websock.ErrConnectionLost, "a dropped connection terminates Error(ErrConnectionLost)")
}

func connectionDroppedMidMessage(e *env) {
	accept, ch := probes(nil, false)
	c := e.dial(e.serve(accept, nil))
	p := e.next(ch)
	// A header promising 1000 bytes, then only 10 of them.
	c.nc.Write([]byte{0x82, 0x80 | 126, 0x03, 0xe8, 1, 2, 3, 4})
	c.nc.Write(make([]byte, 10))
	time.Sleep(50 * time.Millisecond)
	c.close()
	e.wantReason(p, websock.KindError, websock.CloseAbnormal, websock.ErrConnectionLost, "a peer vanishing mid-message")
}

func idleTimeout(e *env) {
	accept, ch := probes(nil, false)
	c := e.dial(e.serve(accept, &adapters.Options{IdleTimeout: 300 * time.Millisecond}))
	p := e.next(ch)
	cf := e.closeAndReply(c, 1001, "idle timeout closes 1001")
	_ = cf
	e.wantReason(p, websock.KindTimeout, websock.CloseGoingAway, websock.ErrIdleTimeout, "idle timeout terminates Timeout")
}

func activityKeepsAlive(e *env) {
	accept, ch := probes(nil, false)
	c := e.dial(e.serve(accept, &adapters.Options{IdleTimeout: 400 * time.Millisecond}))
	p := e.next(ch)
	for i := 0; i < 8; i++ { // 8 x 100ms: twice the idle timeout, never idle for long
		c.sendText("tick")
		e.wantMessage(c, opText, "tick")
		time.Sleep(100 * time.Millisecond)
	}
	select {
	case r := <-p.reasons:
		e.Fatalf("the connection ended (%v) although it was never idle for the idle timeout", r)
	default:
	}
	e.closeAndReply(c, 1001, "then, idle, it times out")
}

func slowConsumer(e *env) {
	chunk := make([]byte, 256<<10)
	accept, ch := probes(func(p *probe) {
		p.in = func(p *probe, f websock.Frame) websock.Result {
			if string(f.Data) != "flood me" {
				return websock.Push(f)
			}
			p.conn.Send(0)
			return websock.OK()
		}
		p.info = func(p *probe, msg any) websock.Result {
			if n := msg.(int); n < 2000 { // at most 500 MiB: bounded even if writes never block
				p.conn.Send(n + 1)
			}
			return websock.Push(websock.Binary(chunk))
		}
	}, false)
	srv := e.serve(accept, &adapters.Options{WriteTimeout: 300 * time.Millisecond})
	c := e.dial(srv)
	p := e.next(ch)
	c.sendText("flood me") // and never read again
	e.wantReason(p, websock.KindError, websock.CloseAbnormal, websock.ErrWriteFailed, "a client that stops reading is ended by the write timeout")
	// Others are unaffected.
	c2 := e.dial(srv)
	c2.sendText("fine")
	e.wantMessage(c2, opText, "fine")
}

func shutdown(e *env) {
	accept, ch := probes(nil, false)
	opts := &adapters.Options{Logger: quiet, CloseTimeout: 2 * time.Second}
	srv, err := e.adapter.Serve(accept, opts)
	if err != nil {
		e.Fatalf("starting adapter: %v", err)
	}
	var clients []*client
	var ps []*probe
	for i := 0; i < 3; i++ {
		c := e.dial(srv)
		clients = append(clients, c)
		ps = append(ps, e.next(ch))
		c.sendText("hello")
		e.wantMessage(c, opText, "hello")
	}
	errc := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		errc <- srv.Shutdown(ctx)
	}()
	for _, c := range clients {
		e.closeAndReply(c, 1001, "Shutdown closes every connection with 1001")
	}
	select {
	case err := <-errc:
		if err != nil {
			e.Errorf("Shutdown: %v; want nil after every client answered the close", err)
		}
	case <-time.After(15 * time.Second):
		e.Fatal("Shutdown did not return within 15s")
	}
	for _, p := range ps {
		e.wantReason(p, websock.KindShutdown, websock.CloseGoingAway, websock.ErrShutdown, "Shutdown terminates Shutdown")
	}
	if c, _, err := dial(srv.URL, nil); err == nil {
		c.close()
		e.Errorf("a new connection was accepted after Shutdown")
	}
}

func sendFromGoroutines(e *env) {
	const senders, each = 100, 20
	got := make(chan []int, 1)
	accept, _ := probes(func(p *probe) {
		next := make([]int, senders)
		count := 0
		p.init = func(p *probe) websock.Result {
			for g := 0; g < senders; g++ {
				go func() {
					for i := 0; i < each; i++ {
						for p.conn.Send([2]int{g, i}) == websock.ErrMailboxFull {
							time.Sleep(time.Millisecond)
						}
					}
				}()
			}
			return websock.OK()
		}
		p.info = func(_ *probe, msg any) websock.Result {
			m := msg.([2]int)
			if m[1] != next[m[0]] {
				return websock.Stop(fmt.Errorf("goroutine %d: got message %d, want %d (rule: HandleInfo sees one sender's messages in order)", m[0], m[1], next[m[0]]))
			}
			next[m[0]]++
			if count++; count == senders*each {
				got <- next
				return websock.Push(websock.TextString("all in order"))
			}
			return websock.OK()
		}
	}, false)
	c := e.dial(e.serve(accept, nil))
	op, data, err := c.readMessage(20*time.Second, nil)
	if err != nil || op != opText || string(data) != "all in order" {
		e.Fatalf("got %v %q %v; want every Send delivered to HandleInfo in order", op, data, err)
	}
}

func sendInterleaved(e *env) {
	const n = 300
	accept, _ := probes(func(p *probe) {
		var ins, infos int
		p.init = func(p *probe) websock.Result {
			go func() {
				for i := 0; i < n; i++ {
					for p.conn.Send(i) == websock.ErrMailboxFull {
						time.Sleep(time.Millisecond)
					}
				}
			}()
			return websock.OK()
		}
		p.in = func(_ *probe, f websock.Frame) websock.Result {
			ins++
			return websock.Push(websock.TextString(fmt.Sprintf("in %d %d", ins, infos)))
		}
		p.info = func(_ *probe, msg any) websock.Result {
			if msg.(int) != infos {
				return websock.Stop(fmt.Errorf("HandleInfo got %v, want %d", msg, infos))
			}
			infos++
			if infos == n {
				return websock.Push(websock.TextString("infos done"))
			}
			return websock.OK()
		}
	}, false)
	c := e.dial(e.serve(accept, nil))
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < n; i++ {
			if c.sendText("m") != nil {
				return
			}
		}
	}()
	ins, done := 0, false
	for ins < n || !done {
		op, data, err := c.readMessage(20*time.Second, nil)
		if err != nil || op != opText {
			e.Fatalf("after %d echoes: %v %q %v", ins, op, data, err)
		}
		if string(data) == "infos done" {
			done = true
			continue
		}
		ins++
		if !strings.HasPrefix(string(data), fmt.Sprintf("in %d ", ins)) {
			e.Fatalf("got %q; want HandleIn number %d", data, ins)
		}
	}
	wg.Wait()
}

func sendAfterEnd(e *env) {
	accept, ch := probes(nil, false)
	c := e.dial(e.serve(accept, nil))
	p := e.next(ch)
	c.sendClose(1000, "")
	e.wantClose(c, 1000, "echo")
	e.reason(p)
	if err := p.conn.Send("late"); !errors.Is(err, websock.ErrClosed) {
		e.Errorf("Send after Terminate = %v; want ErrClosed", err)
	}
}

func mailboxFull(e *env) {
	release := make(chan struct{})
	results := make(chan []error, 1)
	accept, ch := probes(func(p *probe) {
		p.in = func(p *probe, _ websock.Frame) websock.Result {
			p.conn.Send("block")
			go func() {
				time.Sleep(100 * time.Millisecond) // let HandleInfo("block") start
				var errs []error
				for i := 0; i < 8; i++ {
					errs = append(errs, p.conn.Send(i))
				}
				results <- errs
				close(release)
			}()
			return websock.OK()
		}
		p.info = func(_ *probe, msg any) websock.Result {
			if msg == "block" {
				<-release
			}
			return websock.OK()
		}
	}, false)
	c := e.dial(e.serve(accept, &adapters.Options{MailboxSize: 4}))
	e.next(ch)
	c.sendText("go")
	var errs []error
	select {
	case errs = <-results:
	case <-time.After(10 * time.Second):
		e.Fatal("Send blocked (rule: Send never blocks)")
	}
	for i, err := range errs {
		want := error(nil)
		if i >= 4 {
			want = websock.ErrMailboxFull
		}
		if !errors.Is(err, want) && !(want == nil && err == nil) {
			e.Errorf("Send %d with a mailbox of 4 = %v; want %v", i, err, want)
		}
	}
}

func badInputIsolated(e *env) {
	accept, _ := probes(nil, false)
	srv := e.serve(accept, nil)
	good := e.dial(srv)
	for i, bad := range []frame{
		{fin: true, op: 0x3},
		{fin: true, op: opText, payload: []byte{0xff}},
		{fin: true, op: opCont, payload: []byte("x")},
	} {
		c := e.dial(srv)
		c.writeFrame(bad, false)
		if _, err := c.expectClose(10 * time.Second); err != nil {
			e.Errorf("bad input %d: %v", i, err)
		}
		good.sendText("still fine")
		e.wantMessage(good, opText, "still fine")
	}
}

func manyConnections(e *env) {
	const n = 500
	accept, _ := probes(nil, false)
	srv := e.serve(accept, nil)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, _, err := dial(srv.URL, nil)
			if err != nil {
				errs <- err
				return
			}
			defer c.close()
			msg := fmt.Sprintf("conn %d", i)
			c.sendText(msg)
			op, data, err := c.readMessage(20*time.Second, nil)
			if err != nil || op != opText || string(data) != msg {
				errs <- fmt.Errorf("conn %d: %v %q %v", i, op, data, err)
				return
			}
			c.sendClose(1000, "")
			if _, err := c.expectClose(20 * time.Second); err != nil {
				errs <- fmt.Errorf("conn %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	failed := 0
	for err := range errs {
		if failed++; failed <= 5 {
			e.Errorf("%v", err)
		}
	}
	if failed > 0 {
		e.Errorf("%d of %d concurrent connections failed", failed, n)
	}
}
