package websocktest_test

import (
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/websock-go/websock/adapters/websocktest"
	"github.com/websock-go/websock/websock"
)

// recordTB records the failures of the package under test instead of
// failing the test; Fatalf ends the goroutine that called it.
type recordTB struct {
	testing.TB
	mu   sync.Mutex
	msgs []string
}

func (r *recordTB) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, fmt.Sprintf(format, args...))
}

func (r *recordTB) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	runtime.Goexit()
}

func (r *recordTB) failures() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.msgs, "\n")
}

// run runs f on a goroutine of its own, as a Fatalf there ends it, and
// returns what failed.
func (r *recordTB) run(f func()) string {
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	<-done
	return r.failures()
}

func TestReadWithNothingArriving(t *testing.T) {
	rec := &recordTB{TB: t}
	c := websocktest.New(t, echo, nil)
	c.SetTimeout(50 * time.Millisecond) // nothing will come: the wait is all the test costs
	c.SendText("one")
	c.ExpectText(t, "one")
	got := rec.run(func() { c.ExpectText(rec, "two") })
	for _, want := range []string{`ExpectText("two")`, "nothing arrived within 50ms", `text "one"`, "Terminate has not run"} {
		if !strings.Contains(got, want) {
			t.Errorf("failure %q lacks %q", got, want)
		}
	}
}

func TestWrongFrame(t *testing.T) {
	rec := &recordTB{TB: t}
	c := websocktest.New(t, echo, nil)
	c.SendBinary([]byte{7})
	got := rec.run(func() { c.ExpectText(rec, "seven") })
	if !strings.Contains(got, `ExpectText("seven"): got binary 07`) {
		t.Errorf("failure %q does not say what arrived", got)
	}
}

func TestUseAfterTerminate(t *testing.T) {
	quit := websock.HandlerFunc(func(websock.Frame) websock.Result {
		return websock.StopCode(nil, websock.CloseNormal, "bye")
	})
	rec := &recordTB{TB: t}
	c := websocktest.New(rec, quit, nil)
	c.SendText("quit")
	c.ExpectClose(t, websock.CloseNormal)
	for _, use := range []func(){
		func() { c.SendText("more") },
		func() { c.Info("more") },
	} {
		rec.msgs = nil
		got := rec.run(use)
		if !strings.Contains(got, "after the connection ended") && !strings.Contains(got, "Terminate saw") {
			t.Errorf("failure %q does not give the Reason", got)
		}
		if !strings.Contains(got, "normal, close 1000") {
			t.Errorf("failure %q does not say how the connection ended", got)
		}
	}
}

func TestLeakedGoroutine(t *testing.T) {
	defer websocktest.SetLeakWait(20 * time.Millisecond)()
	release := make(chan struct{})
	defer close(release)
	rec := &recordTB{TB: t}
	t.Run("leaky", func(t *testing.T) {
		rec.TB = t
		leaky := &leaker{release: release}
		c := websocktest.New(rec, leaky, nil)
		c.SendText("x")
		c.ExpectText(t, "x")
	})
	got := rec.failures()
	if !strings.Contains(got, "outlived") || !strings.Contains(got, "websocktest_test.(*leaker).Init") {
		t.Errorf("the leak check reported %q; want the goroutine started in Init named", got)
	}
}

// leaker starts a goroutine that outlives its connection.
type leaker struct{ release chan struct{} }

func (l *leaker) Init(websock.Conn) websock.Result {
	go func() { <-l.release }()
	return websock.OK()
}
func (l *leaker) HandleIn(f websock.Frame) websock.Result { return websock.Push(f) }
func (l *leaker) HandleInfo(any) websock.Result           { return websock.OK() }
func (l *leaker) Terminate(websock.Reason)                {}
