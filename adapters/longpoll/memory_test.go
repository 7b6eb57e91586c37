package longpoll_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/websock-go/websock/adapters"
	"github.com/websock-go/websock/adapters/longpoll"
	"github.com/websock-go/websock/websock"
)

// stopper ends its session in Init, with a close message its client never
// polls for: the session then waits for a poll that never comes.
type stopper struct{ ended *atomic.Int64 }

func (s stopper) Init(websock.Conn) websock.Result {
	return websock.StopCode(nil, websock.CloseNormal, "bye")
}
func (stopper) HandleIn(websock.Frame) websock.Result { return websock.OK() }
func (stopper) HandleInfo(any) websock.Result         { return websock.OK() }
func (s stopper) Terminate(websock.Reason)            { s.ended.Add(1) }

// liveHeap returns the bytes of live heap objects after a collection.
func liveHeap() uint64 {
	var m runtime.MemStats
	for range 3 {
		runtime.GC()
	}
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestEndedSessionsReleaseMemory: 20,000 sessions that ended, each with a
// close message left for a client that does not come back, hold a few
// hundred bytes each until it would have had time to (IdleTimeout), not
// the session, its engine connection and its request.
func TestEndedSessionsReleaseMemory(t *testing.T) {
	n := 20000
	if testing.Short() {
		n = 2000
	}
	var ended atomic.Int64
	h, err := longpoll.New(func(*websock.Request) (websock.Handler, error) { return stopper{&ended}, nil },
		&longpoll.Options{Options: adapters.Options{CloseTimeout: 10 * time.Millisecond, MaxConnections: -1}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	tr := &http.Transport{MaxIdleConnsPerHost: 4}
	client := &http.Client{Transport: tr}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		h.Shutdown(ctx)
		tr.CloseIdleConnections()
		srv.Close()
	})
	openAll := func(k int) {
		var wg sync.WaitGroup
		var next atomic.Int64
		for range 4 {
			wg.Go(func() {
				for next.Add(1) <= int64(k) {
					resp, err := client.Post(srv.URL, "", nil)
					if err != nil {
						t.Error(err)
						return
					}
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						t.Errorf("opening a session: %s", resp.Status)
						return
					}
				}
			})
		}
		wg.Wait()
	}
	waitEnded := func(k int64) {
		for deadline := time.Now().Add(time.Minute); ended.Load() < k || h.Live() > 0; {
			if time.Now().After(deadline) {
				t.Fatalf("%d of %d sessions ended within a minute, %d live", ended.Load(), k, h.Live())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	openAll(1) // what the first session starts once, for all
	waitEnded(1)
	base := liveHeap()
	openAll(n)
	if t.Failed() {
		return
	}
	waitEnded(int64(n) + 1)
	after := liveHeap()
	held := int64(after) - int64(base)
	t.Logf("%d ended sessions hold %d KiB (%d bytes each) of live heap after GC", n, held>>10, held/int64(n))
	if per := held / int64(n); per > 512 {
		t.Errorf("%d ended sessions hold %d MiB of live heap after GC, %d bytes each; want at most 512 bytes each (what the client has yet to poll, not the session)", n, held>>20, per)
	}
}
