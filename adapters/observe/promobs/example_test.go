package promobs_test

import (
	"log"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/websock-go/websock/adapters/gorilla"
	"github.com/websock-go/websock/adapters/observe/promobs"
	"github.com/websock-go/websock/websock"
)

// One Observer per registry, shared by every engine: the adapter label
// tells them apart.
func Example() {
	obs, err := promobs.New(prometheus.DefaultRegisterer)
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
	http.Handle("/metrics", promhttp.Handler())
	// http.ListenAndServe(":8080", nil)
}
