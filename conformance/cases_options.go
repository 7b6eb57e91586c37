package conformance

import (
	"context"
	"errors"
	"time"

	"github.com/websock-go/websock/adapters"
)

// optionOf maps a feature to the option that asks for it.
var optionOf = map[adapters.Feature]adapters.Options{
	adapters.FeatureCompression: {Compression: true},
	adapters.FeatureKeepalive:   {PingInterval: time.Second},
}

func unsupportedOptionRefused(e *env) {
	checked := 0
	for _, f := range adapters.Features() {
		why := e.adapter.Lacks.Why(f)
		o, ok := optionOf[f]
		if why == "" || !ok {
			continue
		}
		checked++
		accept, _ := probes(nil, false)
		srv, err := e.adapter.Serve(accept, &o)
		if err == nil {
			srv.Shutdown(context.Background())
			e.Errorf("adapter %s declares %s unsupported (%s) but accepted the option; want an error matching adapters.ErrUnsupportedOption", e.adapter.Name, f, why)
			continue
		}
		if !errors.Is(err, adapters.ErrUnsupportedOption) {
			e.Errorf("setting %s on adapter %s: %v; want an error matching adapters.ErrUnsupportedOption", f, e.adapter.Name, err)
		}
	}
	if checked == 0 {
		e.Skipf("adapter %s supports every option; nothing to refuse", e.adapter.Name)
	}
}
