package conformance

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/websock-go/websock/websock"
)

// probe is a Handler whose behaviour a case sets and whose every callback
// is checked against the lifecycle rules: never two at once, Init first,
// Terminate exactly once and last.
type probe struct {
	init func(p *probe) websock.Result
	in   func(p *probe, f websock.Frame) websock.Result
	info func(p *probe, msg any) websock.Result
	ctl  func(p *probe, f websock.Frame) websock.Result

	conn websock.Conn

	busy       atomic.Bool
	mu         sync.Mutex
	violations []string
	inited     bool
	terminated bool

	reasons chan websock.Reason // receives the one Terminate reason
}

func newProbe() *probe { return &probe{reasons: make(chan websock.Reason, 2)} }

// controlProbe is a probe that also observes control frames.
type controlProbe struct{ *probe }

func (p controlProbe) HandleControl(f websock.Frame) websock.Result {
	p.enter("HandleControl")
	defer p.exit()
	if p.ctl != nil {
		return p.ctl(p.probe, f)
	}
	return websock.OK()
}

func (p *probe) violate(format string, args ...any) {
	p.mu.Lock()
	p.violations = append(p.violations, fmt.Sprintf(format, args...))
	p.mu.Unlock()
}

func (p *probe) enter(cb string) {
	if !p.busy.CompareAndSwap(false, true) {
		p.violate("%s ran while another callback of the same connection was running (rule: callbacks are serial)", cb)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if cb != "Init" && !p.inited {
		p.violations = append(p.violations, cb+" ran before Init (rule: Init runs first)")
	}
	if p.terminated {
		p.violations = append(p.violations, cb+" ran after Terminate (rule: nothing runs after Terminate)")
	}
	if cb == "Init" {
		p.inited = true
	}
}

func (p *probe) exit() {
	time.Sleep(0) // give an overlapping callback a chance to show itself
	p.busy.Store(false)
}

func (p *probe) Init(c websock.Conn) websock.Result {
	p.enter("Init")
	defer p.exit()
	p.conn = c
	if p.init != nil {
		return p.init(p)
	}
	return websock.OK()
}

func (p *probe) HandleIn(f websock.Frame) websock.Result {
	p.enter("HandleIn")
	defer p.exit()
	if p.in != nil {
		return p.in(p, f)
	}
	return websock.Push(f) // echo
}

func (p *probe) HandleInfo(msg any) websock.Result {
	p.enter("HandleInfo")
	defer p.exit()
	if p.info != nil {
		return p.info(p, msg)
	}
	return websock.OK()
}

func (p *probe) Terminate(r websock.Reason) {
	p.enter("Terminate")
	defer p.exit()
	p.mu.Lock()
	p.terminated = true
	p.mu.Unlock()
	select {
	case p.reasons <- r:
	default:
		p.violate("Terminate ran more than once (rule: Terminate is called exactly once)")
	}
}

// probes makes an AcceptFunc that creates one probe per connection with
// setup applied and hands each to the returned channel.
func probes(setup func(p *probe), control bool) (websock.AcceptFunc, chan *probe) {
	ch := make(chan *probe, 1024)
	return func(*websock.Request) (websock.Handler, error) {
		p := newProbe()
		if setup != nil {
			setup(p)
		}
		ch <- p
		if control {
			return controlProbe{p}, nil
		}
		return p, nil
	}, ch
}

// next returns the next connection's probe.
func (e *env) next(ch chan *probe) *probe {
	e.Helper()
	select {
	case p := <-ch:
		e.probes.add(p)
		return p
	case <-time.After(10 * time.Second):
		e.Fatalf("the AcceptFunc was not called within 10s of the client connecting")
		return nil
	}
}

// probeSet is the probes of one env, whose rules it checks last.
type probeSet struct {
	mu     sync.Mutex
	probes []*probe
}

func (s *probeSet) add(p *probe) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.probes = append(s.probes, p)
}

// checkRules reports the lifecycle rules the env's probes saw broken. It
// runs after everything else the case set up has been cleaned up: the
// servers have shut down, so every Terminate has returned, and a rule
// broken late (a second Terminate right after the first) is seen.
func (e *env) checkRules() {
	e.probes.mu.Lock()
	defer e.probes.mu.Unlock()
	for _, p := range e.probes.probes {
		p.mu.Lock()
		for _, v := range p.violations {
			e.Errorf("adapter %s: %s", e.adapter.Name, v)
		}
		p.mu.Unlock()
	}
}

// reason waits for p's Terminate and returns its reason.
func (e *env) reason(p *probe) websock.Reason {
	e.Helper()
	select {
	case r := <-p.reasons:
		p.reasons <- r // keep it for later calls; a second Terminate then shows as a violation
		return r
	case <-time.After(10 * time.Second):
		e.Fatalf("Terminate was not called within 10s (rule: Terminate is called exactly once when the connection ends)")
		return websock.Reason{}
	}
}

// wantReason checks that p terminated with kind and code and, when
// target is non-nil, a cause matching it with errors.Is.
func (e *env) wantReason(p *probe, kind websock.Kind, code websock.CloseCode, target error, rule string) websock.Reason {
	e.Helper()
	r := e.reason(p)
	if r.Kind != kind || r.Code != code {
		e.Errorf("Terminate got %v (kind %v, code %v); want kind %v, code %v (%s)", r, r.Kind, r.Code, kind, code, rule)
	}
	if target != nil && !errors.Is(r, target) {
		e.Errorf("Terminate got %v; want a cause matching %v with errors.Is (%s)", r, target, rule)
	}
	return r
}

// wantClose reads until the server's close frame and checks its code.
func (e *env) wantClose(c *client, code uint16, rule string) *closeFrame {
	e.Helper()
	cf, err := c.expectClose(10 * time.Second)
	if err != nil {
		e.Fatalf("want close %d: %v (%s)", code, err, rule)
	}
	if cf.code != code {
		e.Errorf("server closed with %d %q; want %d (%s)", cf.code, cf.text, code, rule)
	}
	return cf
}

// wantMessage reads the next message and checks it.
func (e *env) wantMessage(c *client, op byte, want string) {
	e.Helper()
	gotOp, got, err := c.readMessage(10*time.Second, nil)
	if err != nil {
		e.Fatalf("want %s message %q: %v", opName(op), short(want), err)
	}
	if gotOp != op || string(got) != want {
		e.Fatalf("got %s message %q; want %s message %q", opName(gotOp), short(string(got)), opName(op), short(want))
	}
}

func opName(op byte) string { return websock.Opcode(op).String() }

func short(s string) string {
	if len(s) > 64 {
		return fmt.Sprintf("%s... (%d bytes)", s[:64], len(s))
	}
	return s
}
