package gorilla_test

import (
	"testing"

	"github.com/websock-go/websock/adapters/gorilla"
	"github.com/websock-go/websock/internal/builtintest"
)

func TestConformance(t *testing.T) {
	builtintest.Run(t, gorilla.Name)
}
