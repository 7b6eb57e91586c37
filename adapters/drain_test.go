package adapters_test

import (
	"context"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/websock-go/websock/conformance/reference"
	"github.com/websock-go/websock/websock"
)

// A paced drain whose batches cannot end before the context's deadline
// sends every remaining connection its close frame while there is still
// CloseTimeout left, instead of cutting them off at the deadline.
func TestDrainRushesBeforeTheDeadline(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	const conns = 3
	rs := make(chan *recorder, conns)
	ws, err := reference.New(func(*websock.Request) (websock.Handler, error) {
		r := newRecorder()
		rs <- r
		return r, nil
	}, &reference.Options{DrainBatch: 1, DrainInterval: time.Hour, CloseTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	var clients []*client
	for range conns {
		nc, err := ws.Dial(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		c := upgrade(t, nc)
		c.send(t, 0x1, []byte("hi"))
		c.read(t) // the echo: the connection runs
		clients = append(clients, c)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	shut := make(chan error, 1)
	go func() { shut <- ws.Shutdown(ctx) }()
	for _, c := range clients {
		c.nc.SetDeadline(time.Now().Add(10 * time.Second))
		c.wantClose(t, websock.CloseGoingAway)
		// The reply may find the connection closed already: the first
		// batch's CloseTimeout can run out while the test reads another.
		c.nc.Write([]byte{0x88, 0x82, 0, 0, 0, 0, 0x03, 0xe9})
	}
	if err := <-shut; err != nil {
		t.Errorf("Shutdown = %v; want nil: every connection had its close frame and CloseTimeout before the deadline", err)
	}
	for range conns {
		if r := (<-rs).waitTerminate(t); r.Kind != websock.KindShutdown {
			t.Errorf("Terminate got %v; want Shutdown", r)
		}
	}
}
