package adapters_test

import (
	"os/exec"
	"strings"
	"testing"
)

// adapterPackages are the engine and the adapters, relative to this
// package.
var adapterPackages = []string{".", "./gorilla", "./coder", "./nhooyr", "./gobws", "./fasthttp", "./gws", "./nbio", "./wire"}

// deps returns every package the engine and the adapters depend on.
func deps(t *testing.T) []string {
	t.Helper()
	out, err := exec.Command("go", append([]string{"list", "-deps"}, adapterPackages...)...).CombinedOutput()
	if err != nil {
		t.Skipf("go list is not available to check the dependencies: %v\n%s", err, out)
	}
	return strings.Fields(string(out))
}

// TestNoMetricsDependencies checks that the engine and the adapters pull in
// neither Prometheus nor OpenTelemetry: only a program that imports
// adapters/observe/promobs or otelobs pays for them.
func TestNoMetricsDependencies(t *testing.T) {
	for _, dep := range deps(t) {
		if strings.Contains(dep, "prometheus") || strings.Contains(dep, "opentelemetry") {
			t.Errorf("the engine or an adapter depends on %s; metrics libraries belong in adapters/observe only", dep)
		}
	}
}

// TestOneLibraryPerAdapter checks that a program importing one adapter,
// such as gobws with its netpoll mode, or nbio, downloads that adapter's
// WebSocket library only.
func TestOneLibraryPerAdapter(t *testing.T) {
	libs := map[string]string{
		"./gobws":   "github.com/gobwas/ws",
		"./gorilla": "github.com/gorilla/websocket",
		"./gws":     "github.com/lxzan/gws",
		"./nbio":    "github.com/lesismal/nbio",
	}
	others := []string{"github.com/gobwas/ws", "github.com/gorilla/websocket", "github.com/lxzan/gws",
		"github.com/coder/websocket", "nhooyr.io/websocket", "github.com/fasthttp/websocket", "github.com/valyala/fasthttp",
		"github.com/lesismal/nbio"}
	for pkg, own := range libs {
		out, err := exec.Command("go", "list", "-deps", pkg).CombinedOutput()
		if err != nil {
			t.Skipf("go list is not available to check the dependencies: %v\n%s", err, out)
		}
		for _, dep := range strings.Fields(string(out)) {
			for _, lib := range others {
				if lib != own && (dep == lib || strings.HasPrefix(dep, lib+"/")) {
					t.Errorf("adapters/%s depends on %s, another WebSocket library; each adapter pulls in its own only", pkg[2:], dep)
				}
			}
		}
	}
}

// TestNoHTTP2ClientDependency checks that serving WebSockets over HTTP/2
// takes nothing but net/http: golang.org/x/net/http2 is the conformance
// suite's HTTP/2 client, not the engine's or an adapter's.
func TestNoHTTP2ClientDependency(t *testing.T) {
	for _, dep := range deps(t) {
		if strings.HasPrefix(dep, "golang.org/x/net/http2") {
			t.Errorf("the engine or an adapter depends on %s; golang.org/x/net/http2 belongs in the conformance suite only", dep)
		}
	}
}

// TestPubSubWithoutBrokerLibraries checks that a program importing only
// pubsub (and its in-process broker) pulls in neither NATS nor Redis:
// those come with pubsub/natsbroker and pubsub/redisbroker alone.
func TestPubSubWithoutBrokerLibraries(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "./pubsub").CombinedOutput()
	if err != nil {
		t.Skipf("go list is not available to check the dependencies: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		for _, lib := range []string{"github.com/nats-io/", "github.com/redis/"} {
			if strings.HasPrefix(dep, lib) {
				t.Errorf("adapters/pubsub depends on %s; broker libraries belong in pubsub/natsbroker and pubsub/redisbroker only", dep)
			}
		}
	}
}

// TestTestKitStandardLibraryOnly checks that websocktest, which every
// handler's tests import, takes nothing beyond the standard library and
// this module, its tests included: no WebSocket library, not the
// conformance suite (which pulls in golang.org/x/net), not even goleak.
func TestTestKitStandardLibraryOnly(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-test", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", "./websocktest").CombinedOutput()
	if err != nil {
		t.Skipf("go list is not available to check the dependencies: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		if strings.HasPrefix(dep, "[") {
			continue // "[... .test]": the variant of a package built for the tests
		}
		if !strings.HasPrefix(dep, "github.com/websock-go/websock/") || strings.HasPrefix(dep, "github.com/websock-go/websock/conformance") {
			t.Errorf("adapters/websocktest depends on %s; it may import the standard library and this module's engine packages only", dep)
		}
	}
}
