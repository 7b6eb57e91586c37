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
	// outBuf holds the bytes of out's small messages, one after the
	// other: they are its last outShared bytes. It is reused as polls
	// take them.
	outBuf    []byte
	outShared int
	acked     uint64        // the last sequence number the client acknowledged
	changed   chan struct{} // closed and replaced when out, polls or closed change, if watched
	watched   bool          // someone waits on changed
	deadline  time.Time     // of writes
	closed    bool
	polls     uint64      // polls started; a poll gives way to a newer one
	timer     *time.Timer // a poll's, kept for the next; nil while a poll holds it
}

type outbound struct {
	op     websock.Opcode
	data   []byte
	shared bool // data is in the session's outBuf
}

// maxShared is the size of the largest message whose bytes are kept in a
// session's outBuf; a bigger one has a buffer of its own, so that outBuf
// stays small.
const maxShared = 4 << 10

type inbound struct {
	op   websock.Opcode
	data []byte
	buf  *[]byte // data's, which Read gives back to bufs once it is handled
	err  error   // the message is refused: Read returns err
}

// bufs holds the buffers of messages read and of batches answered,
// reused from one request to the next.
var bufs sync.Pool // of *[]byte

// maxPooled is the largest buffer kept in bufs.
const maxPooled = 64 << 10

// getBuf returns an empty buffer from bufs, or a new one.
func getBuf() *[]byte {
	if b, ok := bufs.Get().(*[]byte); ok {
		return b
	}
	return new([]byte)
}

// putBuf gives b back to bufs, unless it is too big to keep.
func putBuf(b *[]byte) {
	if cap(*b) > maxPooled {
		return
	}
	*b = (*b)[:0]
	bufs.Put(b)
}

// readers are the bufio.Readers of POST bodies.
var readers sync.Pool // of *bufio.Reader

var _ adapters.Transport = (*session)(nil)

func newSession(h *Handler) *session {
	return &session{h: h, id: newID(), in: make(chan inbound), done: make(chan struct{}),
		post: make(chan struct{}, 1), changed: make(chan struct{}), next: 1}
}

// changedLocked wakes polls and writes waiting on the session. Called with
// mu held.
func (s *session) changedLocked() {
	if s.watched {
		close(s.changed)
		s.changed = make(chan struct{})
		s.watched = false
	}
}

// watchLocked returns the channel that changedLocked closes at the next
// change, for a poll or a write to wait on once it unlocks mu.
func (s *session) watchLocked() <-chan struct{} {
	s.watched = true
	return s.changed
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
			var err error
			if m.op == websock.OpClose {
				err = closeError(m.data) // never nil: the session ends
			} else {
				err = ev.Message(m.op, m.data)
			}
			if m.buf != nil {
				putBuf(m.buf) // done with data
			}
			if err != nil {
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
		changed := s.watchLocked()
		s.mu.Unlock()
		select {
		case <-changed:
		case <-expired:
		}
		s.mu.Lock()
	}
	return s.queueLocked(op, data, "")
}

// WriteClose queues a close message. See adapters.Transport.
func (s *session) WriteClose(code websock.CloseCode, text string) error {
	var c [2]byte
	p := c[:0]
	if code != websock.CloseNoStatus {
		p = binary.BigEndian.AppendUint16(p, uint16(code))
	} else {
		text = ""
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.queueLocked(websock.OpClose, p, text)
}

// queueLocked queues a message of the bytes of p then text, copied: into
// outBuf, for a small one.
func (s *session) queueLocked(op websock.Opcode, p []byte, text string) error {
	if s.closed {
		return net.ErrClosed
	}
	n := len(p) + len(text)
	m := outbound{op: op, shared: n <= maxShared}
	if m.shared {
		if len(s.outBuf)+n > cap(s.outBuf) {
			s.makeRoomLocked(n)
		}
		start := len(s.outBuf)
		s.outBuf = append(append(s.outBuf, p...), text...)
		m.data = s.outBuf[start:len(s.outBuf):len(s.outBuf)]
		s.outShared += n
	} else {
		m.data = append(append(make([]byte, 0, n), p...), text...)
	}
	s.out = append(s.out, m)
	s.outBytes += n
	s.changedLocked()
	return nil
}

// makeRoomLocked makes room for n more bytes at the end of outBuf: it
// moves the messages there to its start if that leaves half of it free,
// or else to a new buffer twice as big as they and n need. Every copy of a
// message's bytes is made under mu (a poll's batch, a leftover), so they
// can move.
func (s *session) makeRoomLocked(n int) {
	waiting := s.outBuf[len(s.outBuf)-s.outShared:]
	var buf []byte
	if s.outShared+n <= cap(s.outBuf)/2 {
		buf = s.outBuf[:s.outShared]
	} else {
		buf = make([]byte, s.outShared, max(2*(s.outShared+n), 512))
	}
	copy(buf, waiting) // moves them, when they overlap
	off := 0
	for i := range s.out {
		if m := &s.out[i]; m.shared {
			k := len(m.data)
			m.data = buf[off : off+k : off+k]
			off += k
		}
	}
	s.outBuf = buf
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
	var timer *time.Timer // of the poll timeout, once the poll waits
	defer func() {
		if timer != nil {
			s.putTimer(timer)
		}
	}()

	s.mu.Lock()
	if ack > s.acked+uint64(len(s.out)) {
		s.mu.Unlock()
		httpError(w, http.StatusBadRequest, fmt.Sprintf("longpoll: ack %d is past the last message sent (%d)", ack, s.acked+uint64(len(s.out))))
		return
	}
	if n := int(ack - min(ack, s.acked)); n > 0 {
		s.dropLocked(n)
		s.acked = ack
	}
	s.polls++
	me := s.polls
	s.changedLocked()
	for {
		switch {
		case len(s.out) > 0:
			body := getBuf()
			*body = appendBatch(*body, s.acked, s.out)
			s.mu.Unlock()
			w.Header()["Content-Type"] = octetStream
			w.Write(*body)
			putBuf(body)
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
		if timer == nil {
			timer = s.takeTimerLocked()
		}
		changed := s.watchLocked()
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

// dropLocked drops the first n messages waiting, which the client
// acknowledged.
func (s *session) dropLocked(n int) {
	for _, m := range s.out[:n] {
		s.outBytes -= len(m.data)
		if m.shared {
			s.outShared -= len(m.data)
		}
	}
	k := copy(s.out, s.out[n:])
	clear(s.out[k:])
	s.out = s.out[:k]
	if k == 0 {
		// Nothing waits: the buffers are reused from their start, unless
		// a burst made them big.
		s.outBuf = s.outBuf[:0]
		if cap(s.outBuf) > maxPooled {
			s.outBuf = nil
		}
		if cap(s.out) > 1024 {
			s.out = nil
		}
	}
}

// takeTimerLocked returns a timer of the poll timeout, started: the one a
// poll left, or a new one when another poll holds it.
func (s *session) takeTimerLocked() *time.Timer {
	t := s.timer
	if t == nil {
		return time.NewTimer(s.h.hold)
	}
	s.timer = nil
	t.Reset(s.h.hold)
	return t
}

// putTimer stops t, a poll's, and keeps it for the next poll.
func (s *session) putTimer(t *time.Timer) {
	t.Stop()
	s.mu.Lock()
	if s.timer == nil {
		s.timer = t
	}
	s.mu.Unlock()
}

// appendBatch appends to b the messages of out, the first of which
// follows acked, up to about maxBatch bytes.
func appendBatch(b []byte, acked uint64, out []outbound) []byte {
	start := len(b)
	b = binary.AppendUvarint(b, acked+1)
	for i, m := range out {
		if i > 0 && len(b)-start+len(m.data) > maxBatch {
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
	default: // another POST is under way
		select {
		case s.post <- struct{}{}:
		case <-s.done:
			httpError(w, http.StatusGone, "longpoll: the session has ended; open a new one")
			return
		case <-r.Context().Done():
			return
		}
	}
	br, _ := readers.Get().(*bufio.Reader)
	if br == nil {
		br = bufio.NewReader(r.Body)
	} else {
		br.Reset(r.Body)
	}
	defer func() {
		br.Reset(nil)
		readers.Put(br)
		<-s.post
	}()
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
		buf := getBuf()
		op, data, err := readMessage(br, s.h.max, *buf)
		if errors.Is(err, io.EOF) {
			putBuf(buf)
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
			putBuf(buf)
			return
		case seq < s.next:
			putBuf(buf)
			continue // had it already
		default:
			*buf = data
			m.op, m.data, m.buf = op, data, buf
		}
		if m.buf == nil {
			putBuf(buf)
		}
		if !s.hand(m, w, r) {
			if m.buf != nil {
				putBuf(m.buf)
			}
			return
		}
		s.next++
		if m.err != nil {
			httpError(w, status, "longpoll: "+m.err.Error())
			return
		}
	}
}

// hand gives m to Read, and reports whether it took it; when the session
// ends first, the POST is answered 410.
func (s *session) hand(m inbound, w http.ResponseWriter, r *http.Request) bool {
	select {
	case s.in <- m: // Read waits for it, most often
		return true
	default:
	}
	select {
	case s.in <- m:
		return true
	case <-s.done:
		httpError(w, http.StatusGone, "longpoll: the session has ended; open a new one")
		return false
	case <-r.Context().Done():
		return false
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
