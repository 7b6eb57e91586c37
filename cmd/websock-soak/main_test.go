package main

import (
	"bytes"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/websock-go/websock/cmd/internal/builtin"
)

func TestMain(m *testing.M) {
	// fasthttp keeps the Date header current with one goroutine for the
	// life of the process.
	goleak.VerifyTestMain(m, goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.updateServerDate.func1"))
}

// TestSoakBriefly soaks every adapter for a second with a few connections:
// every fault is injected, and every invariant must hold.
func TestSoakBriefly(t *testing.T) {
	var out bytes.Buffer
	args := []string{"-duration", "1s", "-conns", "24", "-senders", "2"}
	names := builtin.WebSocketNames()
	if testing.Short() {
		// make check soaks one adapter; make test soaks them all.
		names = names[:1]
		args = append(args, "-adapters", names[0])
	}
	err := run(args, &out)
	t.Log(out.String())
	if err != nil {
		t.Fatalf("soak: %v", err)
	}
	for _, name := range names {
		if !strings.Contains(out.String(), "| "+name+" |") {
			t.Errorf("no result for adapter %s", name)
		}
	}
	if strings.Contains(out.String(), "FAIL") {
		t.Error("an invariant broke")
	}
}

func TestBadFlags(t *testing.T) {
	for _, args := range [][]string{{"-adapters", "nosuch"}, {"-conns", "0"}, {"-duration", "-1s"}, {"-conns", "100000"}} {
		if err := run(args, new(bytes.Buffer)); err == nil {
			t.Errorf("run %q succeeded; want an error", args)
		}
	}
}
