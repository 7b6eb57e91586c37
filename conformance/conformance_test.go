package conformance_test

import (
	"errors"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/websock-go/websock/adapters"
	"github.com/websock-go/websock/adapters/gobws"
	"github.com/websock-go/websock/adapters/gorilla"
	"github.com/websock-go/websock/conformance"
	"github.com/websock-go/websock/websock"
)

// The suite is tested on deliberately broken adapters, each built from the
// gorilla adapter with one fault: every one must fail the named cases. The
// broken suite runs in a child process (this test binary again), because a
// failing conformance.Run marks its *testing.T failed.

// broken maps a fault to the cases it must fail and the adapter that has it.
var broken = map[string]struct {
	mustFail []string
	adapter  func(t *testing.T) conformance.Adapter
}{
	"ignores-options": {
		mustFail: []string{"MessageTooBig", "IdleTimeout"},
		adapter: func(t *testing.T) conformance.Adapter {
			a := gorillaAdapter()
			serve := a.Serve
			a.Serve = func(accept websock.AcceptFunc, _ *adapters.Options) (*conformance.Server, error) {
				return serve(accept, &adapters.Options{CloseTimeout: time.Second})
			}
			return a
		},
	},
	"wrong-stop-code": {
		mustFail: []string{"StopError", "StopRestart"},
		adapter:  wrapHandlers(func(h websock.Handler) websock.Handler { return stopNormal{h} }),
	},
	"drops-control": {
		mustFail: []string{"HandleControlPing", "HandleControlPong"},
		adapter:  wrapHandlers(func(h websock.Handler) websock.Handler { return hideControl{h} }),
	},
	"terminates-twice": {
		mustFail: []string{"StopNormal", "RemoteClose"},
		adapter:  wrapHandlers(func(h websock.Handler) websock.Handler { return terminateTwice{h} }),
	},
	"leaks-goroutine": {
		mustFail: []string{"EchoText"},
		adapter:  wrapHandlers(func(h websock.Handler) websock.Handler { return leaky{h} }),
	},
}

// gorillaAdapter is the gorilla adapter, which the broken adapters start
// from.
func gorillaAdapter() conformance.Adapter {
	return conformance.Adapter{Adapter: gorilla.Adapter, Serve: conformance.ServeHTTP(gorilla.New)}
}

// wrapHandlers returns a gorilla-based adapter whose engine runs wrap(h)
// instead of each handler h: an adapter that dispatches wrongly.
func wrapHandlers(wrap func(websock.Handler) websock.Handler) func(t *testing.T) conformance.Adapter {
	return func(t *testing.T) conformance.Adapter {
		a := gorillaAdapter()
		serve := a.Serve
		a.Serve = func(accept websock.AcceptFunc, opts *adapters.Options) (*conformance.Server, error) {
			return serve(func(r *websock.Request) (websock.Handler, error) {
				h, err := accept(r)
				if err != nil {
					return nil, err
				}
				return wrap(h), nil
			}, opts)
		}
		return a
	}
}

type stopNormal struct{ websock.Handler }

func (s stopNormal) HandleIn(f websock.Frame) websock.Result {
	if r := s.Handler.HandleIn(f); r.IsStop() {
		return websock.Stop(nil)
	} else {
		return r
	}
}

type hideControl struct{ websock.Handler }

type terminateTwice struct{ websock.Handler }

func (t terminateTwice) Terminate(r websock.Reason) {
	t.Handler.Terminate(r)
	t.Handler.Terminate(r)
}

type leaky struct{ websock.Handler }

var never = make(chan struct{})

func (l leaky) Init(c websock.Conn) websock.Result {
	go func() { <-never }()
	return l.Handler.Init(c)
}

const faultEnv = "WEBSOCK_CONFORMANCE_FAULT"

func TestSuiteCatchesBrokenAdapters(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the suite in child processes; skipped in -short mode")
	}
	for fault, b := range broken {
		t.Run(fault, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestBrokenAdapter$/^("+strings.Join(b.mustFail, "|")+")$", "-test.v", "-test.count=1")
			cmd.Env = append(os.Environ(), faultEnv+"="+fault)
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("the suite passed an adapter that %s; output:\n%s", fault, out)
			}
			for _, name := range b.mustFail {
				if !strings.Contains(string(out), "--- FAIL: TestBrokenAdapter/"+name+" ") {
					t.Errorf("case %s did not fail on an adapter that %s; output:\n%s", name, fault, out)
				}
			}
		})
	}
}

// TestBrokenAdapter runs the suite on one broken adapter, in the child
// process of TestSuiteCatchesBrokenAdapters.
func TestBrokenAdapter(t *testing.T) {
	fault := os.Getenv(faultEnv)
	if fault == "" {
		t.Skip("runs only as the child process of TestSuiteCatchesBrokenAdapters, with " + faultEnv + " set")
	}
	b, ok := broken[fault]
	if !ok {
		t.Fatalf("unknown fault %q", fault)
	}
	conformance.Run(t, b.adapter(t))
}

// TestTestEntryPoint runs the suite through Test, without the testing
// package's subtests: a sound adapter gives nil, and a broken one an error
// naming the cases it fails, each a *CaseError with its rule. (The broken
// adapter fails more than the must-fail cases: every Stop with a code, and
// the optional interfaces its wrapper hides.)
func TestTestEntryPoint(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the whole suite twice; skipped in -short mode")
	}
	if err := conformance.Test(gobwsAdapter()); err != nil {
		t.Fatalf("Test on the gobws adapter: %v; want nil", err)
	}
	b := broken["wrong-stop-code"]
	err := conformance.Test(b.adapter(t))
	if err == nil {
		t.Fatal("Test passed an adapter that stops with the wrong code")
	}
	var failed []string
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		var ce *conformance.CaseError
		if !errors.As(e, &ce) {
			t.Fatalf("Test's error %v is not a *CaseError", e)
		}
		if ce.Case.Rule == "" || ce.Case.Source == "" || len(ce.Problems) == 0 {
			t.Errorf("CaseError %v lacks its rule, source or problems", ce)
		}
		failed = append(failed, ce.Case.Name)
	}
	for _, name := range b.mustFail {
		if !slices.Contains(failed, name) {
			t.Errorf("Test failed cases %v; want %s among them", failed, name)
		}
	}
	for _, name := range []string{"EchoText", "Shutdown", "InvalidUTF8"} {
		if slices.Contains(failed, name) {
			t.Errorf("Test failed case %s, which the broken adapter passes", name)
		}
	}
}

// gobwsAdapter is the gobws adapter, which passes every case.
func gobwsAdapter() conformance.Adapter {
	return conformance.Adapter{Adapter: gobws.Adapter, Serve: conformance.ServeHTTP(gobws.New)}
}
