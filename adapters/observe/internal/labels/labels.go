// Package labels maps what an Observer sees to the bounded label values
// the metrics of adapters/observe share.
package labels

import (
	"errors"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/websock-go/websock/websock"
)

// Types are the message types, as label values, by Type's index.
var Types = [5]string{"text", "binary", "ping", "pong", "close"}

// Directions are the directions, as label values, by
// adapters.Direction - 1.
var Directions = [2]string{"in", "out"}

// Type returns the index in Types of op, or -1.
func Type(op websock.Opcode) int {
	switch op {
	case websock.OpText:
		return 0
	case websock.OpBinary:
		return 1
	case websock.OpPing:
		return 2
	case websock.OpPong:
		return 3
	case websock.OpClose:
		return 4
	}
	return -1
}

// Code returns the label value of close code c: its number for the codes
// 1000 to 1015, "3xxx" and "4xxx" for the registered and private ranges,
// "other" for anything else.
func Code(c websock.CloseCode) string {
	switch {
	case c >= 1000 && c <= 1015:
		return strconv.Itoa(int(c))
	case c >= 3000 && c <= 3999:
		return "3xxx"
	case c >= 4000 && c <= 4999:
		return "4xxx"
	}
	return "other"
}

// Close is a kind and code label pair of websock_closes_total.
type Close struct{ Kind, Code string }

// Closes are the pairs an Observer makes exist at zero for an adapter:
// every ending whose close code the engine chooses (the table of
// websock.Reason, without StopCode's codes of the handler's choosing),
// and a peer that closes normally (1000), goes away (1001) or sends no
// code (1005). A peer's other codes, and StopCode's, appear when they
// happen.
var Closes = func() []Close {
	var cs []Close
	add := func(k websock.Kind, codes ...websock.CloseCode) {
		for _, c := range codes {
			cs = append(cs, Close{k.String(), Code(c)})
		}
	}
	add(websock.KindNormal, websock.CloseNormal)
	add(websock.KindRemote, websock.CloseNormal, websock.CloseGoingAway, websock.CloseNoStatus)
	add(websock.KindShutdown, websock.CloseGoingAway, websock.CloseServiceRestart)
	add(websock.KindTimeout, websock.CloseGoingAway, websock.CloseAbnormal)
	add(websock.KindError, websock.CloseProtocolError, websock.CloseAbnormal, websock.CloseInvalidPayload,
		websock.CloseMessageTooBig, websock.CloseInternalError, websock.CloseTryAgainLater)
	return cs
}()

// Callbacks are the values of Callback but "other".
var Callbacks = []string{"Init", "HandleIn", "HandleInfo", "HandleControl", "Terminate"}

// Timeouts are the values of Timeout.
var Timeouts = []string{"idle", "pong", "write"}

// Callback returns the label value of a callback's name.
func Callback(cb string) string {
	switch cb {
	case "Init", "HandleIn", "HandleInfo", "HandleControl", "Terminate":
		return cb
	}
	return "other"
}

// Timeout returns "pong" for a keepalive timeout, "write" for a write
// past the write timeout (a slow consumer), else "idle".
func Timeout(err error) string {
	switch {
	case errors.Is(err, websock.ErrPongTimeout):
		return "pong"
	case errors.Is(err, websock.ErrWriteTimeout):
		return "write"
	}
	return "idle"
}

// PerAdapter makes a T once per adapter name and finds it again without
// a lock: what a message must touch is resolved on the adapter's first
// event, not on every message.
type PerAdapter[T any] struct {
	New func(adapter string) *T

	mu sync.Mutex                    // serialises adding to m
	m  atomic.Pointer[map[string]*T] // copied on write
}

// Get returns adapter's T, making it on the first call.
func (p *PerAdapter[T]) Get(adapter string) *T {
	if m := p.m.Load(); m != nil {
		if v := (*m)[adapter]; v != nil {
			return v
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	var old map[string]*T
	if m := p.m.Load(); m != nil {
		old = *m
	}
	if v := old[adapter]; v != nil {
		return v
	}
	m := make(map[string]*T, len(old)+1)
	for k, v := range old {
		m[k] = v
	}
	v := p.New(adapter)
	m[adapter] = v
	p.m.Store(&m)
	return v
}
