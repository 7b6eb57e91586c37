package conformance_test

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/websock-go/websock/adapters"
	"github.com/websock-go/websock/adapters/gorilla"
	"github.com/websock-go/websock/conformance"
	"github.com/websock-go/websock/conformance/internal/faults"
	"github.com/websock-go/websock/conformance/reference"
	"github.com/websock-go/websock/websock"
)

// The suite is tested on deliberately broken adapters, each built with one
// fault, from the gorilla adapter (a broken handler dispatch) or from the
// reference adapter (a broken Transport): every one must fail the named
// cases, and pass the healthy ones. The broken suite runs in a child process
// (this test binary again), because a failing conformance.Run marks its
// *testing.T failed.

// healthy are cases that a fault of one rule leaves passing: a broken
// adapter fails the cases of the rule it breaks, not the whole suite.
var healthy = []string{"EchoText", "EchoBinary", "StopNormal"}

// broken maps a fault to the cases it must fail, those it must still pass,
// and the adapter that has it.
var broken = map[string]struct {
	mustFail []string
	mustPass []string
	adapter  func(t *testing.T) conformance.Adapter
}{
	// Broken handler dispatch and options.
	"ignores-options": {
		mustFail: []string{"MessageTooBig", "IdleTimeout"},
		mustPass: healthy,
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
		mustPass: healthy,
		adapter:  wrapHandlers(func(h websock.Handler) websock.Handler { return stopNormal{h} }),
	},
	"drops-control": {
		mustFail: []string{"HandleControlPing", "HandleControlPong"},
		mustPass: healthy,
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

	// Broken Transports, one per rule family.
	"no-reassembly": {
		mustFail: []string{"Fragmented", "UTF8SplitAcrossFragments", "MessageTooBigFragmented"},
		mustPass: healthy,
		adapter:  referenceWith(faults.Set{NoReassembly: true}),
	},
	"swallows-pings": {
		mustFail: []string{"PingAnswered", "HandleControlPing", "Fragmented"},
		mustPass: healthy,
		adapter:  referenceWith(faults.Set{Wrap: func(t adapters.Transport) adapters.Transport { return swallowPings{t} }}),
	},
	"refuses-close-1014": {
		mustFail: []string{"RemoteCloseCode1014"},
		mustPass: healthy,
		adapter:  referenceWith(faults.Set{Wrap: func(t adapters.Transport) adapters.Transport { return refuse1014{t} }}),
	},
	"skips-utf8": {
		mustFail: []string{"InvalidUTF8", "InvalidUTF8Fragmented", "BadInputIsolated"},
		mustPass: healthy,
		adapter:  referenceWith(faults.Set{NoUTF8: true}),
	},
	"ignores-size-limit": {
		mustFail: []string{"MessageTooBig", "MessageTooBigFragmented", "CompressionBomb"},
		mustPass: healthy,
		adapter:  referenceWith(faults.Set{NoSizeLimit: true}),
	},
	"racing-writes": {
		mustFail: []string{"SendInterleavedWithHandleIn"},
		mustPass: healthy,
		adapter:  referenceWith(faults.Set{Wrap: func(t adapters.Transport) adapters.Transport { return racingWrites{t} }}),
	},
	"stale-prepared": {
		mustFail: []string{"PreparedText", "PreparedBinary"},
		mustPass: healthy,
		adapter:  referenceWith(faults.Set{Wrap: func(t adapters.Transport) adapters.Transport { return &stalePrepared{Transport: t} }}),
	},
	"deaf-close": {
		mustFail: []string{"SlowConsumer", "MailboxFullCloses"},
		mustPass: healthy,
		adapter:  referenceWith(faults.Set{Wrap: func(t adapters.Transport) adapters.Transport { return deafClose{t} }}),
	},
}

// referenceAdapter is the reference adapter, which passes every case and
// which the broken Transports start from.
func referenceAdapter() conformance.Adapter { return referenceWith(faults.Set{})(nil) }

var endpoints atomic.Int64

// referenceWith returns the reference adapter with the faults of s.
func referenceWith(s faults.Set) func(t *testing.T) conformance.Adapter {
	return func(*testing.T) conformance.Adapter {
		return conformance.Adapter{Adapter: reference.Adapter, Serve: func(accept websock.AcceptFunc, opts *adapters.Options) (*conformance.Server, error) {
			h, err := faults.New(s, accept, opts)
			if err != nil {
				return nil, err
			}
			return &conformance.Server{
				URL:      fmt.Sprintf("ws://broken-%d.invalid/", endpoints.Add(1)),
				Dial:     h.Dial,
				Shutdown: h.Shutdown,
				Restart:  h.Restart,
			}, nil
		}}
	}
}

// gorillaAdapter is the gorilla adapter, which the broken handler
// dispatches start from.
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

// swallowPings is a Transport that never reports a ping to the engine,
// which therefore neither answers nor shows it.
type swallowPings struct{ adapters.Transport }

func (t swallowPings) Read(ev adapters.Events) error { return t.Transport.Read(noPings{ev}) }

type noPings struct{ adapters.Events }

func (noPings) Ping([]byte) {}

// stalePrepared is a PreparedWriter whose cache of prepared frames keeps
// the first message it wrote and writes it again for every later one.
type stalePrepared struct {
	adapters.Transport
	first *websock.Prepared
}

func (t *stalePrepared) WritePrepared(p *websock.Prepared) error {
	if t.first == nil {
		t.first = p
	}
	return t.Transport.WriteFrame(t.first.Op(), t.first.Data())
}

// refuse1014 is a Transport that does not know close code 1014, which was
// registered after RFC 6455, and reports it as a protocol error.
type refuse1014 struct{ adapters.Transport }

func (t refuse1014) Read(ev adapters.Events) error {
	err := t.Transport.Read(ev)
	if ce := (*websock.CloseError)(nil); errors.As(err, &ce) && ce.Code == 1014 {
		return fmt.Errorf("%w: unknown close code 1014", websock.ErrProtocol)
	}
	return err
}

// racingWrites is a Transport whose WriteFrame returns at once and writes
// the frame on a goroutine of its own: the engine's serialisation of
// writes is bypassed, so frames go out in any order, and the header of
// one may land inside another.
type racingWrites struct{ adapters.Transport }

func (t racingWrites) WriteFrame(op websock.Opcode, data []byte) error {
	data = slices.Clone(data)
	go t.Transport.WriteFrame(op, data)
	return nil
}

// deafClose is a Transport whose Close does not unblock a Read: it closes
// nothing, and the connection ends only when the peer closes its side.
type deafClose struct{ adapters.Transport }

func (deafClose) Close() error { return nil }

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
			t.Parallel() // each runs in a process of its own
			run := append(slices.Clone(b.mustFail), b.mustPass...)
			cmd := exec.Command(os.Args[0], "-test.run=^TestBrokenAdapter$/^("+strings.Join(run, "|")+")$", "-test.v", "-test.count=1")
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
			for _, name := range b.mustPass {
				if !strings.Contains(string(out), "--- PASS: TestBrokenAdapter/"+name+" ") {
					t.Errorf("case %s did not pass on an adapter that %s, which keeps its rule; output:\n%s", name, fault, out)
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
	if err := conformance.Test(referenceAdapter()); err != nil {
		t.Fatalf("Test on the reference adapter: %v; want nil", err)
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
