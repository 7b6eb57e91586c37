package builtin

import (
	"context"
	"net"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/websock-go/websock/adapters"
	fasthttpws "github.com/websock-go/websock/adapters/fasthttp"
	"github.com/websock-go/websock/websock"
)

func init() {
	register(Adapter{
		Name:  fasthttpws.Name,
		Start: startFastHTTP,
		Unsupported: map[string]string{
			"CloseCode1014":       "fasthttp/websocket, a gorilla/websocket fork, takes the registered close code 1014 (bad gateway) for an invalid one and answers it with 1002 itself",
			"CloseOneBytePayload": "fasthttp/websocket, a gorilla/websocket fork, reports a close frame with a 1-byte payload as one with no status code, so it cannot be refused with 1002",
		},
	})
}

// fastHTTPConcurrency bounds the connections fasthttp serves at once in
// their HTTP phase. An upgraded connection no longer counts: fasthttp
// releases its worker and its concurrency slot when it hands the
// connection to the hijack goroutine, so this does not limit how many
// WebSocket connections are live.
const fastHTTPConcurrency = 64 << 10

// startFastHTTP serves the fasthttp adapter with a fasthttp server on addr.
func startFastHTTP(addr string, accept websock.AcceptFunc, opts *adapters.Options) (*Server, error) {
	h, err := fasthttpws.New(accept, opts)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	srv := &fasthttp.Server{
		Handler:     h.ServeFastHTTP,
		Name:        "websock",
		Concurrency: fastHTTPConcurrency,
		// The timeouts bound the HTTP phase only: fasthttp clears the
		// deadlines before it hands an upgraded connection over, and the
		// engine's IdleTimeout and WriteTimeout govern it from then on.
		ReadTimeout:  10 * time.Second,
		WriteTimeout: 10 * time.Second,
		IdleTimeout:  10 * time.Second,
		// fasthttp's worker pool has a cleaner goroutine that notices the
		// server stopped only when it wakes, every MaxIdleWorkerDuration
		// (default 10 s); a short period lets it end soon after Shutdown
		// instead of outliving the server by seconds.
		MaxIdleWorkerDuration: 100 * time.Millisecond,
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.Serve(ln)
	}()
	return &Server{
		Addr: ln.Addr().String(),
		Shutdown: func(ctx context.Context) error {
			// fasthttp's Shutdown does not close upgraded connections: the
			// engine closes them with 1001 and waits for their Terminate.
			err := h.Shutdown(ctx)
			if e := srv.ShutdownWithContext(ctx); err == nil {
				err = e
			}
			<-done
			return err
		},
		Live: h.Live,
	}, nil
}
