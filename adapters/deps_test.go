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
