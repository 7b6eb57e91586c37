package conformance

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"time"
)

// reporter is what a case reports to: a *testing.T under [Run], a
// recorder under [Test].
type reporter interface {
	Helper()
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
	Skipf(format string, args ...any)
	// Logf records a measurement or a note; it is not a failure.
	Logf(format string, args ...any)
	Cleanup(f func())
	// sub runs f as a named part of the case.
	sub(name string, f func(r reporter))
}

// testingT reports to a *testing.T.
type testingT struct{ *testing.T }

func (t testingT) sub(name string, f func(r reporter)) {
	t.Run(name, func(t *testing.T) { f(testingT{t}) })
}

// caseTimeout bounds one case under Test, so that an adapter that hangs
// fails its case instead of hanging the run. Run relies on go test's own
// -timeout instead.
const caseTimeout = 2 * time.Minute

// recorder records what a case reports, for Test, which runs without the
// testing package. Fatalf and Skipf end the case's goroutine, as they do
// on a *testing.T.
type recorder struct {
	name string

	mu       sync.Mutex
	problems []string
	skipped  string
	cleanups []func()
}

func (r *recorder) Helper() {}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.problems = append(r.problems, fmt.Sprintf(format, args...))
}

func (r *recorder) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	runtime.Goexit()
}

func (r *recorder) Skipf(format string, args ...any) {
	r.mu.Lock()
	r.skipped = fmt.Sprintf(format, args...)
	r.mu.Unlock()
	runtime.Goexit()
}

// Logf drops what a case logs: Test reports failures only.
func (r *recorder) Logf(format string, args ...any) {}

func (r *recorder) Cleanup(f func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cleanups = append(r.cleanups, f)
}

func (r *recorder) sub(name string, f func(r reporter)) {
	s := &recorder{name: name}
	s.run(f)
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, p := range s.problems {
		r.problems = append(r.problems, name+": "+p)
	}
}

// run runs f on a goroutine of its own, as a subtest would run, then its
// cleanups, last first. A panic is recorded as a problem.
func (r *recorder) run(f func(r reporter)) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer func() {
			if v := recover(); v != nil {
				r.Errorf("panic: %v\n%s", v, debug.Stack())
			}
		}()
		f(r)
	}()
	select {
	case <-done:
	case <-time.After(caseTimeout):
		r.Errorf("did not finish within %v (rule: a case ends; an adapter that blocks forever fails it)", caseTimeout)
		return // the case's goroutine is left behind; its cleanups cannot run safely
	}
	r.mu.Lock()
	cleanups := r.cleanups
	r.cleanups = nil
	r.mu.Unlock()
	for i := len(cleanups) - 1; i >= 0; i-- {
		func() {
			defer func() {
				if v := recover(); v != nil {
					r.Errorf("panic in cleanup: %v", v)
				}
			}()
			cleanups[i]()
		}()
	}
}

// CaseError is the failure of one case under [Test]: the case, with the
// rule it checks, and what went wrong. Find each with errors.As on the
// joined error Test returns.
type CaseError struct {
	Adapter  string
	Case     Case
	Problems []string
}

func (e *CaseError) Error() string {
	return fmt.Sprintf("conformance: adapter %s fails case %s (%s: %s):\n\t%s", e.Adapter, e.Case.Name,
		e.Case.Source, e.Case.Rule, strings.Join(e.Problems, "\n\t"))
}
