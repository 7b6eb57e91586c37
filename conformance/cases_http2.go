package conformance

import (
	"net/http"
	"net/url"
	"time"

	"github.com/websock-go/websock/adapters"
	"github.com/websock-go/websock/websock"
)

// http2Only are the cases of what HTTP/2 alone has: several WebSockets on
// one connection, its own handshake, and stream deadlines.
var http2Only = []Case{
	{Name: "HTTP2SharedConnection", Feature: adapters.FeatureHTTP2, Source: "RFC 8441 section 5", Rule: "WebSockets on streams of one HTTP/2 connection are independent: each echoes, and one that closes leaves the other open", Description: "two WebSockets on one HTTP/2 connection", run: http2Shared},
	{Name: "HTTP2Handshake", Feature: adapters.FeatureHTTP2, Source: "RFC 8441 section 4, RFC 6455 section 4.4", Rule: "an extended CONNECT for another protocol is answered 400, and one for another WebSocket version 426 with the version spoken, before the AcceptFunc", Description: ":protocol chat, and Sec-WebSocket-Version 12", run: http2Handshake},
	{Name: "HTTP2WriteTimeoutBetweenWrites", Feature: adapters.FeatureHTTP2, Source: srcOptions, Rule: "WriteTimeout bounds each write; a stream whose last write ended long ago stays open, as a TCP connection does", Description: "echoes, stays idle for three write timeouts, echoes again", run: http2WriteTimeoutBetweenWrites},
}

func http2Shared(e *env) {
	e.overHTTP2()
	accept, ch := probes(nil, false)
	srv := e.serve(accept, nil)
	u, err := url.Parse(srv.URL)
	if err != nil {
		e.Fatal(err)
	}
	cc, tcp, err := dialHTTP2Conn(u.Host)
	if err != nil {
		e.Fatalf("dial %s: %v", srv.URL, err)
	}
	e.Cleanup(func() { tcp.Close() })
	var cs [2]*client
	var ps [2]*probe
	for i := range cs {
		c, _, err := openStream(cc, tcp, u, nil, false)
		if err != nil {
			e.Fatalf("WebSocket %d on the shared connection: %v", i+1, err)
		}
		e.Cleanup(c.close)
		cs[i], ps[i] = c, e.next(ch)
	}
	cs[0].sendText("to the first")
	cs[1].sendText("to the second")
	e.wantMessage(cs[1], opText, "to the second")
	e.wantMessage(cs[0], opText, "to the first")
	cs[0].sendClose(4001, "done")
	e.wantClose(cs[0], 4001, "RFC 6455 section 5.5.1: the peer's close code is echoed")
	e.wantReason(ps[0], websock.KindRemote, 4001, nil, "peer close")
	cs[1].sendText("still open")
	e.wantMessage(cs[1], opText, "still open")
}

func http2Handshake(e *env) {
	e.overHTTP2()
	accept, n := countingAccept()
	srv := e.serve(accept, nil)
	u, err := url.Parse(srv.URL)
	if err != nil {
		e.Fatal(err)
	}
	for _, t := range []struct {
		header http.Header
		status int
	}{
		{http.Header{":protocol": {"chat"}}, http.StatusBadRequest},
		{http.Header{"Sec-WebSocket-Version": {"12"}}, http.StatusUpgradeRequired},
	} {
		c, resp, err := dialHTTP2(u, t.header)
		if err == nil {
			c.close()
			e.Errorf("extended CONNECT with %v was accepted; want %d", t.header, t.status)
			continue
		}
		if resp == nil {
			e.Errorf("extended CONNECT with %v: %v; want the answer %d", t.header, err, t.status)
			continue
		}
		if resp.StatusCode != t.status {
			e.Errorf("extended CONNECT with %v answered %s; want %d", t.header, resp.Status, t.status)
		}
		if t.status == http.StatusUpgradeRequired && resp.Header.Get("Sec-WebSocket-Version") != "13" {
			e.Errorf("426 answer has Sec-WebSocket-Version %q; want 13 (RFC 6455 section 4.4)", resp.Header.Get("Sec-WebSocket-Version"))
		}
	}
	if got := n.Load(); got != 0 {
		e.Errorf("the AcceptFunc ran %d times for invalid requests; want 0", got)
	}
}

func http2WriteTimeoutBetweenWrites(e *env) {
	e.overHTTP2()
	accept, _ := probes(nil, false)
	const writeTimeout = 100 * time.Millisecond
	c := e.dial(e.serve(accept, &adapters.Options{WriteTimeout: writeTimeout}))
	c.sendText("one")
	e.wantMessage(c, opText, "one")
	time.Sleep(3 * writeTimeout) // the deadline of the echo's write passes while nothing is written
	c.sendText("two")
	e.wantMessage(c, opText, "two")
}
