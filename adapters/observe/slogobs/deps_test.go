package slogobs_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestStandardLibraryOnly checks that slogobs, with everything it imports,
// needs nothing but the standard library and this module.
func TestStandardLibraryOnly(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", ".").CombinedOutput()
	if err != nil {
		t.Skipf("go list is not available to check the dependencies: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		if !strings.HasPrefix(dep, "github.com/websock-go/websock/") {
			t.Errorf("slogobs depends on %s; it may need only the standard library and this module", dep)
		}
	}
}
