package conformance

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/websock-go/websock/adapters"
	"github.com/websock-go/websock/websock"
)

// Handshake abuse and the limits on what one client may take: each
// refusal comes before any code of the caller's runs.

// HeaderTimeout is the read-header timeout the servers the suite starts
// set (see [ServeHTTP]): the HandshakeSlowloris case waits up to
// slowlorisWait for the server to give up on a request whose headers never
// end. A ServeFunc of an adapter on another server sets its own.
const HeaderTimeout = 2 * time.Second

// slowlorisWait bounds the wait for the server to close a connection that
// never finishes its request headers.
const slowlorisWait = 30 * time.Second

// countingAccept returns an AcceptFunc that counts its calls and accepts
// with a probe.
func countingAccept() (websock.AcceptFunc, *atomic.Int32) {
	var n atomic.Int32
	return func(*websock.Request) (websock.Handler, error) {
		n.Add(1)
		return newProbe(), nil
	}, &n
}

// exchange opens a connection to srv, writes request (written in its own
// goroutine, so that a server that answers and closes before reading it
// all is seen), and reads the response.
func exchange(srv *Server, request string) (*http.Response, error) {
	u, err := url.Parse(srv.URL)
	if err != nil {
		return nil, err
	}
	nc, err := dialHost(u.Host)
	if err != nil {
		return nil, err
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	go io.WriteString(nc, request)
	resp, err := http.ReadResponse(bufio.NewReader(nc), nil)
	if err != nil {
		return nil, err
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	resp.Body.Close()
	resp.Body = io.NopCloser(strings.NewReader(string(body)))
	return resp, nil
}

// upgradeRequest returns an upgrade request for srv with method, and the
// headers of a valid upgrade changed by set (a value of "" drops the
// header).
func upgradeRequest(srv *Server, method string, set map[string][]string) string {
	u, _ := url.Parse(srv.URL)
	h := map[string][]string{
		"Upgrade":               {"websocket"},
		"Connection":            {"Upgrade"},
		"Sec-WebSocket-Key":     {"dGhlIHNhbXBsZSBub25jZQ=="},
		"Sec-WebSocket-Version": {"13"},
	}
	for k, v := range set {
		h[k] = v
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\n", method, u.RequestURI(), u.Host)
	for _, k := range []string{"Upgrade", "Connection", "Sec-WebSocket-Key", "Sec-WebSocket-Version"} {
		for _, v := range h[k] {
			if v != "" {
				fmt.Fprintf(&b, "%s: %s\r\n", k, v)
			}
		}
	}
	if method == http.MethodPost || method == http.MethodPut {
		b.WriteString("Content-Length: 0\r\n")
	}
	b.WriteString("\r\n")
	return b.String()
}

// wantStatus sends request and checks that it is answered with one of
// statuses, that the header named in wantHeader (if any) holds want, and
// that the AcceptFunc never ran.
func (e *env) wantStatus(srv *Server, accepted *atomic.Int32, what, request string, statuses []int, wantHeader, want, rule string) {
	e.Helper()
	before := accepted.Load()
	resp, err := exchange(srv, request)
	if err != nil {
		e.Errorf("%s: %v; want an HTTP %v answer (%s)", what, err, statuses, rule)
		return
	}
	ok := false
	for _, s := range statuses {
		ok = ok || resp.StatusCode == s
	}
	if !ok {
		e.Errorf("%s answered %s; want %v (%s)", what, resp.Status, statuses, rule)
	}
	if wantHeader != "" && !strings.Contains(resp.Header.Get(wantHeader), want) {
		e.Errorf("%s answered %s with %s %q; want %q (%s)", what, resp.Status, wantHeader, resp.Header.Get(wantHeader), want, rule)
	}
	if accepted.Load() != before {
		e.Errorf("%s reached the AcceptFunc (rule: a request that is not a valid upgrade is refused before any handler code runs)", what)
	}
}

func handshakeWrongVersion(e *env) {
	accept, n := countingAccept()
	srv := e.serve(accept, nil)
	for _, v := range []string{"8", "12", "14", ""} {
		e.wantStatus(srv, n, "Sec-WebSocket-Version "+strconv.Quote(v),
			upgradeRequest(srv, http.MethodGet, map[string][]string{"Sec-WebSocket-Version": {v}}),
			[]int{http.StatusUpgradeRequired, http.StatusBadRequest}, "Sec-WebSocket-Version", "13",
			"RFC 6455 section 4.4: an unsupported version is answered with the versions the server speaks")
	}
	e.wantStatus(srv, n, "Sec-WebSocket-Version 8",
		upgradeRequest(srv, http.MethodGet, map[string][]string{"Sec-WebSocket-Version": {"8"}}),
		[]int{http.StatusUpgradeRequired}, "", "", "RFC 6455 section 4.4: 426 Upgrade Required")
}

func handshakeBadKey(e *env) {
	accept, n := countingAccept()
	srv := e.serve(accept, nil)
	for _, tc := range []struct{ what, key string }{
		{"no Sec-WebSocket-Key", ""},
		{"a Sec-WebSocket-Key that is not base64", "not base64 at all!!!!!!!"},
		{"a Sec-WebSocket-Key of 15 bytes", "AAAAAAAAAAAAAAAAAAAA"},
		{"a Sec-WebSocket-Key of 17 bytes", "AAAAAAAAAAAAAAAAAAAAAAA="},
	} {
		e.wantStatus(srv, n, tc.what,
			upgradeRequest(srv, http.MethodGet, map[string][]string{"Sec-WebSocket-Key": {tc.key}}),
			[]int{http.StatusBadRequest}, "", "", "RFC 6455 section 4.2.1: the key is 16 bytes in base64")
	}
	e.wantStatus(srv, n, "two Sec-WebSocket-Key headers",
		upgradeRequest(srv, http.MethodGet, map[string][]string{"Sec-WebSocket-Key": {"dGhlIHNhbXBsZSBub25jZQ==", "AAAAAAAAAAAAAAAAAAAAAA=="}}),
		[]int{http.StatusBadRequest}, "", "", "RFC 6455 section 4.2.1: one key")
}

func handshakeNotGet(e *env) {
	accept, n := countingAccept()
	srv := e.serve(accept, nil)
	for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodDelete} {
		e.wantStatus(srv, n, "an upgrade with method "+m, upgradeRequest(srv, m, nil),
			[]int{http.StatusMethodNotAllowed, http.StatusBadRequest}, "", "",
			"RFC 6455 section 4.2.1: the upgrade request is a GET")
	}
}

// handshakeOversizedHeaders sends an upgrade request with 2 MiB of
// headers: the server refuses it (431 or 400, or closes the connection)
// and runs nothing of the caller's.
func handshakeOversizedHeaders(e *env) {
	accept, n := countingAccept()
	srv := e.serve(accept, nil)
	pad := strings.Repeat("a", 8<<10)
	var b strings.Builder
	req := upgradeRequest(srv, http.MethodGet, nil)
	b.WriteString(strings.TrimSuffix(req, "\r\n"))
	for i := 0; b.Len() < 2<<20; i++ {
		fmt.Fprintf(&b, "X-Pad-%d: %s\r\n", i, pad)
	}
	b.WriteString("\r\n")
	resp, err := exchange(srv, b.String())
	switch {
	case err != nil:
		// Closed without an answer: a refusal too.
	case resp.StatusCode == http.StatusSwitchingProtocols:
		e.Errorf("an upgrade with 2 MiB of headers was accepted; want it refused (431) before any handler code runs")
	case resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge && resp.StatusCode != http.StatusBadRequest:
		e.Errorf("an upgrade with 2 MiB of headers answered %s; want 431 or 400", resp.Status)
	}
	if n.Load() != 0 {
		e.Errorf("an upgrade with 2 MiB of headers reached the AcceptFunc (rule: the server bounds the headers it reads)")
	}
}

// handshakeSlowloris starts a request and sends its headers a byte at a
// time, never ending them: the server closes the connection once its
// read-header timeout passes, and runs nothing of the caller's.
func handshakeSlowloris(e *env) {
	accept, n := countingAccept()
	srv := e.serve(accept, nil)
	u, _ := url.Parse(srv.URL)
	nc, err := dialHost(u.Host)
	if err != nil {
		e.Fatalf("dial: %v", err)
	}
	defer nc.Close()
	req := upgradeRequest(srv, http.MethodGet, nil)
	if _, err := io.WriteString(nc, req[:len(req)-2]); err != nil { // all but the blank line
		e.Fatalf("writing the request: %v", err)
	}
	ended := make(chan error, 1)
	go func() {
		nc.SetReadDeadline(time.Now().Add(slowlorisWait))
		_, err := io.Copy(io.Discard, nc)
		ended <- err
	}()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	dribble := "X-Slow: " + strings.Repeat("s", 1000)
	for i := 0; ; i++ {
		select {
		case err := <-ended:
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				e.Errorf("the server kept a connection whose headers never ended open for %v (rule: the server sets a read-header timeout; the suite's set %v)", slowlorisWait, HeaderTimeout)
			}
			if n.Load() != 0 {
				e.Errorf("a request whose headers never ended reached the AcceptFunc")
			}
			return
		case <-tick.C:
			nc.Write([]byte{dribble[i%len(dribble)]}) // fails once the server closed
		}
	}
}

// connectionCap checks Options.MaxConnections: upgrades over it get 503
// with Retry-After before the AcceptFunc runs, and a connection that
// ended frees its place.
func connectionCap(e *env) {
	accept, ch := probes(nil, false)
	var calls atomic.Int32
	counted := func(r *websock.Request) (websock.Handler, error) { calls.Add(1); return accept(r) }
	srv := e.serve(counted, &adapters.Options{MaxConnections: 2})
	c1 := e.dial(srv)
	p1 := e.next(ch)
	e.dial(srv)
	e.next(ch)
	e.wantStatus(srv, &calls, "a third connection under MaxConnections 2", upgradeRequest(srv, http.MethodGet, nil),
		[]int{http.StatusServiceUnavailable}, "Retry-After", "", "MaxConnections: 503 with Retry-After before the AcceptFunc")
	resp, err := exchange(srv, upgradeRequest(srv, http.MethodGet, nil))
	if err == nil {
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || s < 1 {
			e.Errorf("Retry-After %q; want a number of seconds of at least 1", resp.Header.Get("Retry-After"))
		}
	}
	c1.sendClose(1000, "")
	e.wantClose(c1, 1000, "the client's close is echoed")
	e.wantReason(p1, websock.KindRemote, 1000, nil, "Terminate sees Remote")
	// The place is free once the connection has left the engine, just
	// after its Terminate.
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, resp, err := dial(srv.URL, nil)
		if err == nil {
			e.Cleanup(c.close)
			e.next(ch)
			return
		}
		if resp == nil || resp.StatusCode != http.StatusServiceUnavailable || time.Now().After(deadline) {
			e.Fatalf("dial after a connection ended: %v; want it accepted (rule: a connection that ended frees its place under MaxConnections)", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// upgradeRateLimit checks Options.UpgradeRate: past the burst, upgrades
// get 503 with Retry-After before the AcceptFunc runs.
func upgradeRateLimit(e *env) {
	accept, n := countingAccept()
	// One upgrade an hour, bursts of 2: the third is refused however
	// slowly the case runs.
	srv := e.serve(accept, &adapters.Options{UpgradeRate: 1.0 / 3600, UpgradeBurst: 2})
	e.dial(srv)
	e.dial(srv)
	if got := n.Load(); got != 2 {
		e.Fatalf("the AcceptFunc ran %d times for the burst of 2; want 2", got)
	}
	e.wantStatus(srv, n, "an upgrade past the burst", upgradeRequest(srv, http.MethodGet, nil),
		[]int{http.StatusServiceUnavailable}, "Retry-After", "", "UpgradeRate: 503 with Retry-After before the AcceptFunc")
	resp, err := exchange(srv, upgradeRequest(srv, http.MethodGet, nil))
	if err == nil {
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || s < 3000 {
			e.Errorf("Retry-After %q at one upgrade an hour; want the seconds until the next one (about 3600)", resp.Header.Get("Retry-After"))
		}
	}
	// Invalid requests take nothing from the bucket: they are refused
	// first, 400 and not 503.
	e.wantStatus(srv, n, "an invalid upgrade past the burst",
		upgradeRequest(srv, http.MethodGet, map[string][]string{"Sec-WebSocket-Key": {""}}),
		[]int{http.StatusBadRequest}, "", "", "an invalid request is refused as invalid, whatever the rate")
}

// originCrossSite checks the default same-origin policy against
// cross-site WebSocket hijacking: "null", another port or another scheme
// is refused with 403; the Host compared case-insensitively, and https
// (a proxy ended TLS) on a plain endpoint, is the same origin.
func originCrossSite(e *env) {
	accept, n := countingAccept()
	srv := e.serve(accept, nil)
	u, _ := url.Parse(srv.URL)
	host, port, _ := net.SplitHostPort(u.Host)
	other := "1"
	if port == "1" {
		other = "2"
	}
	for _, o := range []string{"null", "http://" + net.JoinHostPort(host, other), "http://" + host, "ftp://" + u.Host, "chrome-extension://" + u.Host} {
		before := n.Load()
		e.wantRefused(srv, http.Header{"Origin": {o}}, http.StatusForbidden, o, "origin "+o+" is cross-origin")
		if n.Load() != before {
			e.Errorf("the AcceptFunc ran for the refused origin %s", o)
		}
	}
	for _, o := range []string{"http://" + strings.ToUpper(u.Host), "HTTP://" + u.Host, "https://" + u.Host} {
		e.wantAccepted(srv, http.Header{"Origin": {o}}, "origin "+o+" is the same origin")
	}
	// "null" is admitted when listed.
	srv2 := e.serve(accept, &adapters.Options{AllowedOrigins: []string{"null"}})
	e.wantAccepted(srv2, http.Header{"Origin": {"null"}}, "AllowedOrigins lists null")
	e.wantRefused(srv2, http.Header{"Origin": {"http://" + u.Host}}, http.StatusForbidden, u.Host, "only null is listed")
}

// originRepeated checks that a request with two Origin headers is refused
// whichever comes first, and with AllowedOrigins and CheckOrigin too: a
// browser sends one, and a policy that read only the first would let the
// second through unchecked. Even "*" refuses them: such a request is
// not a browser's, and no policy should have to think about it.
func originRepeated(e *env) {
	accept, n := countingAccept()
	const evil = "https://evil.example"
	for _, opts := range []*adapters.Options{nil, {AllowedOrigins: []string{"*"}}, {CheckOrigin: func(*websock.Request) bool { return true }}} {
		srv := e.serve(accept, opts)
		u, _ := url.Parse(srv.URL)
		same := "http://" + u.Host
		for _, pair := range [][]string{{same, evil}, {evil, same}, {same, same}} {
			before := n.Load()
			e.wantRefused(srv, http.Header{"Origin": pair}, http.StatusForbidden, "Origin headers",
				fmt.Sprintf("a request with the Origin headers %q is refused (RFC 6454 section 7.3: a browser sends one)", pair))
			if n.Load() != before {
				e.Errorf("the AcceptFunc ran for a request with the Origin headers %q", pair)
			}
		}
		e.wantAccepted(srv, http.Header{"Origin": {same}}, "one same-origin Origin header is allowed")
	}
}
