package longpoll

import (
	"bytes"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/websock-go/websock/adapters"
)

// leftover is what an ended session keeps for its client: the messages
// the client has yet to poll (its close message, most often), for as long
// as the client may take to come back, and nothing else of the session:
// not its engine connection, its request or its channels. Tens of
// thousands of sessions ended by the idle timeout then cost a few MiB
// until they are forgotten, rather than all that a live session holds.
type leftover struct {
	mu    sync.Mutex
	out   []outbound
	acked uint64
}

// retiring is a leftover waiting to be forgotten, in the order they came.
type retiring struct {
	id  string
	lo  *leftover
	end time.Time
}

// linger is how long a leftover waits for its client: a client that has
// not come back within the idle timeout is gone; one between two polls of
// a busy machine may take seconds.
func (h *Handler) linger() time.Duration {
	o := h.e.Options()
	d := max(o.IdleTimeout, o.CloseTimeout)
	if d <= 0 {
		d = adapters.DefaultIdleTimeout
	}
	return d
}

// retire replaces the ended session s, with messages left for its client,
// by its leftover. A poll under way on s answers from s, which holds the
// same messages; later requests find the leftover.
func (h *Handler) retire(s *session) {
	s.mu.Lock()
	// The small messages' bytes are copied out of the session's buffer,
	// which the leftover would keep whole.
	lo := &leftover{out: append([]outbound(nil), s.out...), acked: s.acked}
	for i := range lo.out {
		if m := &lo.out[i]; m.shared {
			m.data, m.shared = bytes.Clone(m.data), false
		}
	}
	s.live = nil
	s.mu.Unlock()
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.sessions[s.id] != s {
		return // forgotten already
	}
	delete(h.sessions, s.id)
	h.left[s.id] = lo
	h.retiring = append(h.retiring, retiring{id: s.id, lo: lo, end: time.Now().Add(h.linger())})
	if h.sweeper == nil {
		h.sweeper = time.AfterFunc(h.linger(), h.sweep)
	}
}

// sweep forgets the leftovers whose time is up, and sets itself to run
// when the next one's is.
func (h *Handler) sweep() {
	h.mu.Lock()
	defer h.mu.Unlock()
	now := time.Now()
	i := 0
	for ; i < len(h.retiring) && !h.retiring[i].end.After(now); i++ {
		r := h.retiring[i]
		if h.left[r.id] == r.lo {
			delete(h.left, r.id)
		}
	}
	h.retiring = h.retiring[i:]
	if len(h.retiring) == 0 {
		h.retiring, h.sweeper = nil, nil
		return
	}
	if len(h.retiring) < cap(h.retiring)/4 {
		h.retiring = append([]retiring(nil), h.retiring...) // give back what the swept ones held
	}
	h.sweeper = time.AfterFunc(time.Until(h.retiring[0].end), h.sweep)
}

// forgetLeft drops the leftover of id, once its client had all of it.
func (h *Handler) forgetLeft(id string, lo *leftover) {
	h.mu.Lock()
	if h.left[id] == lo {
		delete(h.left, id)
	}
	h.mu.Unlock()
}

// poll answers a poll of an ended session: what is left after the
// messages the client acknowledges, at once, or 410 once nothing is.
func (lo *leftover) poll(h *Handler, id string, w http.ResponseWriter, r *http.Request) {
	ack, err := strconv.ParseUint(r.Header.Get(HeaderAck), 10, 64)
	if err != nil {
		httpError(w, http.StatusBadRequest, "longpoll: a poll needs "+HeaderAck+", the sequence number of the last message received (0 for none)")
		return
	}
	lo.mu.Lock()
	if last := lo.acked + uint64(len(lo.out)); ack > last {
		lo.mu.Unlock()
		httpError(w, http.StatusBadRequest, fmt.Sprintf("longpoll: ack %d is past the last message sent (%d)", ack, last))
		return
	}
	if n := int(ack - min(ack, lo.acked)); n > 0 {
		lo.out = append(lo.out[:0:0], lo.out[n:]...)
		lo.acked = ack
	}
	if len(lo.out) == 0 {
		lo.mu.Unlock()
		h.forgetLeft(id, lo)
		httpError(w, http.StatusGone, "longpoll: the session has ended; open a new one")
		return
	}
	body := getBuf()
	*body = appendBatch(*body, lo.acked, lo.out)
	lo.mu.Unlock()
	w.Header()["Content-Type"] = octetStream
	w.Write(*body)
	putBuf(body)
}
