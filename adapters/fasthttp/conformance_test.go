package fasthttp_test

import (
	"testing"

	"github.com/valyala/fasthttp"

	wsfasthttp "github.com/websock-go/websock/adapters/fasthttp"
	"github.com/websock-go/websock/internal/builtintest"
)

// startDateUpdater starts the goroutine that fasthttp runs, once per
// process and for the life of the process, to keep the Date response
// header current. It starts with the first response written; starting it
// before the suite keeps the suite's goroutine-leak check from taking it
// for a goroutine that outlived a connection.
func startDateUpdater() {
	var h fasthttp.ResponseHeader
	_ = h.Header()
}

func TestConformance(t *testing.T) {
	startDateUpdater()
	builtintest.Run(t, wsfasthttp.Name)
}
