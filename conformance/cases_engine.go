package conformance

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/websock-go/websock/adapters"
	"github.com/websock-go/websock/websock"
)

// Cases for what the engine owns around a connection: the upgrade
// request as the AcceptFunc sees it, handlers that never start, and
// shutdown under a deadline.

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

// shutdownDeadline checks that Shutdown keeps its context's deadline when
// a peer stopped reading while the server writes to it: healthy
// connections still get 1001 at once, and Shutdown returns the context's
// error well before the write timeout.
func shutdownDeadline(e *env) {
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
			if n := msg.(int); n < 2000 { // bounded even if writes never block
				p.conn.Send(n + 1)
			}
			return websock.Push(websock.Binary(chunk))
		}
	}, false)
	const writeTimeout = 60 * time.Second
	srv, err := e.adapter.Serve(accept, &adapters.Options{Logger: quiet, WriteTimeout: writeTimeout, CloseTimeout: 2 * time.Second})
	if err != nil {
		e.Fatalf("starting adapter: %v", err)
	}
	stuck := e.dial(srv)
	ps := e.next(ch)
	healthy := e.dial(srv)
	ph := e.next(ch)
	healthy.sendText("hi")
	e.wantMessage(healthy, opText, "hi")
	stuck.sendText("flood me")         // and never read again
	time.Sleep(200 * time.Millisecond) // let the pushes fill the buffers

	start := time.Now()
	shut := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		defer cancel()
		shut <- srv.Shutdown(ctx)
	}()
	e.closeAndReply(healthy, 1001, "a healthy connection gets 1001 although another is stuck")
	e.wantReason(ph, websock.KindShutdown, websock.CloseGoingAway, websock.ErrShutdown, "Shutdown terminates Shutdown")
	select {
	case err := <-shut:
		if !errors.Is(err, context.DeadlineExceeded) {
			e.Errorf("Shutdown returned %v with a connection still open at its deadline; want context.DeadlineExceeded", err)
		}
	case <-time.After(writeTimeout / 2):
		e.Fatalf("Shutdown(500ms) still running after %v (rule: Shutdown closes what remains when its context ends)", time.Since(start))
	}
	r := e.reason(ps)
	if r.Kind != websock.KindShutdown && !errors.Is(r, websock.ErrWriteFailed) {
		e.Errorf("the stuck connection terminated with %v; want Shutdown (or a failed write)", r)
	}
}

// restart checks that Restart closes with 1012 and a Shutdown reason
// wrapping ErrRestart.
func restart(e *env) {
	accept, ch := probes(nil, false)
	srv := e.serve(accept, nil)
	if srv.Restart == nil {
		e.Skip("the Server of this adapter has no Restart; set Server.Restart to the adapter's Restart")
	}
	c := e.dial(srv)
	p := e.next(ch)
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		done <- srv.Restart(ctx)
	}()
	e.closeAndReply(c, 1012, "Restart closes with 1012 (service restart)")
	r := e.wantReason(p, websock.KindShutdown, websock.CloseServiceRestart, websock.ErrRestart, "Restart terminates Shutdown with ErrRestart")
	if !errors.Is(r, websock.ErrShutdown) {
		e.Errorf("Restart's reason %v does not match websock.ErrShutdown", r)
	}
	if err := <-done; err != nil {
		e.Errorf("Restart: %v", err)
	}
}
