package adapters

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/websock-go/websock/websock"
)

// handHandshake is a Handshake the test drives: Upgrade succeeds and hands
// serve to the test, which calls it when it chooses, as a server that runs
// upgraded connections later does (or never calls it).
type handHandshake struct {
	serve chan func(Upgraded)
}

func (h *handHandshake) Method() string { return http.MethodGet }

func (h *handHandshake) Request() *websock.Request {
	r := websock.NewRequest(context.Background(), nil)
	r.URL = &url.URL{Path: "/"}
	r.Header = http.Header{"Connection": {"Upgrade"}, "Upgrade": {"websocket"},
		"Sec-Websocket-Version": {"13"}, "Sec-Websocket-Key": {"dGhlIHNhbXBsZSBub25jZQ=="}}
	return r
}

func (h *handHandshake) Refuse(e *websock.HTTPError) { panic("refused: " + e.Error()) }

func (h *handHandshake) Upgrade(_ Upgrade, serve func(Upgraded)) error {
	h.serve <- serve
	return nil
}

// reasonHandler reports its Terminate.
type reasonHandler struct{ reasons chan websock.Reason }

func (h reasonHandler) Init(websock.Conn) websock.Result      { return websock.OK() }
func (h reasonHandler) HandleIn(websock.Frame) websock.Result { return websock.OK() }
func (h reasonHandler) HandleInfo(any) websock.Result         { return websock.OK() }
func (h reasonHandler) Terminate(r websock.Reason)            { h.reasons <- r }

// TestRestartWaitsForUpgradeUnderWay: a Restart that begins after a
// connection was answered 101 but before it runs waits for it, and closes
// it with 1012 like every other connection.
func TestRestartWaitsForUpgradeUnderWay(t *testing.T) {
	h := reasonHandler{reasons: make(chan websock.Reason, 1)}
	e, err := NewEngine(Adapter{Name: "mem"}, func(*websock.Request) (websock.Handler, error) { return h, nil },
		&Options{CloseTimeout: 50 * time.Millisecond, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	hs := &handHandshake{serve: make(chan func(Upgraded), 1)}
	served := make(chan struct{})
	go func() { e.Serve(hs); close(served) }()
	serve := <-hs.serve // answered 101; not running yet

	restarted := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		restarted <- e.Restart(ctx)
	}()
	select {
	case err := <-restarted:
		t.Fatalf("Restart returned %v while a connection it had not closed was being upgraded", err)
	case <-time.After(50 * time.Millisecond):
	}

	tr := newMemTransport()
	tr.codes = make(chan websock.CloseCode, 1)
	go serve(Upgraded{Transport: tr})
	if code := <-tr.codes; code != websock.CloseServiceRestart {
		t.Errorf("the connection was closed with %v; want 1012, as Restart closes every connection", code)
	}
	r := <-h.reasons
	if r.Kind != websock.KindShutdown || !errors.Is(r, websock.ErrRestart) {
		t.Errorf("Terminate got %v; want Shutdown wrapping ErrRestart", r)
	}
	if err := <-restarted; err != nil {
		t.Errorf("Restart: %v", err)
	}
	<-served
}

// TestShutdownDropsUpgradeNeverServed: a server that answered 101 but
// never hands the connection over does not hold Shutdown forever.
func TestShutdownDropsUpgradeNeverServed(t *testing.T) {
	h := reasonHandler{reasons: make(chan websock.Reason, 1)}
	e, err := NewEngine(Adapter{Name: "mem"}, func(*websock.Request) (websock.Handler, error) { return h, nil },
		&Options{WriteTimeout: 50 * time.Millisecond, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	hs := &handHandshake{serve: make(chan func(Upgraded), 1)}
	e.Serve(hs)
	<-hs.serve // never called
	done := make(chan error, 1)
	go func() { done <- e.Shutdown(context.Background()) }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Shutdown without a deadline still waits for a connection that never came")
	}
}
