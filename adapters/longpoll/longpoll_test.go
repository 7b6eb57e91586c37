package longpoll_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/websock-go/websock/adapters"
	"github.com/websock-go/websock/adapters/longpoll"
	"github.com/websock-go/websock/websock"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// recorder is a handler that echoes, pushes what Init is told to, and
// hands its Terminate reason over.
type recorder struct {
	greet   []websock.Frame
	reasons chan websock.Reason
	conns   chan websock.Conn
}

func newRecorder(greet ...websock.Frame) *recorder {
	return &recorder{greet: greet, reasons: make(chan websock.Reason, 1), conns: make(chan websock.Conn, 1)}
}

func (r *recorder) Init(c websock.Conn) websock.Result {
	r.conns <- c
	return websock.Push(r.greet...)
}
func (r *recorder) HandleIn(f websock.Frame) websock.Result { return websock.Push(f) }
func (r *recorder) HandleInfo(msg any) websock.Result {
	return websock.Push(websock.Frame{Op: websock.OpText, Data: []byte(msg.(string))})
}
func (r *recorder) Terminate(reason websock.Reason) { r.reasons <- reason }

// reason waits for Terminate.
func (r *recorder) reason(t testing.TB) websock.Reason {
	t.Helper()
	select {
	case reason := <-r.reasons:
		return reason
	case <-time.After(10 * time.Second):
		t.Fatal("Terminate was not called within 10s")
		return websock.Reason{}
	}
}

// serve starts a Handler whose every session runs rec, and shuts it down
// when the test ends.
func serve(t testing.TB, rec *recorder, opts *longpoll.Options) (*longpoll.Handler, *httptest.Server) {
	t.Helper()
	var o longpoll.Options
	if opts != nil {
		o = *opts
	}
	if o.CloseTimeout == 0 {
		o.CloseTimeout = 100 * time.Millisecond // the tests' clients answer no close
	}
	h, err := longpoll.New(func(*websock.Request) (websock.Handler, error) { return rec, nil }, &o)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := h.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		srv.Close()
	})
	return h, srv
}

// session is a test's client of one session.
type session struct {
	t     testing.TB
	url   string
	token string
	ack   uint64
	seq   uint64 // of the next message sent
}

// msg is one message of a batch.
type msg struct {
	op   websock.Opcode
	data string
}

func open(t testing.TB, url string, header http.Header) (*session, *http.Response) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	resp, body := do(t, req)
	if resp.StatusCode != http.StatusOK {
		return nil, resp
	}
	return &session{t: t, url: url, token: string(body), seq: 1}, resp
}

func do(t testing.TB, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

func (s *session) request(method string, body []byte) *http.Request {
	req, _ := http.NewRequest(method, s.url, bytes.NewReader(body))
	req.Header.Set(longpoll.HeaderSession, s.token)
	return req
}

// send POSTs msgs as a batch starting at sequence number seq, and returns
// the status.
func (s *session) sendAt(seq uint64, msgs ...msg) int {
	s.t.Helper()
	b := binary.AppendUvarint(nil, seq)
	for _, m := range msgs {
		b = append(b, byte(m.op))
		b = binary.AppendUvarint(b, uint64(len(m.data)))
		b = append(b, m.data...)
	}
	resp, _ := do(s.t, s.request(http.MethodPost, b))
	return resp.StatusCode
}

// send POSTs msgs after those sent before.
func (s *session) send(msgs ...msg) int {
	s.t.Helper()
	status := s.sendAt(s.seq, msgs...)
	s.seq += uint64(len(msgs))
	return status
}

// pollAt polls acknowledging ack and returns the status and the messages
// with the sequence number of the first.
func (s *session) pollAt(ack uint64) (int, uint64, []msg) {
	s.t.Helper()
	req := s.request(http.MethodGet, nil)
	req.Header.Set(longpoll.HeaderAck, strconv.FormatUint(ack, 10))
	resp, body := do(s.t, req)
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode, 0, nil
	}
	r := bufio.NewReader(bytes.NewReader(body))
	first, err := binary.ReadUvarint(r)
	if err != nil {
		s.t.Fatalf("poll answered %q: %v", body, err)
	}
	var out []msg
	for {
		op, err := r.ReadByte()
		if err == io.EOF {
			return resp.StatusCode, first, out
		}
		n, _ := binary.ReadUvarint(r)
		data := make([]byte, n)
		if _, err := io.ReadFull(r, data); err != nil {
			s.t.Fatalf("poll answered a truncated batch %q", body)
		}
		out = append(out, msg{websock.Opcode(op), string(data)})
	}
}

// next polls until it gets messages, and acknowledges them in the poll
// after.
func (s *session) next() []msg {
	s.t.Helper()
	for range 100 {
		status, first, msgs := s.pollAt(s.ack)
		switch status {
		case http.StatusNoContent:
			continue
		case http.StatusOK:
			s.ack = first + uint64(len(msgs)) - 1
			return msgs
		}
		s.t.Fatalf("poll answered %d", status)
	}
	s.t.Fatal("100 polls answered nothing")
	return nil
}

func text(s string) msg { return msg{websock.OpText, s} }

func (m msg) String() string { return m.op.String() + " " + strconv.Quote(m.data) }

func closeMsg(code uint16, reason string) msg {
	return msg{websock.OpClose, string(binary.BigEndian.AppendUint16(nil, code)) + reason}
}

func wantMsgs(t testing.TB, got []msg, want ...msg) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d messages %v; want %v", len(got), got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("message %d is %v; want %v", i, got[i], want[i])
		}
	}
}

func wantReason(t testing.TB, r websock.Reason, kind websock.Kind, code websock.CloseCode, target error) {
	t.Helper()
	if r.Kind != kind || r.Code != code || (target != nil && !errors.Is(r, target)) {
		t.Fatalf("Terminate got %v (kind %v, code %v); want kind %v, code %v, cause %v", r, r.Kind, r.Code, kind, code, target)
	}
}

func TestEchoInOrder(t *testing.T) {
	rec := newRecorder(websock.Frame{Op: websock.OpText, Data: []byte("hello")})
	_, srv := serve(t, rec, nil)
	s, resp := open(t, srv.URL, nil)
	if s == nil {
		t.Fatalf("open answered %s", resp.Status)
	}
	if st := s.send(text("a"), msg{websock.OpBinary, "\x00\xff"}, text("c")); st != http.StatusNoContent {
		t.Fatalf("send answered %d", st)
	}
	var got []msg
	for len(got) < 4 {
		got = append(got, s.next()...)
	}
	wantMsgs(t, got, text("hello"), text("a"), msg{websock.OpBinary, "\x00\xff"}, text("c"))
	(<-rec.conns).Send("info")
	wantMsgs(t, s.next(), text("info"))
	s.send(closeMsg(4001, "bye"))
	wantReason(t, rec.reason(t), websock.KindRemote, 4001, nil)
	wantMsgs(t, s.next(), closeMsg(4001, ""))
	if st, _, _ := s.pollAt(s.ack); st != http.StatusGone {
		t.Fatalf("a poll after the end answered %d; want 410", st)
	}
}

// A poll whose answer was lost is made again with the same ack: the same
// messages come again.
func TestLostPollAnswerRedelivered(t *testing.T) {
	rec := newRecorder(websock.Frame{Op: websock.OpText, Data: []byte("1")}, websock.Frame{Op: websock.OpText, Data: []byte("2")})
	_, srv := serve(t, rec, &longpoll.Options{PollTimeout: 20 * time.Millisecond})
	s, _ := open(t, srv.URL, nil)
	<-rec.conns // Init ran: both are written
	_, first, msgs := s.pollAt(0)
	wantMsgs(t, msgs, text("1"), text("2"))
	_, again, msgs := s.pollAt(0) // the first answer was "lost"
	if first != 1 || again != 1 {
		t.Fatalf("batches start at %d and %d; want 1", first, again)
	}
	wantMsgs(t, msgs, text("1"), text("2"))
	if st, _, msgs := s.pollAt(2); st != http.StatusNoContent {
		t.Fatalf("a poll acknowledging everything answered %d %v; want 204", st, msgs)
	}
	if st, _, _ := s.pollAt(3); st != http.StatusBadRequest {
		t.Fatalf("a poll acknowledging a message never sent answered %d; want 400", st)
	}
}

// A POST sent again because its answer was lost is not taken twice; one
// that skips messages is refused.
func TestResentPostSkipped(t *testing.T) {
	rec := newRecorder()
	_, srv := serve(t, rec, nil)
	s, _ := open(t, srv.URL, nil)
	s.sendAt(1, text("a"))
	s.sendAt(1, text("a"), text("b"))
	if st := s.sendAt(5, text("e")); st != http.StatusConflict {
		t.Fatalf("a POST past a gap answered %d; want 409", st)
	}
	var got []msg
	for len(got) < 2 {
		got = append(got, s.next()...)
	}
	wantMsgs(t, got, text("a"), text("b"))
}

func TestMessageTooBig(t *testing.T) {
	rec := newRecorder()
	// CloseTimeout: how long the close waits for its poll.
	_, srv := serve(t, rec, &longpoll.Options{Options: adapters.Options{MaxMessageSize: 10, CloseTimeout: 10 * time.Second}})
	s, _ := open(t, srv.URL, nil)
	if st := s.send(text(strings.Repeat("x", 10))); st != http.StatusNoContent {
		t.Fatalf("a message of the maximum size answered %d", st)
	}
	if st := s.send(text(strings.Repeat("x", 11))); st != http.StatusRequestEntityTooLarge {
		t.Fatalf("a message over the maximum answered %d; want 413", st)
	}
	wantReason(t, rec.reason(t), websock.KindError, websock.CloseMessageTooBig, websock.ErrMessageTooBig)
	var got []msg
	for len(got) < 2 {
		got = append(got, s.next()...)
	}
	if got[1].op != websock.OpClose || binary.BigEndian.Uint16([]byte(got[1].data)) != 1009 {
		t.Fatalf("got %v; want the echo, then close 1009", got)
	}
}

// A client that stops polling is ended by IdleTimeout; one that polls is
// not.
func TestIdleTimeoutWhenPollingStops(t *testing.T) {
	rec := newRecorder()
	_, srv := serve(t, rec, &longpoll.Options{Options: adapters.Options{IdleTimeout: time.Second, CloseTimeout: 10 * time.Second},
		PollTimeout: 20 * time.Millisecond})
	s, _ := open(t, srv.URL, nil)
	ended := (<-rec.conns).(websock.ContextConn).Context() // done once the end is decided
	// 100 polls of 20 ms: twice the idle timeout, never idle for long.
	for range 100 {
		if st, _, msgs := s.pollAt(0); st != http.StatusNoContent {
			t.Fatalf("poll answered %d %v; want 204", st, msgs)
		}
	}
	select {
	case r := <-rec.reasons:
		t.Fatalf("the session ended (%v) although its client polled", r)
	default:
	}
	select { // the client stops polling
	case <-ended.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("a session whose client stopped polling did not end within 10s")
	}
	// The client comes back: the close waits for it.
	wantMsgs(t, s.next(), closeMsg(1001, "idle timeout"))
	s.send(closeMsg(1001, ""))
	wantReason(t, rec.reason(t), websock.KindTimeout, websock.CloseGoingAway, websock.ErrIdleTimeout)
}

// A client that abandons its session ends it as a lost connection.
func TestAbandon(t *testing.T) {
	rec := newRecorder()
	_, srv := serve(t, rec, nil)
	s, _ := open(t, srv.URL, nil)
	if resp, _ := do(t, s.request(http.MethodDelete, nil)); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE answered %s", resp.Status)
	}
	wantReason(t, rec.reason(t), websock.KindError, websock.CloseAbnormal, websock.ErrConnectionLost)
}

// WriteTimeout ends a session whose client does not poll for what waits.
func TestSlowPoller(t *testing.T) {
	big := websock.Frame{Op: websock.OpBinary, Data: make([]byte, 600<<10)}
	rec := newRecorder(big, big)
	_, srv := serve(t, rec, &longpoll.Options{Options: adapters.Options{WriteTimeout: 50 * time.Millisecond}})
	open(t, srv.URL, nil)
	wantReason(t, rec.reason(t), websock.KindTimeout, websock.CloseAbnormal, websock.ErrWriteTimeout)
}

func TestTokens(t *testing.T) {
	key := []byte(strings.Repeat("k", 32))
	_, a := serve(t, newRecorder(), &longpoll.Options{Key: key, Node: "a"})
	_, b := serve(t, newRecorder(), &longpoll.Options{Key: key, Node: "b"})
	s, _ := open(t, a.URL, nil)
	if !strings.HasPrefix(s.token, "a.") {
		t.Fatalf("token %q does not name node a", s.token)
	}
	status := func(url, token string) int {
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		req.Header.Set(longpoll.HeaderSession, token)
		req.Header.Set(longpoll.HeaderAck, "0")
		resp, _ := do(t, req)
		return resp.StatusCode
	}
	dot := strings.LastIndexByte(s.token, '.')
	forged := []byte(s.token)
	forged[dot+1] = map[bool]byte{true: 'B', false: 'A'}[forged[dot+1] == 'A'] // another first 6 bits
	mac := s.token[dot:]
	for _, c := range []struct {
		name, url, token string
		want             int
	}{
		{"forged signature", a.URL, string(forged), http.StatusForbidden},
		{"another session's signature", a.URL, "a.AAAAAAAAAAAAAAAAAAAAAA" + mac, http.StatusForbidden},
		{"another node's name", a.URL, "b" + s.token[1:], http.StatusForbidden},
		{"a signature cut short", a.URL, s.token[:len(s.token)-1], http.StatusForbidden},
		{"a signature too long", a.URL, s.token + "AAAA", http.StatusForbidden},
		{"no signature", a.URL, s.token[:dot+1], http.StatusForbidden},
		{"a long node name", a.URL, strings.Repeat("n", 1000) + s.token[1:], http.StatusForbidden},
		{"a signature not in base64url", a.URL, s.token[:dot+1] + "+" + s.token[dot+2:], http.StatusBadRequest},
		{"a short id", a.URL, s.token[:3] + s.token[4:], http.StatusBadRequest},
		{"four parts", a.URL, "x." + s.token, http.StatusBadRequest},
		{"malformed", a.URL, "nonsense", http.StatusBadRequest},
		{"held by another node", b.URL, s.token, http.StatusMisdirectedRequest},
	} {
		if got := status(c.url, c.token); got != c.want {
			t.Errorf("%s: answered %d; want %d", c.name, got, c.want)
		}
	}
	if resp, _ := do(t, mustRequest(http.MethodGet, a.URL)); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("a GET without a token answered %s; want 405", resp.Status)
	}
	if _, err := longpoll.New(nil, &longpoll.Options{Node: "a.b"}); !errors.Is(err, longpoll.ErrInvalidNode) {
		t.Errorf("New with node %q: %v; want ErrInvalidNode", "a.b", err)
	}
	if _, err := longpoll.New(nil, &longpoll.Options{Options: adapters.Options{PingInterval: time.Second}}); !errors.Is(err, adapters.ErrUnsupportedOption) {
		t.Errorf("New with PingInterval: %v; want ErrUnsupportedOption", err)
	}
}

func mustRequest(method, url string) *http.Request {
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		panic(err)
	}
	return req
}

// The origin policy, the subprotocols and the AcceptFunc apply to the
// opening as to an upgrade.
func TestOpening(t *testing.T) {
	rec := newRecorder()
	_, srv := serve(t, rec, &longpoll.Options{Options: adapters.Options{Subprotocols: []string{"chat"}}})
	if s, resp := open(t, srv.URL, http.Header{"Origin": {"https://evil.example"}}); s != nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("a cross-origin opening answered %s; want 403", resp.Status)
	}
	select {
	case <-rec.conns:
		t.Fatal("a session refused by the origin policy started")
	default:
	}
	s, resp := open(t, srv.URL, http.Header{"Origin": {srv.URL}, "Sec-Websocket-Protocol": {"other, chat"}})
	if s == nil || resp.Header.Get("Sec-WebSocket-Protocol") != "chat" {
		t.Fatalf("a same-origin opening offering chat answered %s, subprotocol %q", resp.Status, resp.Header.Get("Sec-WebSocket-Protocol"))
	}
	if info := (<-rec.conns).Info(); info.Subprotocol != "chat" || info.Adapter != "longpoll" {
		t.Fatalf("ConnInfo %+v; want subprotocol chat, adapter longpoll", info)
	}
}

// Shutdown answers the held poll with close 1001, and refuses new
// sessions with 503.
func TestShutdown(t *testing.T) {
	rec := newRecorder()
	h, srv := serve(t, rec, nil)
	s, _ := open(t, srv.URL, nil)
	<-rec.conns
	polled := make(chan []msg)
	go func() {
		_, _, msgs := s.pollAt(0)
		polled <- msgs
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	done := make(chan error)
	go func() { done <- h.Shutdown(ctx) }()
	wantMsgs(t, <-polled, closeMsg(1001, "server shutting down"))
	s.send(closeMsg(1001, ""))
	if err := <-done; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	wantReason(t, rec.reason(t), websock.KindShutdown, websock.CloseGoingAway, websock.ErrShutdown)
	if _, resp := open(t, srv.URL, nil); resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("an opening after Shutdown answered %s; want 503", resp.Status)
	}
}

// Every answer forbids caching; a poll's batch is binary.
func TestAnswerHeaders(t *testing.T) {
	_, srv := serve(t, newRecorder(), nil)
	s, resp := open(t, srv.URL, nil)
	if s == nil {
		t.Fatalf("open answered %s", resp.Status)
	}
	want := func(what string, resp *http.Response, status int, contentType string) {
		t.Helper()
		if resp.StatusCode != status || resp.Header.Get("Cache-Control") != "no-store" || (contentType != "" && resp.Header.Get("Content-Type") != contentType) {
			t.Errorf("%s answered %s, Cache-Control %q, Content-Type %q; want %d, no-store, %q",
				what, resp.Status, resp.Header.Get("Cache-Control"), resp.Header.Get("Content-Type"), status, contentType)
		}
	}
	want("the opening", resp, http.StatusOK, "text/plain; charset=utf-8")
	resp, _ = do(t, s.request(http.MethodPost, []byte{1, byte(websock.OpText), 1, 'a'}))
	want("a POST", resp, http.StatusNoContent, "")
	req := s.request(http.MethodGet, nil)
	req.Header.Set(longpoll.HeaderAck, "0")
	resp, _ = do(t, req)
	want("a poll", resp, http.StatusOK, "application/octet-stream")
	req = s.request(http.MethodGet, nil)
	req.Header.Set(longpoll.HeaderAck, "x")
	resp, _ = do(t, req)
	want("a poll without an ack", resp, http.StatusBadRequest, "text/plain; charset=utf-8")
}

// Messages small and big, sent in batches and acknowledged a few at a
// time, so that the session's queue is always partly taken: every echo
// comes back whole and in order, again in every poll until acknowledged.
func TestQueueOfManySizes(t *testing.T) {
	_, srv := serve(t, newRecorder(), nil)
	s, resp := open(t, srv.URL, nil)
	if s == nil {
		t.Fatalf("open answered %s", resp.Status)
	}
	var want []msg
	for i := range 300 {
		n := i % 50 // small ones, some empty, and a few over 4 KiB
		if i%5 == 0 {
			n = i * 97 % 9000
		}
		b := make([]byte, n)
		for j := range b {
			b[j] = byte(i + j)
		}
		want = append(want, msg{websock.OpBinary, string(b)})
	}
	var ack uint64
	for round, sent := 0, 0; ack < uint64(len(want)); round++ {
		if sent < len(want) {
			batch := want[sent:min(sent+9, len(want))]
			if st := s.send(batch...); st != http.StatusNoContent {
				t.Fatalf("send answered %d", st)
			}
			sent += len(batch)
		}
		st, first, got := s.pollAt(ack)
		if st != http.StatusOK {
			t.Fatalf("poll acknowledging %d answered %d", ack, st)
		}
		if first != ack+1 || len(got) == 0 || int(ack)+len(got) > sent {
			t.Fatalf("poll acknowledging %d answered %d messages from %d, of %d sent", ack, len(got), first, sent)
		}
		wantMsgs(t, got, want[ack:int(ack)+len(got)]...)
		// Acknowledge one at a time for a few rounds, so that the queue
		// grows, then all but one, so that it shrinks and what is left
		// moves.
		if round%8 < 4 || len(got) == 1 {
			ack++
		} else {
			ack += uint64(len(got) - 1)
		}
	}
}
