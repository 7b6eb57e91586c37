package main

import (
	"encoding/json"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/websock-go/websock/adapters/observe/promobs"
)

// metrics are the demo's Prometheus metrics: one Observer shared by every
// adapter, its series told apart by the adapter label.
type metrics struct {
	reg *prometheus.Registry
	obs *promobs.Observer
}

func newMetrics() (*metrics, error) {
	reg := prometheus.NewRegistry()
	obs, err := promobs.New(reg)
	if err != nil {
		return nil, err
	}
	return &metrics{reg: reg, obs: obs}, nil
}

// counters is one adapter's row of live counters on the page.
type counters struct {
	Adapter string  `json:"adapter"`
	Live    float64 `json:"live"`   // connections running now
	In      float64 `json:"in"`     // text and binary messages received
	Out     float64 `json:"out"`    // text and binary messages sent
	Closes  float64 `json:"closes"` // connections ended
}

// counters sums the metrics into one row per adapter, in the order of
// names, from what /metrics serves.
func (m *metrics) counters(names []string) ([]counters, error) {
	mfs, err := m.reg.Gather()
	if err != nil {
		return nil, err
	}
	rows := make(map[string]*counters, len(names))
	for _, n := range names {
		rows[n] = &counters{Adapter: n}
	}
	for _, mf := range mfs {
		for _, mt := range mf.GetMetric() {
			l := map[string]string{}
			for _, lp := range mt.GetLabel() {
				l[lp.GetName()] = lp.GetValue()
			}
			row := rows[l["adapter"]]
			if row == nil {
				continue
			}
			switch mf.GetName() {
			case "websock_connections":
				row.Live += mt.GetGauge().GetValue()
			case "websock_closes_total":
				row.Closes += mt.GetCounter().GetValue()
			case "websock_messages_total":
				if l["type"] != "text" && l["type"] != "binary" {
					break
				}
				if l["direction"] == "in" {
					row.In += mt.GetCounter().GetValue()
				} else {
					row.Out += mt.GetCounter().GetValue()
				}
			}
		}
	}
	out := make([]counters, 0, len(names))
	for _, n := range names {
		out = append(out, *rows[n])
	}
	return out, nil
}

// handle adds /metrics (Prometheus) and /counters (the page's rows, as
// JSON) to mux, for the adapters called names.
func (m *metrics) handle(mux *http.ServeMux, names []string) {
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /counters", func(w http.ResponseWriter, r *http.Request) {
		rows, err := m.counters(names)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		json.NewEncoder(w).Encode(rows)
	})
}
