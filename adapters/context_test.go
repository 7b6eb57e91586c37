package adapters_test

import (
	"context"
	"testing"
	"time"

	"github.com/websock-go/websock/websock"
)

// ctxRecorder records, in Terminate, whether its connection's Context was
// done by then, and keeps the Conn to ask it again afterwards.
type ctxRecorder struct {
	*recorder
	conn       chan websock.ContextConn
	doneBefore chan bool
}

func (r *ctxRecorder) Init(c websock.Conn) websock.Result {
	cc := c.(websock.ContextConn)
	r.conn <- cc
	return r.recorder.Init(c)
}

func (r *ctxRecorder) Terminate(reason websock.Reason) {
	r.doneBefore <- (<-r.conn).Context().Err() != nil
	r.recorder.Terminate(reason)
}

// An engine connection's Context is done when its end is decided, before
// Terminate runs, whether it was made before (early) or first asked for in
// Terminate.
func TestConnContextEndsBeforeTerminate(t *testing.T) {
	for _, early := range []bool{true, false} {
		rec := &ctxRecorder{recorder: newRecorder(), conn: make(chan websock.ContextConn, 1), doneBefore: make(chan bool, 1)}
		ws := start(t, func(*websock.Request) (websock.Handler, error) { return rec, nil })
		nc, err := ws.Dial(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		c := upgrade(t, nc)
		var ctx context.Context
		if early {
			cc := <-rec.conn
			ctx = cc.Context()
			rec.conn <- cc
			if ctx.Err() != nil {
				t.Fatal("Context done while the connection is open")
			}
		}
		c.send(t, 0x8, []byte{0x03, 0xe8}) // close 1000
		if early {
			select {
			case <-ctx.Done():
			case <-time.After(10 * time.Second):
				t.Fatal("Context not done within 10 s of the peer's close")
			}
		}
		rec.waitTerminate(t)
		if !<-rec.doneBefore {
			t.Errorf("early=%v: Context was not done when Terminate ran", early)
		}
	}
}
