package otelobs_test

import (
	"log"
	"net/http"

	"go.opentelemetry.io/otel"

	"github.com/websock-go/websock/adapters/gorilla"
	"github.com/websock-go/websock/adapters/observe/otelobs"
	"github.com/websock-go/websock/websock"
)

// The Observer records through the global MeterProvider, which the
// program sets up with its SDK and exporter.
func Example() {
	obs, err := otelobs.New(otel.GetMeterProvider())
	if err != nil {
		log.Fatal(err)
	}
	echo := func(*websock.Request) (websock.Handler, error) {
		return websock.HandlerFunc(func(f websock.Frame) websock.Result { return websock.Push(f) }), nil
	}
	h, err := gorilla.New(echo, &gorilla.Options{Observer: obs})
	if err != nil {
		log.Fatal(err)
	}
	http.Handle("/ws", h)
	// http.ListenAndServe(":8080", nil)
}
