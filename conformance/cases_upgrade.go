package conformance

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/websock-go/websock/adapters"
	"github.com/websock-go/websock/websock"
)

// acceptSeesRequest checks that the AcceptFunc gets the request's context
// and the server's own request value.
func acceptSeesRequest(e *env) {
	type seen struct {
		ctxOK, rawOK, httpOK bool
		path                 string
	}
	got := make(chan seen, 1)
	accept := func(r *websock.Request) (websock.Handler, error) {
		s := seen{ctxOK: r.Context() != nil && r.Context().Err() == nil, rawOK: r.Raw() != nil, path: r.URL.Path}
		if hr := r.HTTPRequest(); hr != nil {
			s.httpOK = hr.URL.Path == r.URL.Path && hr.Context() == r.Context()
		} else {
			s.httpOK = e.adapter.Server != "net/http"
		}
		got <- s
		return newProbe(), nil
	}
	srv := e.serve(accept, nil)
	c, _, err := dial(strings.TrimSuffix(srv.URL, "/")+"/some/path?q=1", nil)
	if err != nil {
		e.Fatalf("dial: %v", err)
	}
	e.Cleanup(c.close)
	s := <-got
	if !s.ctxOK {
		e.Errorf("Request.Context() was nil or already done in the AcceptFunc (rule: the AcceptFunc sees the request's live context)")
	}
	if !s.rawOK {
		e.Errorf("Request.Raw() was nil (rule: the adapter passes its server's own request to websock.NewRequest)")
	}
	if !s.httpOK {
		e.Errorf("Request.HTTPRequest() was not the original *http.Request on a net/http adapter (rule: net/http adapters pass the original request)")
	}
	if s.path != "/some/path" {
		e.Errorf("Request.URL.Path = %q; want /some/path", s.path)
	}
}

// abandonProbe is a probe that reports Abandon.
type abandonProbe struct {
	*probe
	abandoned chan error
}

func (a abandonProbe) Abandon(err error) { a.abandoned <- err }

// abandonOnShutdown checks that a Handler the AcceptFunc returned after
// Shutdown began is never started: the client gets 503, and the handler
// gets Abandon instead of Init and Terminate.
func abandonOnShutdown(e *env) {
	entered, release := make(chan struct{}), make(chan struct{})
	late := abandonProbe{newProbe(), make(chan error, 1)}
	first, firstCh := probes(nil, false)
	var calls atomic.Int32
	accept := func(r *websock.Request) (websock.Handler, error) {
		if calls.Add(1) == 1 {
			return first(r)
		}
		close(entered)
		<-release
		return late, nil
	}
	srv, err := e.adapter.Serve(accept, &adapters.Options{Logger: quiet, CloseTimeout: 2 * time.Second})
	if err != nil {
		e.Fatalf("starting adapter: %v", err)
	}
	c := e.dial(srv)
	p := e.next(firstCh)
	c.sendText("hello")
	e.wantMessage(c, opText, "hello")

	// The second request waits in the AcceptFunc while Shutdown begins.
	dialed := make(chan error, 1)
	go func() {
		c2, resp, err := dial(srv.URL, nil)
		if err == nil {
			c2.close()
			err = errors.New("upgraded")
		} else if resp != nil && resp.StatusCode != http.StatusServiceUnavailable {
			err = errors.New(resp.Status)
		} else if resp != nil {
			err = nil
		}
		dialed <- err
	}()
	select {
	case <-entered:
	case <-time.After(10 * time.Second):
		e.Fatal("the second upgrade did not reach the AcceptFunc within 10s")
	}
	shut := make(chan error, 1)
	// The first connection's Terminate shows that Shutdown began.
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		shut <- srv.Shutdown(ctx)
	}()
	e.closeAndReply(c, 1001, "Shutdown closes the live connection")
	e.wantReason(p, websock.KindShutdown, websock.CloseGoingAway, websock.ErrShutdown, "Shutdown terminates Shutdown")
	close(release)

	select {
	case err := <-late.abandoned:
		if !errors.Is(err, websock.ErrShutdown) {
			e.Errorf("Abandon got %v; want an error matching websock.ErrShutdown", err)
		}
	case <-time.After(10 * time.Second):
		e.Fatal("Abandon was not called within 10s for a handler returned after Shutdown began (rule: websock.Abandoner)")
	}
	if err := <-dialed; err != nil {
		e.Errorf("the upgrade answered after Shutdown began: %v; want 503 (rule: new upgrades are refused while shutting down)", err)
	}
	if err := <-shut; err != nil {
		e.Errorf("Shutdown: %v", err)
	}
	late.mu.Lock()
	defer late.mu.Unlock()
	if late.inited || late.terminated {
		e.Errorf("an abandoned handler ran Init or Terminate (rule: a handler that never starts gets Abandon only)")
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
	resp, err := httpGet(srv.URL)
	if err != nil {
		e.Fatalf("plain GET: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode < 400 || resp.StatusCode >= 500 {
		e.Errorf("plain GET answered %d; want a 4xx refusal (RFC 6455 section 4.2.1)", resp.StatusCode)
	}
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
