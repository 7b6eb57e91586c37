package longpoll

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/websock-go/websock/adapters"
	"github.com/websock-go/websock/websock"
)

// maxPending is how many bytes of written messages a session keeps for
// its client before the next write waits for a poll to take some: the
// socket buffer of long-polling, so that a client that stops polling is
// ended by WriteTimeout, as one that stops reading is on a WebSocket.
const maxPending = 1 << 20

// maxBatch is about how many bytes one poll answers at most; a larger
// message goes alone.
const maxBatch = 1 << 20

// session is the Transport of one long-poll session: Read takes the
// messages POSTs hand it; writes queue messages that polls take.
type session struct {
	h  *Handler
	id string

	// in hands Read the client's messages, one at a time: a POST waits
	// until Read takes each, which is the backpressure of long-polling.
	in   chan inbound
	done chan struct{} // closed by Close

	// post makes a session's POSTs one at a time (a POST holds its only
	// token); next is the sequence number of the message expected next
	// from the client.
	post chan struct{}
	next uint64

	mu       sync.Mutex
	live     adapters.Liveness // from Read's Events; nil until Read runs
	out      []outbound        // written and not yet acknowledged, in order
	outBytes int
	acked    uint64        // the last sequence number the client acknowledged
	changed  chan struct{} // closed and replaced when out, polls or closed change
	deadline time.Time     // of writes
	closed   bool
	polls    uint64 // polls started; a poll gives way to a newer one
}

type outbound struct {
	op   websock.Opcode
	data []byte
}

type inbound struct {
	op   websock.Opcode
	data []byte
	err  error // the message is refused: Read returns err
}

var _ adapters.Transport = (*session)(nil)

func newSession(h *Handler) *session {
	return &session{h: h, id: newID(), in: make(chan inbound), done: make(chan struct{}),
		post: make(chan struct{}, 1), changed: make(chan struct{}), next: 1}
}

// changedLocked wakes polls and writes waiting on the session. Called with
// mu held.
func (s *session) changedLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// alive tells the engine the client is there.
func (s *session) alive() {
	s.mu.Lock()
	l := s.live
	s.mu.Unlock()
	if l != nil {
		l.Alive()
	}
}

// Read hands the client's messages to ev until the session ends. See
// adapters.Transport.
func (s *session) Read(ev adapters.Events) error {
	if l, ok := ev.(adapters.Liveness); ok {
		s.mu.Lock()
		s.live = l
		s.mu.Unlock()
	}
	for {
		select {
		case m := <-s.in:
			if m.err != nil {
				return m.err
			}
			if m.op == websock.OpClose {
				return closeError(m.data)
			}
			if err := ev.Message(m.op, m.data); err != nil {
				return err
			}
		case <-s.done:
			return net.ErrClosed
		}
	}
}

// closeError is the error of a close message with payload p, laid out as
// that of a close frame.
func closeError(p []byte) error {
	switch len(p) {
	case 0:
		return &websock.CloseError{Code: websock.CloseNoStatus}
	case 1:
		return fmt.Errorf("%w: a close message of one byte", websock.ErrProtocol)
	}
	code := websock.CloseCode(binary.BigEndian.Uint16(p))
	if code == websock.CloseNoStatus {
		// 1005 means an empty payload; it may not be sent (RFC 6455
		// section 7.4).
		return fmt.Errorf("%w: close code 1005, which may not be sent", websock.ErrProtocol)
	}
	return &websock.CloseError{Code: code, Text: string(p[2:])}
}

// WriteFrame queues a text or binary message for the client's polls,
// waiting while maxPending bytes wait already, until the write deadline.
// Pings and pongs are dropped: long-polling has no control frames.
func (s *session) WriteFrame(op websock.Opcode, data []byte) error {
	if op != websock.OpText && op != websock.OpBinary {
		return nil
	}
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	s.mu.Lock()
	defer s.mu.Unlock()
	for !s.closed && len(s.out) > 0 && s.outBytes+len(data) > maxPending {
		if !s.deadline.IsZero() && !time.Now().Before(s.deadline) {
			return fmt.Errorf("longpoll: %d bytes wait for a poll: %w", s.outBytes, os.ErrDeadlineExceeded)
		}
		var expired <-chan time.Time
		if !s.deadline.IsZero() {
			if timer == nil {
				timer = time.NewTimer(time.Until(s.deadline))
			} else {
				timer.Reset(time.Until(s.deadline))
			}
			expired = timer.C
		}
		changed := s.changed
		s.mu.Unlock()
		select {
		case <-changed:
		case <-expired:
		}
		s.mu.Lock()
	}
	return s.queueLocked(op, append([]byte(nil), data...))
}

// WriteClose queues a close message. See adapters.Transport.
func (s *session) WriteClose(code websock.CloseCode, text string) error {
	var p []byte
	if code != websock.CloseNoStatus {
		p = binary.BigEndian.AppendUint16(nil, uint16(code))
		p = append(p, text...)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.queueLocked(websock.OpClose, p)
}

func (s *session) queueLocked(op websock.Opcode, p []byte) error {
	if s.closed {
		return net.ErrClosed
	}
	s.out = append(s.out, outbound{op, p})
	s.outBytes += len(p)
	s.changedLocked()
	return nil
}

// SetWriteDeadline sets the deadline of the writes that wait for polls.
func (s *session) SetWriteDeadline(t time.Time) error {
	s.mu.Lock()
	s.deadline = t
	s.mu.Unlock()
	return nil
}

// Close ends the session: Read returns, and no write is taken. What was
// written and not yet polled (a close message, often) stays for the
// client to take, for IdleTimeout (or CloseTimeout, if longer), in a
// leftover that holds nothing else; the session itself is forgotten.
func (s *session) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.done)
	s.changedLocked()
	left := len(s.out)
	s.mu.Unlock()
	if left == 0 {
		s.h.forget(s)
	} else {
		s.h.retire(s)
	}
	return nil
}

// poll answers a GET: it drops the messages the client acknowledges
// (HeaderAck: the last sequence number it received), then
// answers those that follow, at once or as soon as one is written, or
// 204 after the poll timeout.
func (s *session) poll(w http.ResponseWriter, r *http.Request) {
	ack, err := strconv.ParseUint(r.Header.Get(HeaderAck), 10, 64)
	if err != nil {
		httpError(w, http.StatusBadRequest, "longpoll: a poll needs "+HeaderAck+", the sequence number of the last message received (0 for none)")
		return
	}
	s.alive()
	defer s.alive()
	timer := time.NewTimer(s.h.hold)
	defer timer.Stop()

	s.mu.Lock()
	if ack > s.acked+uint64(len(s.out)) {
		s.mu.Unlock()
		httpError(w, http.StatusBadRequest, fmt.Sprintf("longpoll: ack %d is past the last message sent (%d)", ack, s.acked+uint64(len(s.out))))
		return
	}
	if n := int(ack - min(ack, s.acked)); n > 0 {
		for _, m := range s.out[:n] {
			s.outBytes -= len(m.data)
		}
		s.out = append(s.out[:0:0], s.out[n:]...)
		s.acked = ack
	}
	s.polls++
	me := s.polls
	s.changedLocked()
	for {
		switch {
		case len(s.out) > 0:
			body := s.batchLocked()
			s.mu.Unlock()
			w.Header()["Content-Type"] = octetStream
			w.Write(body)
			return
		case s.closed:
			s.mu.Unlock()
			s.h.forget(s)
			httpError(w, http.StatusGone, "longpoll: the session has ended; open a new one")
			return
		case s.polls != me:
			s.mu.Unlock()
			w.WriteHeader(http.StatusNoContent) // a newer poll took over
			return
		}
		changed := s.changed
		s.mu.Unlock()
		select {
		case <-changed:
		case <-timer.C:
			w.WriteHeader(http.StatusNoContent)
			return
		case <-r.Context().Done():
			return
		}
		s.mu.Lock()
	}
}

// batchLocked encodes the messages waiting, up to about maxBatch bytes.
func (s *session) batchLocked() []byte { return batch(s.acked, s.out) }

// batch encodes the messages of out, the first of which follows acked,
// up to about maxBatch bytes.
func batch(acked uint64, out []outbound) []byte {
	b := binary.AppendUvarint(nil, acked+1)
	for i, m := range out {
		if i > 0 && len(b)+len(m.data) > maxBatch {
			break
		}
		b = appendMessage(b, m.op, m.data)
	}
	return b
}

// receive answers a POST: it hands the messages of the body to Read, in
// order, skipping those it had already (a POST sent again because its
// answer was lost).
func (s *session) receive(w http.ResponseWriter, r *http.Request) {
	s.alive()
	select {
	case s.post <- struct{}{}:
		defer func() { <-s.post }()
	case <-s.done:
		httpError(w, http.StatusGone, "longpoll: the session has ended; open a new one")
		return
	case <-r.Context().Done():
		return
	}
	br := bufio.NewReader(r.Body)
	seq, err := binary.ReadUvarint(br)
	if err != nil {
		httpError(w, http.StatusBadRequest, "longpoll: a POST body starts with the sequence number of its first message, as a uvarint")
		return
	}
	if seq > s.next {
		httpError(w, http.StatusConflict, fmt.Sprintf("longpoll: messages from %d were never received; send again from %d", s.next, s.next))
		return
	}
	for ; ; seq++ {
		op, data, err := readMessage(br, s.h.max)
		if errors.Is(err, io.EOF) {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		var m inbound
		status := http.StatusBadRequest
		switch {
		case errors.Is(err, websock.ErrMessageTooBig):
			m.err, status = err, http.StatusRequestEntityTooLarge
		case errors.Is(err, websock.ErrProtocol):
			m.err = err
		case err != nil: // the body ended early: the client is gone
			return
		case seq < s.next:
			continue // had it already
		default:
			m.op, m.data = op, data
		}
		select {
		case s.in <- m:
			s.next++
		case <-s.done:
			httpError(w, http.StatusGone, "longpoll: the session has ended; open a new one")
			return
		case <-r.Context().Done():
			return
		}
		if m.err != nil {
			httpError(w, status, "longpoll: "+m.err.Error())
			return
		}
	}
}

// abandon answers a DELETE: the client is going away and cannot close
// properly (a page being unloaded); the session ends as a lost connection
// does.
func (s *session) abandon(w http.ResponseWriter, r *http.Request) {
	m := inbound{err: fmt.Errorf("%w: the client abandoned the session", websock.ErrConnectionLost)}
	select {
	case s.in <- m:
	case <-s.done: // ended already
	case <-r.Context().Done():
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
