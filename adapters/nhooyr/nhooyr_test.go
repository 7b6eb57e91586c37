package nhooyr_test

import (
	"testing"

	"github.com/websock-go/websock/adapters/nhooyr"
	"github.com/websock-go/websock/internal/builtintest"
)

func TestConformance(t *testing.T) {
	builtintest.Run(t, nhooyr.Name)
}
