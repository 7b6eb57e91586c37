package websocktest

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// The package's own leak check. Every goroutine the package starts, and
// every goroutine those start in turn (the engine's, the handler's), runs
// under a profiler label naming the Server or Peer it belongs to; labels
// pass to the goroutines a goroutine starts. When the test ends, every
// goroutine that still carries the label has outlived its connection.

const labelKey = "websocktest"

var lastID atomic.Int64

// leakWait is how long the check waits for goroutines that are ending.
var leakWait = Timeout / 2

// tracker labels the goroutines of one Server or Peer.
type tracker struct {
	id     string
	labels pprof.LabelSet
}

func newTracker() *tracker {
	id := strconv.FormatInt(lastID.Add(1), 10)
	return &tracker{id: id, labels: pprof.Labels(labelKey, id)}
}

// do runs f on the calling goroutine under the tracker's label: the
// goroutines f starts carry it.
func (k *tracker) do(f func()) {
	pprof.Do(context.Background(), k.labels, func(context.Context) { f() })
}

// goDo runs f on a goroutine of its own, under the tracker's label.
func (k *tracker) goDo(f func()) {
	k.do(func() { go f() })
}

// ended waits for done, closed once what is named ended at the test's
// end, and reports whether it was; it fails tb when it was not.
func (k *tracker) ended(tb testing.TB, done <-chan struct{}, what string) bool {
	select {
	case <-done:
		return true
	case <-time.After(Timeout):
		tb.Errorf("websocktest: %s did not end within %v of the test's end: its handler is stuck in a callback", what, Timeout)
		return false
	}
}

// check fails tb for every goroutine still labelled, of whose.
func (k *tracker) check(tb testing.TB, whose string) {
	if left := k.leaked(leakWait); len(left) > 0 {
		tb.Errorf("websocktest: %d goroutine stack(s) of %s outlived them (a goroutine started by the handler must end by Terminate):\n%s",
			len(left), whose, strings.Join(left, "\n"))
	}
}

// leaked returns the stacks of the goroutines still labelled, waiting up to
// wait for them to end: a goroutine that is ending may not have returned
// yet when the test does.
func (k *tracker) leaked(wait time.Duration) []string {
	deadline := time.Now().Add(wait)
	for pause := time.Millisecond; ; pause = min(2*pause, 50*time.Millisecond) {
		left := k.labelled()
		if len(left) == 0 || time.Now().After(deadline) {
			return left
		}
		time.Sleep(pause)
	}
}

// labelled lists the goroutines that carry the tracker's label, each as
// its count and the functions on its stack, from the goroutine profile.
func (k *tracker) labelled() []string {
	var b bytes.Buffer
	pprof.Lookup("goroutine").WriteTo(&b, 1)
	want := fmt.Sprintf("%q:%q", labelKey, k.id)
	var out []string
	for _, rec := range strings.Split(b.String(), "\n\n") {
		lines := strings.Split(rec, "\n")
		if len(lines) < 2 || !strings.HasPrefix(lines[1], "# labels: ") || !strings.Contains(lines[1], want) {
			continue
		}
		n, _, _ := strings.Cut(lines[0], " ")
		var funcs []string
		sc := bufio.NewScanner(strings.NewReader(strings.Join(lines[2:], "\n")))
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			if len(f) >= 4 && f[0] == "#" {
				fn, _, _ := strings.Cut(f[2], "+0x")
				funcs = append(funcs, fn+" "+f[3])
			}
		}
		out = append(out, fmt.Sprintf("%s goroutine(s):\n\t%s", n, strings.Join(funcs, "\n\t")))
	}
	return out
}
