package coder_test

import (
	"testing"

	"github.com/websock-go/websock/adapters/coder"
	"github.com/websock-go/websock/internal/builtintest"
)

func TestConformance(t *testing.T) {
	builtintest.Run(t, coder.Name)
}
