package adapters

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/websock-go/websock/websock"
)

// The limits on what clients may take of an endpoint: Options.MaxConnections
// (with the process-wide descriptor cap it defaults to) and
// Options.UpgradeRate. Serve applies them after checking that the request
// is a WebSocket upgrade and before anything of the caller's runs (the
// AcceptFunc, the Handler); a request over a limit gets 503 with
// Retry-After.

// DescriptorReserve is how many descriptors the default connection cap
// (Options.MaxConnections) keeps for everything else a process opens:
// listeners, the metrics and debug endpoints, log files, outgoing
// connections, and the connections it answers 503 on. A process whose
// descriptor limit is not over twice this keeps half of it.
const DescriptorReserve = 256

// held counts the connections, reservations and admissions of every
// Engine whose MaxConnections is not negative, for the descriptor cap.
var held atomic.Int64

// descriptorCap returns the process-wide cap of the default
// MaxConnections, or 0 when the descriptor limit cannot be read.
func descriptorCap() int64 {
	limit, ok := descriptorLimit()
	if !ok {
		return 0
	}
	return capFor(limit)
}

// capFor returns the descriptor cap for a descriptor limit.
func capFor(limit uint64) int64 {
	reserve := limit / 2
	if limit > 2*DescriptorReserve {
		reserve = DescriptorReserve
	}
	return int64(min(limit-reserve, math.MaxInt32))
}

// tallyLocked brings held up to date with e's count. Called with mu held,
// after every change of conns, pending or admitting.
func (e *Engine) tallyLocked() {
	if e.opts.MaxConnections < 0 {
		return
	}
	n := len(e.conns) + e.pending + e.admitting
	held.Add(int64(n - e.held))
	e.held = n
}

// bucket is the token bucket of Options.UpgradeRate: it holds up to burst
// tokens, gains rate tokens a second, and each upgrade takes one. Its
// fields are guarded by the Engine's mu.
type bucket struct {
	rate, burst float64 // rate 0: no limit
	tokens      float64
	last        time.Time
}

func newBucket(rate float64, burst int) bucket {
	if rate <= 0 || math.IsNaN(rate) || math.IsInf(rate, 0) {
		return bucket{}
	}
	b := float64(burst)
	if burst <= 0 {
		b = math.Max(1, math.Ceil(rate))
	}
	return bucket{rate: rate, burst: b, tokens: b}
}

// take takes a token if there is one. Otherwise it returns how long until
// there is.
func (b *bucket) take(now time.Time) (wait time.Duration, ok bool) {
	if b.rate == 0 {
		return 0, true
	}
	if !b.last.IsZero() {
		b.tokens = math.Min(b.burst, b.tokens+now.Sub(b.last).Seconds()*b.rate)
	}
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		return 0, true
	}
	return time.Duration((1 - b.tokens) / b.rate * float64(time.Second)), false
}

// admit applies the limits to an upgrade request. It returns the refusal
// to answer with, or nil: the request is then counted against
// MaxConnections until reserve turns it into a reservation or admitted
// gives it up.
func (e *Engine) admit() (*websock.HTTPError, UpgradeOutcome) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if max := e.opts.MaxConnections; max > 0 && len(e.conns)+e.pending+e.admitting >= max {
		return refuseConnectionCap(max), RefusedConnectionCap
	}
	if e.fdCap > 0 && held.Load() >= e.fdCap {
		return refuseDescriptorCap(e.fdCap), RefusedConnectionCap
	}
	if wait, ok := e.rate.take(e.opts.Clock.Now()); !ok {
		return refuseRateLimit(e.opts.UpgradeRate, wait), RefusedRateLimit
	}
	e.admitting++
	e.tallyLocked()
	return nil, 0
}

// admitted gives up the place admit counted, for a request refused before
// it was reserved.
func (e *Engine) admitted() {
	e.mu.Lock()
	e.admitting--
	e.tallyLocked()
	e.mu.Unlock()
}

func refuseConnectionCap(max int) *websock.HTTPError {
	he := websock.Refuse(http.StatusServiceUnavailable, fmt.Sprintf(
		"websocket: this endpoint serves at most %d connections at once and is full; reconnect later\n", max))
	he.Header = http.Header{"Retry-After": {"1"}}
	return he
}

func refuseDescriptorCap(max int64) *websock.HTTPError {
	he := websock.Refuse(http.StatusServiceUnavailable, fmt.Sprintf(
		"websocket: this server runs at most %d connections at once, what its descriptor limit allows, and is full; reconnect later\n", max))
	he.Header = http.Header{"Retry-After": {"1"}}
	return he
}

func refuseRateLimit(rate float64, wait time.Duration) *websock.HTTPError {
	he := websock.Refuse(http.StatusServiceUnavailable, fmt.Sprintf(
		"websocket: this endpoint accepts at most %g new connections a second; reconnect later\n", rate))
	he.Header = http.Header{"Retry-After": {strconv.Itoa(max(1, int(math.Ceil(wait.Seconds()))))}}
	return he
}
