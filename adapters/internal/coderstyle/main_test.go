package coderstyle_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the run if a goroutine outlives the tests: ServeConn
// must leave none behind, the library's included.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
