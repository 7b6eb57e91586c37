package adapters_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNoMetricsDependencies checks that the engine and the adapters pull in
// neither Prometheus nor OpenTelemetry: only a program that imports
// adapters/observe/promobs or otelobs pays for them.
func TestNoMetricsDependencies(t *testing.T) {
	pkgs := []string{".", "./gorilla", "./coder", "./nhooyr", "./gobws", "./fasthttp", "./gws", "./wire"}
	out, err := exec.Command("go", append([]string{"list", "-deps"}, pkgs...)...).CombinedOutput()
	if err != nil {
		t.Skipf("go list is not available to check the dependencies: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		if strings.Contains(dep, "prometheus") || strings.Contains(dep, "opentelemetry") {
			t.Errorf("the engine or an adapter depends on %s; metrics libraries belong in adapters/observe only", dep)
		}
	}
}

// TestOneLibraryPerAdapter checks that a program importing one adapter,
// such as gobws with its netpoll mode, downloads that adapter's
// WebSocket library only.
func TestOneLibraryPerAdapter(t *testing.T) {
	libs := map[string]string{
		"./gobws":   "github.com/gobwas/ws",
		"./gorilla": "github.com/gorilla/websocket",
		"./gws":     "github.com/lxzan/gws",
	}
	others := []string{"github.com/gobwas/ws", "github.com/gorilla/websocket", "github.com/lxzan/gws",
		"github.com/coder/websocket", "nhooyr.io/websocket", "github.com/fasthttp/websocket", "github.com/valyala/fasthttp"}
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
