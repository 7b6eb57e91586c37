package conformance

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/websock-go/websock/websock"
)

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
		e.sub(fmt.Sprint(code), func(r reporter) {
			sub := e.part(r)
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

// closeAndReply waits for the server's close, answers it, and checks the
// server then closes the TCP connection.
func (e *env) closeAndReply(c *client, code uint16, rule string) *closeFrame {
	e.Helper()
	cf := e.wantClose(c, code, rule)
	c.sendClose(cf.code, "")
	if err := c.expectEOF(5 * time.Second); err != nil {
		e.Errorf("%v (RFC 6455 section 7.1.1: the server closes TCP after the closing handshake)", err)
	}
	c.close()
	return cf
}

// remoteCloseCodes checks that each valid close code a peer sends is
// echoed and reaches Terminate.
func remoteCloseCodes(codes ...uint16) func(e *env) {
	return func(e *env) {
		e.eachCloseCode(codes, func(sub *env, c *client, p *probe, code uint16) {
			c.sendClose(code, "bye")
			sub.wantClose(c, code, "RFC 6455 sections 5.5.1 and 7.4: a valid close code from the peer is echoed")
			sub.wantReason(p, websock.KindRemote, websock.CloseCode(code), nil, "peer close")
		})
	}
}

func remoteClose(e *env) {
	accept, ch := probes(nil, false)
	c := e.dial(e.serve(accept, nil))
	p := e.next(ch)
	c.sendClose(4100, "client done")
	e.wantClose(c, 4100, "RFC 6455 section 5.5.1: the close code is echoed")
	if err := c.expectEOF(5 * time.Second); err != nil {
		e.Errorf("%v (RFC 6455 section 7.1.1)", err)
	}
	r := e.wantReason(p, websock.KindRemote, 4100, nil, "peer close")
	var ce *websock.CloseError
	if !errors.As(r, &ce) || ce.Code != 4100 || ce.Text != "client done" || r.Text != "client done" {
		e.Errorf("Reason %v; want a *websock.CloseError with code 4100 and text %q", r, "client done")
	}
}

func remoteCloseNoStatus(e *env) {
	accept, ch := probes(nil, false)
	c := e.dial(e.serve(accept, nil))
	p := e.next(ch)
	c.sendClose(0, "")
	cf, err := c.expectClose(10 * time.Second)
	if err != nil {
		e.Fatalf("want the close echoed: %v", err)
	}
	if !cf.empty && cf.code != 1000 {
		e.Errorf("server answered an empty close with %d; want an empty close (or 1000)", cf.code)
	}
	e.wantReason(p, websock.KindRemote, websock.CloseNoStatus, nil, "an empty close is Remote with 1005")
}

// pushAfterPeerClose checks that what the handler pushes once the peer's
// close arrived is dropped: a goroutine keeps Sending, and HandleInfo keeps
// pushing, while the client closes. The client may read pushes the server
// wrote before the close reached it, then the close echo, then nothing:
// no frame follows a close frame (RFC 6455 section 5.5.1).
func pushAfterPeerClose(e *env) {
	const most = 20000 // bounded even if the connection never ended
	stopped := make(chan struct{})
	accept, ch := probes(func(p *probe) {
		p.in = func(p *probe, f websock.Frame) websock.Result {
			go func() {
				defer close(stopped)
				for i := 0; i < most; i++ {
					err := p.conn.Send(i)
					for err == websock.ErrMailboxFull {
						time.Sleep(time.Millisecond)
						err = p.conn.Send(i)
					}
					if err != nil {
						return // ErrClosed: the connection ended
					}
				}
			}()
			return websock.OK()
		}
		p.info = func(_ *probe, msg any) websock.Result {
			return websock.Push(websock.TextString(fmt.Sprint("push ", msg)))
		}
	}, false)
	c := e.dial(e.serve(accept, nil))
	p := e.next(ch)
	c.sendText("start")
	for i := 0; i < 10; i++ { // the pushes are flowing
		e.wantMessage(c, opText, fmt.Sprint("push ", i))
	}
	c.sendClose(4100, "enough")
	cf, err := c.expectClose(10 * time.Second)
	if err != nil {
		e.Fatalf("want the close echoed while the handler pushes: %v", err)
	}
	if cf.code != 4100 {
		e.Errorf("server closed with %d %q; want 4100 echoed (RFC 6455 section 5.5.1)", cf.code, cf.text)
	}
	// Nothing may follow the close frame, until the server closes TCP.
	for i := 0; ; i++ {
		f, err := c.readFrame(5 * time.Second)
		if err != nil {
			if !errors.Is(err, io.EOF) && !isReset(err) {
				e.Errorf("after the close frame: %v; want the server to close TCP (RFC 6455 section 7.1.1)", err)
			}
			break
		}
		e.Fatalf("server sent a %s frame (%q) after its close frame; want nothing (RFC 6455 section 5.5.1: "+
			"pushes after the peer's close are dropped)", opName(f.op), short(string(f.payload)))
	}
	c.close()
	e.wantReason(p, websock.KindRemote, 4100, nil, "peer close")
	select {
	case <-stopped:
	case <-time.After(10 * time.Second):
		e.Fatal("Send did not return ErrClosed within 10s of the connection ending")
	}
}
