package reference_test

import (
	"fmt"
	"go/parser"
	"go/token"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"go.uber.org/goleak"

	"github.com/websock-go/websock/adapters"
	"github.com/websock-go/websock/conformance"
	"github.com/websock-go/websock/conformance/reference"
	"github.com/websock-go/websock/internal/xconnect"
	"github.com/websock-go/websock/websock"
)

func TestMain(m *testing.M) {
	if !xconnect.Enabled() {
		conformance.MainHTTP2(m) // runs the tests again with GODEBUG=http2xconnect=1, and exits
	}
	goleak.VerifyTestMain(m)
}

// TestConformance runs the whole suite: the reference adapter lacks
// nothing, so no case may skip for a lacking feature.
func TestConformance(t *testing.T) {
	if reference.Adapter.Lacks != (adapters.Lacks{}) {
		t.Fatalf("the reference adapter declares lacking %+v; it must lack nothing", reference.Adapter.Lacks)
	}
	conformance.Run(t, conformance.Adapter{Adapter: reference.Adapter, Serve: Serve})
}

var endpoints atomic.Int64

// Serve starts the adapter for one case of the suite, at a host of its
// own that only its Dial reaches.
func Serve(accept websock.AcceptFunc, opts *adapters.Options) (*conformance.Server, error) {
	h, err := reference.New(accept, opts)
	if err != nil {
		return nil, err
	}
	return &conformance.Server{
		URL:      fmt.Sprintf("ws://reference-%d.invalid/", endpoints.Add(1)),
		Dial:     h.Dial,
		Shutdown: h.Shutdown,
		Restart:  h.Restart,
	}, nil
}

// TestStandardLibraryOnly checks that the reference adapter imports
// nothing but the standard library and this module.
func TestStandardLibraryOnly(t *testing.T) {
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			first, _, _ := strings.Cut(path, "/")
			if strings.Contains(first, ".") && !strings.HasPrefix(path, "github.com/websock-go/websock/") {
				t.Errorf("%s imports %s; the reference adapter may import only the standard library and this module", name, path)
			}
		}
	}
}

// TestConformancePush runs the whole suite on the push-style variant: it
// lacks nothing either.
func TestConformancePush(t *testing.T) {
	if reference.PushAdapter.Lacks != (adapters.Lacks{}) {
		t.Fatalf("the push-style reference adapter declares lacking %+v; it must lack nothing", reference.PushAdapter.Lacks)
	}
	conformance.Run(t, conformance.Adapter{Adapter: reference.PushAdapter, Serve: ServePush})
}

// ServePush is Serve for the push-style variant.
func ServePush(accept websock.AcceptFunc, opts *adapters.Options) (*conformance.Server, error) {
	h, err := reference.NewPush(accept, opts)
	if err != nil {
		return nil, err
	}
	return &conformance.Server{
		URL:      fmt.Sprintf("ws://reference-push-%d.invalid/", endpoints.Add(1)),
		Dial:     h.Dial,
		Shutdown: h.Shutdown,
		Restart:  h.Restart,
	}, nil
}
