package conformance

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/websock-go/websock/adapters"
	"github.com/websock-go/websock/websock"
)

// cases is the suite, in the order it runs. Names are stable: tools and
// adapters refer to them.
var cases = []testCase{
	{name: "EchoText", run: echoText},
	{name: "EchoBinary", run: echoBinary},
	{name: "EchoEmpty", run: echoEmpty},
	{name: "InitPush", run: initPush},
	{name: "PushSeveral", run: pushSeveral},
	{name: "ConnInfo", run: connInfo},
	{name: "UpgradeRefused", run: upgradeRefused},
	{name: "UpgradeHookError", run: upgradeHookError},
	{name: "NotAnUpgrade", run: notAnUpgrade},
	{name: "StopNormal", run: stopNormal},
	{name: "StopError", run: stopError},
	{name: "StopRestart", run: stopRestart},
	{name: "StopCode", run: stopCode},
	{name: "StopAfterFrames", run: stopAfterFrames},
	{name: "StopInvalidCode", run: stopInvalidCode},
	{name: "StopFromInit", run: stopFromInit},
	{name: "StopFromInfo", run: stopFromInfo},
	{name: "RemoteClose", run: remoteClose},
	{name: "RemoteCloseNoStatus", run: remoteCloseNoStatus},
	{name: "RemoteCloseCodes", run: remoteCloseCodes(1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 3000, 3999, 4000, 4999)},
	{name: "RemoteCloseCode1014", run: remoteCloseCodes(1014)},
	{name: "PanicInInit", run: panicIn("Init")},
	{name: "PanicInHandleIn", run: panicIn("HandleIn")},
	{name: "PanicInHandleInfo", run: panicIn("HandleInfo")},
	{name: "PanicInTerminate", run: panicInTerminate},
	{name: "PingAnswered", run: pingAnswered},
	{name: "HandleControlPing", feature: adapters.FeatureHandleControl, run: handleControlPing},
	{name: "HandleControlPong", feature: adapters.FeatureHandleControl, run: handleControlPong},
	{name: "Fragmented", run: fragmented},
	{name: "LargeMessage", run: largeMessage},
	{name: "InvalidUTF8", run: invalidUTF8},
	{name: "UTF8SplitAcrossFragments", run: utf8Split},
	{name: "InvalidUTF8Fragmented", run: invalidUTF8Fragmented},
	{name: "MessageTooBig", run: messageTooBig},
	{name: "MessageTooBigFragmented", run: messageTooBigFragmented},
	{name: "ProtocolReservedOpcode", run: protocolError(frame{fin: true, op: 0x3, payload: []byte("x")}, false)},
	{name: "ProtocolReservedControlOpcode", run: protocolError(frame{fin: true, op: 0xB}, false)},
	{name: "ProtocolRSVBits", run: protocolError(frame{fin: true, rsv: 0x2, op: opText, payload: []byte("x")}, false)},
	{name: "ProtocolUnmaskedFrame", run: protocolError(frame{fin: true, op: opText, payload: []byte("x")}, true)},
	{name: "ProtocolControlTooLong", run: protocolError(frame{fin: true, op: opPing, payload: make([]byte, 126)}, false)},
	{name: "ProtocolFragmentedControl", run: protocolError(frame{fin: false, op: opPing, payload: []byte("x")}, false)},
	{name: "ProtocolContinuationWithoutStart", run: protocolError(frame{fin: true, op: opCont, payload: []byte("x")}, false)},
	{name: "ProtocolNewMessageInFragment", run: protocolNewMessageInFragment},
	{name: "ProtocolCloseCodeInvalid", run: protocolCloseCodeInvalid},
	{name: "ProtocolCloseReasonInvalidUTF8", run: violation(frame{fin: true, op: opClose, payload: []byte{0x03, 0xe8, 'o', 'k', 0xff, 0xfe}}, false,
		"RFC 6455 section 7.1.6: a close reason that is not UTF-8 fails the connection (1002 on every adapter)")},
	{name: "ProtocolCloseOneBytePayload", run: protocolError(frame{fin: true, op: opClose, payload: []byte{0x03}}, false)},
	{name: "ConnectionDropped", run: connectionDropped},
	{name: "ConnectionDroppedMidMessage", run: connectionDroppedMidMessage},
	{name: "IdleTimeout", run: idleTimeout},
	{name: "ActivityKeepsAlive", run: activityKeepsAlive},
	{name: "SlowConsumer", run: slowConsumer},
	{name: "Shutdown", run: shutdown},
	{name: "SendFromGoroutines", run: sendFromGoroutines},
	{name: "SendInterleavedWithHandleIn", run: sendInterleaved},
	{name: "SendAfterEnd", run: sendAfterEnd},
	{name: "MailboxFull", run: mailboxFull},
	{name: "BadInputIsolated", run: badInputIsolated},
	{name: "ManyConnections", run: manyConnections},
	{name: "AcceptSeesRequest", run: acceptSeesRequest},
	{name: "AbandonOnShutdown", run: abandonOnShutdown},
	{name: "ShutdownDeadline", run: shutdownDeadline},
	{name: "Restart", run: restart},
}

func echoText(e *env) {
	accept, ch := probes(nil, false)
	c := e.dial(e.serve(accept, nil))
	p := e.next(ch)
	for _, s := range []string{"hello", "héllo wörld ✓", strings.Repeat("x", 70000)} {
		c.sendText(s)
		e.wantMessage(c, opText, s)
	}
	c.sendClose(1000, "")
	e.wantClose(c, 1000, "RFC 6455 section 5.5.1: the peer's close code is echoed")
	e.wantReason(p, websock.KindRemote, websock.CloseNormal, nil, "peer close")
}

func echoBinary(e *env) {
	accept, _ := probes(nil, false)
	c := e.dial(e.serve(accept, nil))
	data := []byte{0, 1, 2, 0xff, 0xfe, 0x80}
	c.send(opBinary, data)
	e.wantMessage(c, opBinary, string(data))
}

func echoEmpty(e *env) {
	accept, _ := probes(nil, false)
	c := e.dial(e.serve(accept, nil))
	c.sendText("")
	e.wantMessage(c, opText, "")
	c.send(opBinary, nil)
	e.wantMessage(c, opBinary, "")
}

func initPush(e *env) {
	accept, _ := probes(func(p *probe) {
		p.init = func(*probe) websock.Result { return websock.Push(websock.TextString("welcome")) }
	}, false)
	c := e.dial(e.serve(accept, nil))
	c.sendText("first")
	e.wantMessage(c, opText, "welcome") // rule: frames from Init go out before any HandleIn
	e.wantMessage(c, opText, "first")
}

func pushSeveral(e *env) {
	accept, _ := probes(func(p *probe) {
		p.in = func(_ *probe, f websock.Frame) websock.Result {
			return websock.Push(websock.TextString("a"), websock.Binary([]byte("b")), websock.TextString("c"))
		}
	}, false)
	c := e.dial(e.serve(accept, nil))
	c.sendText("go")
	e.wantMessage(c, opText, "a")
	e.wantMessage(c, opBinary, "b")
	e.wantMessage(c, opText, "c")
}

func connInfo(e *env) {
	var req *websock.Request
	infos := make(chan *websock.ConnInfo, 1)
	accept := func(r *websock.Request) (websock.Handler, error) {
		req = r
		p := newProbe()
		p.init = func(p *probe) websock.Result { infos <- p.conn.Info(); return websock.OK() }
		return p, nil
	}
	srv := e.serve(accept, &adapters.Options{Subprotocols: []string{"chat.v2", "chat.v1"}})
	c, resp, err := dial(srv.URL+"room/7?user=ana", http.Header{
		"X-Conformance":          {"yes"},
		"Sec-WebSocket-Protocol": {"chat.v1, chat.v2"},
	})
	if err != nil {
		e.Fatalf("dial: %v", err)
	}
	defer c.close()
	var info *websock.ConnInfo
	select {
	case info = <-infos:
	case <-time.After(10 * time.Second):
		e.Fatal("Init was not called within 10s")
	}
	if req.URL.Path != "/room/7" || req.URL.Query().Get("user") != "ana" {
		e.Errorf("Request.URL = %v; want path /room/7 and query user=ana", req.URL)
	}
	if got := req.Header.Get("X-Conformance"); got != "yes" {
		e.Errorf("Request.Header X-Conformance = %q; want yes", got)
	}
	if strings.Join(req.Subprotocols, ",") != "chat.v1,chat.v2" {
		e.Errorf("Request.Subprotocols = %q; want [chat.v1 chat.v2] in the client's order", req.Subprotocols)
	}
	if host, _, err := net.SplitHostPort(req.RemoteAddr); err != nil || host != "127.0.0.1" {
		e.Errorf("Request.RemoteAddr = %q; want 127.0.0.1:port", req.RemoteAddr)
	}
	if info.Subprotocol != "chat.v2" || resp.Header.Get("Sec-WebSocket-Protocol") != "chat.v2" {
		e.Errorf("subprotocol: ConnInfo %q, response header %q; want chat.v2, the server's first preference the client offered",
			info.Subprotocol, resp.Header.Get("Sec-WebSocket-Protocol"))
	}
	if info.URL == nil || info.URL.Path != "/room/7" || info.Header.Get("X-Conformance") != "yes" || info.RemoteAddr != req.RemoteAddr {
		e.Errorf("ConnInfo = %+v; want the upgrade request's URL, headers and remote address", info)
	}
	if info.Adapter == "" {
		e.Errorf("ConnInfo.Adapter is empty; want the adapter's name")
	}
}

func upgradeRefused(e *env) {
	created := 0
	accept := func(r *websock.Request) (websock.Handler, error) {
		if r.URL.Query().Get("token") != "good" {
			return nil, websock.Refuse(http.StatusUnauthorized, "missing or bad token")
		}
		created++
		return newProbe(), nil
	}
	srv := e.serve(accept, nil)
	_, resp, err := dial(srv.URL+"?token=bad", nil)
	if err == nil || resp == nil {
		e.Fatalf("dial with a bad token: err %v; want the upgrade refused with 401", err)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(string(body), "missing or bad token") {
		e.Errorf("refused upgrade answered %d %q; want 401 with the hook's body", resp.StatusCode, body)
	}
	if created != 0 {
		e.Errorf("a handler was created for a refused upgrade")
	}
	c, _, err := dial(srv.URL+"?token=good", nil)
	if err != nil {
		e.Fatalf("dial with a good token: %v", err)
	}
	c.close()
}

func upgradeHookError(e *env) {
	accept := func(r *websock.Request) (websock.Handler, error) {
		if r.URL.Query().Has("panic") {
			panic("hook panicked")
		}
		return nil, errors.New("database unavailable: secret detail")
	}
	srv := e.serve(accept, nil)
	for _, q := range []string{"", "?panic"} {
		_, resp, err := dial(srv.URL+q, nil)
		if err == nil || resp == nil {
			e.Fatalf("dial: err %v; want the upgrade refused with 500", err)
		}
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusInternalServerError {
			e.Errorf("hook failure%s answered %d; want 500", q, resp.StatusCode)
		}
		if strings.Contains(string(body), "secret") {
			e.Errorf("hook error text leaked to the client: %q", body)
		}
	}
}

func notAnUpgrade(e *env) {
	accept, _ := probes(nil, false)
	srv := e.serve(accept, nil)
	resp, err := http.Get("http" + strings.TrimPrefix(srv.URL, "ws"))
	if err != nil {
		e.Fatalf("plain GET: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode < 400 || resp.StatusCode >= 500 {
		e.Errorf("plain GET answered %d; want a 4xx refusal (RFC 6455 section 4.2.1)", resp.StatusCode)
	}
}

// stopOn makes a probe setup whose HandleIn returns r.
func stopOn(r websock.Result) func(p *probe) {
	return func(p *probe) { p.in = func(*probe, websock.Frame) websock.Result { return r } }
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

func stopNormal(e *env) {
	accept, ch := probes(stopOn(websock.Stop(nil)), false)
	c := e.dial(e.serve(accept, nil))
	p := e.next(ch)
	c.sendText("stop")
	e.closeAndReply(c, 1000, "Stop(nil) closes 1000")
	e.wantReason(p, websock.KindNormal, websock.CloseNormal, nil, "Stop(nil) terminates Normal")
}

var errHandler = errors.New("conformance: handler error")

func stopError(e *env) {
	accept, ch := probes(stopOn(websock.Stop(fmt.Errorf("wrapped: %w", errHandler))), false)
	c := e.dial(e.serve(accept, nil))
	p := e.next(ch)
	c.sendText("stop")
	e.closeAndReply(c, 1011, "Stop(err) closes 1011")
	e.wantReason(p, websock.KindError, websock.CloseInternalError, errHandler, "Stop(err) terminates Error(err)")
}

func stopRestart(e *env) {
	accept, ch := probes(stopOn(websock.Stop(websock.ErrRestart)), false)
	c := e.dial(e.serve(accept, nil))
	p := e.next(ch)
	c.sendText("stop")
	e.closeAndReply(c, 1012, "Stop(ErrRestart) closes 1012")
	e.wantReason(p, websock.KindShutdown, websock.CloseServiceRestart, websock.ErrRestart, "Stop(ErrRestart) terminates Shutdown")
}

func stopCode(e *env) {
	accept, ch := probes(stopOn(websock.StopCode(nil, 4001, "bye now")), false)
	c := e.dial(e.serve(accept, nil))
	p := e.next(ch)
	c.sendText("stop")
	cf := e.closeAndReply(c, 4001, "StopCode closes with the given code")
	if cf.text != "bye now" {
		e.Errorf("close reason %q; want %q", cf.text, "bye now")
	}
	r := e.wantReason(p, websock.KindNormal, 4001, nil, "StopCode(nil, ...) terminates Normal with the code")
	if r.Text != "bye now" {
		e.Errorf("Reason.Text %q; want %q", r.Text, "bye now")
	}
}

func stopAfterFrames(e *env) {
	accept, ch := probes(stopOn(websock.StopAfter(nil, 4002, "done",
		websock.TextString("last words"), websock.Binary([]byte{1}))), false)
	c := e.dial(e.serve(accept, nil))
	p := e.next(ch)
	c.sendText("stop")
	e.wantMessage(c, opText, "last words")
	e.wantMessage(c, opBinary, "\x01")
	e.closeAndReply(c, 4002, "StopAfter writes the frames, then closes")
	e.wantReason(p, websock.KindNormal, 4002, nil, "StopAfter terminates like StopCode")
}

func stopInvalidCode(e *env) {
	accept, ch := probes(stopOn(websock.StopCode(nil, 1005, "")), false)
	c := e.dial(e.serve(accept, nil))
	p := e.next(ch)
	c.sendText("stop")
	e.closeAndReply(c, 1011, "an unsendable close code becomes 1011")
	e.wantReason(p, websock.KindError, websock.CloseInternalError, websock.ErrInvalidCloseCode, "unsendable code")
}

func stopFromInit(e *env) {
	accept, ch := probes(func(p *probe) {
		p.init = func(*probe) websock.Result { return websock.StopCode(nil, 4003, "not today") }
	}, false)
	c := e.dial(e.serve(accept, nil))
	p := e.next(ch)
	e.closeAndReply(c, 4003, "Init may stop")
	e.wantReason(p, websock.KindNormal, 4003, nil, "Init stop")
}

func stopFromInfo(e *env) {
	accept, ch := probes(func(p *probe) {
		p.in = func(p *probe, f websock.Frame) websock.Result {
			if err := p.conn.Send("stop"); err != nil {
				return websock.Stop(err)
			}
			return websock.OK()
		}
		p.info = func(*probe, any) websock.Result { return websock.Stop(nil) }
	}, false)
	c := e.dial(e.serve(accept, nil))
	p := e.next(ch)
	c.sendText("go")
	e.closeAndReply(c, 1000, "HandleInfo may stop")
	e.wantReason(p, websock.KindNormal, websock.CloseNormal, nil, "HandleInfo stop")
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

func panicIn(callback string) func(e *env) {
	return func(e *env) {
		accept, ch := probes(func(p *probe) {
			switch callback {
			case "Init":
				p.init = func(*probe) websock.Result { panic("boom in Init") }
			case "HandleIn":
				p.in = func(*probe, websock.Frame) websock.Result { panic(errHandler) }
			case "HandleInfo":
				p.in = func(p *probe, _ websock.Frame) websock.Result { p.conn.Send(1); return websock.OK() }
				p.info = func(*probe, any) websock.Result { panic("boom in HandleInfo") }
			}
		}, false)
		c := e.dial(e.serve(accept, nil))
		p := e.next(ch)
		if callback != "Init" {
			c.sendText("go")
		}
		e.closeAndReply(c, 1011, "a panicking handler closes 1011")
		r := e.wantReason(p, websock.KindError, websock.CloseInternalError, nil, "panic")
		var pe *websock.PanicError
		if !errors.As(r, &pe) || pe.Callback != callback || len(pe.Stack) == 0 {
			e.Errorf("Reason %v; want a *websock.PanicError for %s with a stack", r, callback)
		}
		if callback == "HandleIn" && !errors.Is(r, errHandler) {
			e.Errorf("Reason %v: a panic with an error value should unwrap to it", r)
		}
	}
}

func panicInTerminate(e *env) {
	done := make(chan struct{}, 2)
	accept := func(*websock.Request) (websock.Handler, error) {
		return terminatePanicker{done}, nil
	}
	srv := e.serve(accept, nil)
	c := e.dial(srv)
	c.sendClose(1000, "")
	e.wantClose(c, 1000, "echo")
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		e.Fatal("Terminate was not called")
	}
	// The server must still serve.
	c2 := e.dial(srv)
	c2.sendText("still here")
	e.wantMessage(c2, opText, "still here")
}

type terminatePanicker struct{ done chan struct{} }

func (terminatePanicker) Init(websock.Conn) websock.Result        { return websock.OK() }
func (terminatePanicker) HandleIn(f websock.Frame) websock.Result { return websock.Push(f) }
func (terminatePanicker) HandleInfo(any) websock.Result           { return websock.OK() }
func (t terminatePanicker) Terminate(websock.Reason)              { close(t.done); panic("boom in Terminate") }
