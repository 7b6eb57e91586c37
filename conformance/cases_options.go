package conformance

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/websock-go/websock/adapters"
	"github.com/websock-go/websock/websock"
)

// The cases of the options every adapter takes, registered after the
// lifecycle cases.
func init() {
	cases = append(cases, []testCase{
		{name: "OriginSameOriginByDefault", run: originSameOrigin},
		{name: "OriginAllowedList", run: originAllowedList},
		{name: "OriginCheckFunc", run: originCheckFunc},
		{name: "SubprotocolRequired", run: subprotocolRequired},
		{name: "SubprotocolOptional", run: subprotocolOptional},
		{name: "SkipUTF8Validation", run: skipUTF8Validation},
		{name: "MailboxFullCloses", run: mailboxFullCloses},
		{name: "KeepalivePing", feature: adapters.FeatureKeepalive, run: keepalivePing},
		{name: "CompressionOffByDefault", run: compressionOffByDefault},
		{name: "CompressionNegotiated", feature: adapters.FeatureCompression, run: compressionNegotiated},
		{name: "CompressionBomb", feature: adapters.FeatureCompression, run: compressionBomb},
		{name: "UnsupportedOptionRefused", run: unsupportedOptionRefused},
	}...)
}

// wantRefused dials with header and checks the upgrade is refused with
// status and a body containing want.
func (e *env) wantRefused(srv *Server, header http.Header, status int, want, rule string) {
	e.Helper()
	c, resp, err := dial(srv.URL, header)
	if err == nil {
		c.close()
		e.Errorf("upgrade with %v succeeded; want %d (%s)", header, status, rule)
		return
	}
	if resp == nil {
		e.Errorf("upgrade with %v: %v; want an HTTP %d answer (%s)", header, err, status, rule)
		return
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != status || !strings.Contains(string(body), want) {
		e.Errorf("upgrade with %v answered %d %q; want %d with a body mentioning %q (%s)", header, resp.StatusCode, body, status, want, rule)
	}
}

func (e *env) wantAccepted(srv *Server, header http.Header, rule string) *client {
	e.Helper()
	c, resp, err := dial(srv.URL, header)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		e.Errorf("upgrade with %v refused (%d, %v); want it accepted (%s)", header, status, err, rule)
		return nil
	}
	e.Cleanup(c.close)
	return c
}

func originSameOrigin(e *env) {
	created := 0
	accept := func(*websock.Request) (websock.Handler, error) { created++; return newProbe(), nil }
	srv := e.serve(accept, nil)
	host := strings.TrimSuffix(strings.TrimPrefix(srv.URL, "ws://"), "/")
	e.wantAccepted(srv, nil, "a request with no Origin is not from a browser and is allowed")
	e.wantAccepted(srv, http.Header{"Origin": {"http://" + host}}, "a same-origin request is allowed")
	before := created
	e.wantRefused(srv, http.Header{"Origin": {"https://evil.example"}}, http.StatusForbidden, "evil.example",
		"by default a cross-origin request is refused with 403 (Phoenix check_origin)")
	if created != before {
		e.Errorf("the handler was created for a refused origin")
	}
}

func originAllowedList(e *env) {
	accept, _ := probes(nil, false)
	srv := e.serve(accept, &adapters.Options{AllowedOrigins: []string{"https://*.example.com", "https://app.test"}})
	for _, o := range []string{"https://a.example.com", "https://b.c.example.com", "https://app.test"} {
		e.wantAccepted(srv, http.Header{"Origin": {o}}, "origin "+o+" is in AllowedOrigins")
	}
	for _, o := range []string{"https://example.com", "http://app.test", "https://app.test.evil", "https://evilexample.com"} {
		e.wantRefused(srv, http.Header{"Origin": {o}}, http.StatusForbidden, o, "origin "+o+" is not in AllowedOrigins")
	}
}

func originCheckFunc(e *env) {
	accept, _ := probes(nil, false)
	srv := e.serve(accept, &adapters.Options{CheckOrigin: func(r *websock.Request) bool {
		return r.Header.Get("Origin") == "https://trusted.test"
	}})
	e.wantAccepted(srv, http.Header{"Origin": {"https://trusted.test"}}, "CheckOrigin allows it")
	e.wantRefused(srv, http.Header{"Origin": {"https://other.test"}}, http.StatusForbidden, "other.test", "CheckOrigin refuses it")
}

func subprotocolRequired(e *env) {
	accept, _ := probes(nil, false)
	srv := e.serve(accept, &adapters.Options{Subprotocols: []string{"v2", "v1"}, RequireSubprotocol: true})
	e.wantRefused(srv, http.Header{"Sec-WebSocket-Protocol": {"v9"}}, http.StatusBadRequest, "v9",
		"a client offering none of the required subprotocols is refused with 400")
	e.wantRefused(srv, nil, http.StatusBadRequest, "v2", "a client offering no subprotocol is refused with 400")
	if c := e.wantAccepted(srv, http.Header{"Sec-WebSocket-Protocol": {"v1"}}, "v1 is spoken"); c != nil {
		if got := c.resp.Header.Get("Sec-WebSocket-Protocol"); got != "v1" {
			e.Errorf("Sec-WebSocket-Protocol answered %q; want v1", got)
		}
	}
}

func subprotocolOptional(e *env) {
	infos := make(chan *websock.ConnInfo, 1)
	accept, _ := probes(func(p *probe) {
		p.init = func(p *probe) websock.Result { infos <- p.conn.Info(); return websock.OK() }
	}, false)
	srv := e.serve(accept, &adapters.Options{Subprotocols: []string{"v1"}})
	c := e.wantAccepted(srv, http.Header{"Sec-WebSocket-Protocol": {"v9"}}, "without RequireSubprotocol the client proceeds")
	if c == nil {
		return
	}
	if got := c.resp.Header.Get("Sec-WebSocket-Protocol"); got != "" {
		e.Errorf("Sec-WebSocket-Protocol answered %q; want none (RFC 6455 section 4.2.2)", got)
	}
	select {
	case info := <-infos:
		if info.Subprotocol != "" {
			e.Errorf("ConnInfo.Subprotocol %q; want empty", info.Subprotocol)
		}
	case <-time.After(10 * time.Second):
		e.Fatal("Init was not called")
	}
}

func skipUTF8Validation(e *env) {
	accept, _ := probes(nil, false)
	c := e.dial(e.serve(accept, &adapters.Options{SkipUTF8Validation: true}))
	c.send(opText, []byte("raw \xff bytes"))
	e.wantMessage(c, opText, "raw \xff bytes")
}

func mailboxFullCloses(e *env) {
	release := make(chan struct{})
	errs := make(chan error, 1)
	accept, ch := probes(func(p *probe) {
		p.in = func(p *probe, _ websock.Frame) websock.Result {
			p.conn.Send("block")
			go func() {
				time.Sleep(100 * time.Millisecond)
				var err error
				for i := 0; i < 5 && err == nil; i++ {
					err = p.conn.Send(i)
				}
				errs <- err
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
	c := e.dial(e.serve(accept, &adapters.Options{MailboxSize: 4, CloseOnMailboxFull: true}))
	p := e.next(ch)
	c.sendText("go")
	select {
	case err := <-errs:
		if !errors.Is(err, websock.ErrMailboxFull) {
			e.Errorf("the fifth Send into a mailbox of 4 = %v; want ErrMailboxFull", err)
		}
	case <-time.After(10 * time.Second):
		e.Fatal("Send blocked (rule: Send never blocks)")
	}
	cf, err := c.expectClose(10 * time.Second)
	if err == nil && cf.code != 1013 {
		e.Errorf("closed with %d; want 1013 (try again later) when a slow consumer's mailbox overflows", cf.code)
	}
	e.wantReason(p, websock.KindError, websock.CloseTryAgainLater, websock.ErrMailboxFull, "CloseOnMailboxFull ends the connection")
}

func keepalivePing(e *env) {
	accept, ch := probes(nil, false)
	c := e.dial(e.serve(accept, &adapters.Options{PingInterval: 100 * time.Millisecond, PongTimeout: 200 * time.Millisecond}))
	p := e.next(ch)
	pings := 0
	for end := time.Now().Add(700 * time.Millisecond); time.Now().Before(end); {
		f, err := c.readFrame(time.Until(end) + 50*time.Millisecond)
		if err != nil {
			break
		}
		if f.op == opPing {
			pings++
			c.send(opPong, f.payload)
		}
	}
	if pings < 2 {
		e.Errorf("got %d keepalive pings in 700ms with PingInterval 100ms; want several", pings)
	}
	select {
	case r := <-p.reasons:
		e.Fatalf("the connection ended (%v) although every ping was answered", r)
	default:
	}
	// Stop answering: the pong timeout ends the connection.
	e.closeAndReply(c, 1001, "a missing pong ends the connection with 1001")
	e.wantReason(p, websock.KindTimeout, websock.CloseGoingAway, websock.ErrPongTimeout, "a missing pong terminates Timeout")
}

func compressionOffByDefault(e *env) {
	infos := make(chan *websock.ConnInfo, 1)
	accept, _ := probes(func(p *probe) {
		p.init = func(p *probe) websock.Result { infos <- p.conn.Info(); return websock.OK() }
	}, false)
	srv := e.serve(accept, nil)
	c := e.wantAccepted(srv, http.Header{"Sec-WebSocket-Extensions": {offerDeflate}}, "offer")
	if c == nil {
		return
	}
	if c.deflate {
		e.Errorf("the server negotiated permessage-deflate with Compression off (default)")
	}
	if info := <-infos; info.Compressed {
		e.Errorf("ConnInfo.Compressed is true with compression off")
	}
	c.sendText("plain")
	e.wantMessage(c, opText, "plain")
}

func compressionNegotiated(e *env) {
	infos := make(chan *websock.ConnInfo, 1)
	accept, _ := probes(func(p *probe) {
		p.init = func(p *probe) websock.Result { infos <- p.conn.Info(); return websock.OK() }
	}, false)
	srv := e.serve(accept, &adapters.Options{Compression: true})
	c := e.wantAccepted(srv, http.Header{"Sec-WebSocket-Extensions": {offerDeflate}}, "offer")
	if c == nil {
		return
	}
	if !c.deflate {
		e.Fatalf("the server did not accept permessage-deflate (response %q) with Compression on",
			c.resp.Header.Get("Sec-WebSocket-Extensions"))
	}
	if info := <-infos; !info.Compressed {
		e.Errorf("ConnInfo.Compressed is false though permessage-deflate was negotiated")
	}
	for i := 0; i < 3; i++ {
		msg := strings.Repeat("compress me, please. ", 500)
		c.writeFrame(frame{fin: true, rsv: 4, op: opText, payload: compress([]byte(msg))}, false)
		e.wantMessage(c, opText, msg)
		c.sendText("uncompressed too")
		e.wantMessage(c, opText, "uncompressed too")
	}
}

func compressionBomb(e *env) {
	accept, ch := probes(nil, false)
	c, _, err := dial(e.serve(accept, &adapters.Options{Compression: true, MaxMessageSize: 64 << 10}).URL,
		http.Header{"Sec-WebSocket-Extensions": {offerDeflate}})
	if err != nil {
		e.Fatalf("dial: %v", err)
	}
	e.Cleanup(c.close)
	p := e.next(ch)
	bomb := compress(bytes.Repeat([]byte{0}, 10<<20)) // ~10 KiB inflating to 10 MiB
	c.writeFrame(frame{fin: true, rsv: 4, op: opBinary, payload: bomb}, false)
	e.closeAndReply(c, 1009, "the decompressed size counts against MaxMessageSize")
	e.wantReason(p, websock.KindError, websock.CloseMessageTooBig, websock.ErrMessageTooBig, "compression bomb")
}

// optionOf maps a feature to the option that asks for it.
var optionOf = map[adapters.Feature]adapters.Options{
	adapters.FeatureCompression: {Compression: true},
	adapters.FeatureKeepalive:   {PingInterval: time.Second},
}

func unsupportedOptionRefused(e *env) {
	checked := 0
	for _, f := range adapters.Features() {
		why := e.adapter.Lacks.Why(f)
		o, ok := optionOf[f]
		if why == "" || !ok {
			continue
		}
		checked++
		accept, _ := probes(nil, false)
		srv, err := e.adapter.Serve(accept, &o)
		if err == nil {
			srv.Shutdown(context.Background())
			e.Errorf("adapter %s declares %s unsupported (%s) but accepted the option; want an error matching adapters.ErrUnsupportedOption", e.adapter.Name, f, why)
			continue
		}
		if !errors.Is(err, adapters.ErrUnsupportedOption) {
			e.Errorf("setting %s on adapter %s: %v; want an error matching adapters.ErrUnsupportedOption", f, e.adapter.Name, err)
		}
	}
	if checked == 0 {
		e.Skipf("adapter %s supports every option; nothing to refuse", e.adapter.Name)
	}
}
