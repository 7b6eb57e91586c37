package slogobs_test

import (
	"log/slog"
	"net/http"
	"os"

	"github.com/websock-go/websock/adapters/gorilla"
	"github.com/websock-go/websock/adapters/observe/slogobs"
	"github.com/websock-go/websock/websock"
)

// Every event an adapter's engine observes becomes one log line.
func Example() {
	logger := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	echo := func(*websock.Request) (websock.Handler, error) {
		return websock.HandlerFunc(func(f websock.Frame) websock.Result { return websock.Push(f) }), nil
	}
	h, err := gorilla.New(echo, &gorilla.Options{Observer: slogobs.New(logger)})
	if err != nil {
		logger.Error("websocket server", "err", err)
		return
	}
	http.Handle("/ws", h)
	// http.ListenAndServe(":8080", nil)
}
