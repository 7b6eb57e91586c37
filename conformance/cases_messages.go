package conformance

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/websock-go/websock/adapters"
	"github.com/websock-go/websock/websock"
)

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
	if req.RemoteAddr != c.nc.LocalAddr().String() {
		e.Errorf("Request.RemoteAddr = %q; want the client's address, %s", req.RemoteAddr, c.nc.LocalAddr())
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

// stopOn makes a probe setup whose HandleIn returns r.
func stopOn(r websock.Result) func(p *probe) {
	return func(p *probe) { p.in = func(*probe, websock.Frame) websock.Result { return r } }
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

func (terminatePanicker) Init(websock.Conn) websock.Result { return websock.OK() }

func (terminatePanicker) HandleIn(f websock.Frame) websock.Result { return websock.Push(f) }

func (terminatePanicker) HandleInfo(any) websock.Result { return websock.OK() }

func (t terminatePanicker) Terminate(websock.Reason) { close(t.done); panic("boom in Terminate") }
