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
	err := run([]string{"-duration", "1s", "-conns", "24", "-senders", "2"}, &out)
	t.Log(out.String())
	if err != nil {
		t.Fatalf("soak: %v", err)
	}
	for _, name := range builtin.WebSocketNames() {
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
