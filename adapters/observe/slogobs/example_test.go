package slogobs_test

import (
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"time"

	"github.com/websock-go/websock/adapters"
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

// The lines are what the engine's events carry, under stable keys. Here
// the Observer is called directly, as an engine would at a connection's
// end and at a refused upgrade.
func Example_lines() {
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey && len(groups) == 0 {
				return slog.Attr{} // for a stable output
			}
			return a
		},
	}))
	obs := slogobs.New(logger)
	u, _ := url.Parse("/chat")
	info := &websock.ConnInfo{Adapter: "gorilla", RemoteAddr: "192.0.2.1:50000", URL: u}
	obs.Upgrade(adapters.UpgradeEvent{Adapter: "gorilla", Outcome: adapters.RefusedOrigin, Status: 403,
		Request: &websock.Request{URL: u, RemoteAddr: "192.0.2.7:40000"}})
	obs.End(adapters.EndEvent{Adapter: "gorilla", Info: info,
		Reason: websock.Reason{Kind: websock.KindRemote, Code: 1000, Err: &websock.CloseError{Code: 1000}},
		Sent:   1000, Received: 1000, Duration: 90 * time.Second,
		In:  adapters.Traffic{Text: adapters.Tally{Frames: 3, Bytes: 42}, Close: adapters.Tally{Frames: 1, Bytes: 2}},
		Out: adapters.Traffic{Text: adapters.Tally{Frames: 5, Bytes: 120}, Close: adapters.Tally{Frames: 1, Bytes: 2}}})
	// Output:
	// level=INFO msg="websocket upgrade refused" adapter=gorilla outcome=origin status=403 remote=192.0.2.7:40000 path=/chat
	// level=INFO msg="websocket end" adapter=gorilla remote=192.0.2.1:50000 path=/chat kind=remote code=1000 sent=1000 received=1000 duration=1m30s err="websock: peer closed with 1000 (normal closure)" mailbox_peak=0 mailbox_refused=0 in.text=3 in.text_bytes=42 in.binary=0 in.binary_bytes=0 in.ping=0 in.pong=0 in.close=1 out.text=5 out.text_bytes=120 out.binary=0 out.binary_bytes=0 out.ping=0 out.pong=0 out.close=1
}
