package websocktest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/websock-go/websock/websock"
)

// Conn is the test's end of one connection, the client's: what it sends
// the handler receives, through the engine, and what the handler pushes
// it reads. Its methods fail the test the Conn was made for (Send, Ping,
// Close, Info) or the one they are given (the Expect methods), with what
// was expected and what arrived; none waits longer than the Conn's timeout
// ([Timeout] unless set). It is not safe for concurrent use: a test drives
// each Conn from one goroutine.
type Conn struct {
	s       *Server // nil for a Peer's
	tb      testing.TB
	rec     *recorder // the handler's callbacks; nil for a Peer's
	clock   *Clock
	server  bool // the test is the server: a Peer's connection to a client under test
	timeout time.Duration

	nc     net.Conn
	sub    string
	frames chan read     // what the reader read, in order
	quit   chan struct{} // closed at the test's end: the reader stops
	peeked *read         // read from frames, not yet returned by Next
	failed error         // what ended reading; sticky

	closeSent bool     // a close frame went out
	seen      []string // what was read, for failure messages
	wbuf      []byte
}

func newConn(s *Server) *Conn {
	return &Conn{s: s, tb: s.tb, rec: newRecorder(), clock: s.clock, timeout: Timeout}
}

// read is one frame the reader read, or what ended reading.
type read struct {
	f    websock.Frame
	err  error
	seen bool // in Conn.seen already (Peek)
}

func (c *Conn) attach(nc net.Conn, br *bufio.Reader, sub string) {
	c.nc, c.sub = nc, sub
	c.frames, c.quit = make(chan read, 16), make(chan struct{})
	if br == nil {
		br = bufio.NewReader(nc)
	}
	go c.reader(br)
}

// reader reads the frames the engine writes as they come, so that Next
// waits for whole frames only, and so that a test can wait for the first
// of several connections (WaitAny). It blocks, as a client stops reading,
// while 16 frames wait for the test.
func (c *Conn) reader(br *bufio.Reader) {
	for {
		f, err := readFrame(br, c.server, 0)
		select {
		case c.frames <- read{f: websock.Frame{Op: f.op, Data: f.data}, err: err}:
		case <-c.quit:
			return
		}
		if err != nil {
			return
		}
	}
}

// stop closes the connection and stops the reader.
func (c *Conn) stop() {
	c.nc.Close()
	select {
	case <-c.quit:
	default:
		close(c.quit)
	}
}

// SetTimeout sets how long the Conn waits for a frame, Init or Terminate
// before failing the test; the default is [Timeout].
func (c *Conn) SetTimeout(d time.Duration) { c.timeout = d }

// Subprotocol returns the subprotocol the engine chose, or "".
func (c *Conn) Subprotocol() string { return c.sub }

// ConnInfo returns the ConnInfo the handler got.
func (c *Conn) ConnInfo() *websock.ConnInfo {
	c.tb.Helper()
	return c.handlerConn("ConnInfo").Info()
}

// Clock returns the clock of the Conn's Server (or Peer).
func (c *Conn) Clock() *Clock { return c.clock }

// Advance advances the clock of the Conn's Server (or Peer) by d; see
// [Clock.Advance].
func (c *Conn) Advance(d time.Duration) { c.clock.Advance(d) }

// SendText sends a text message in one frame.
func (c *Conn) SendText(s string) {
	c.tb.Helper()
	c.send("SendText", websock.OpText, []byte(s))
}

// SendBinary sends a binary message in one frame.
func (c *Conn) SendBinary(b []byte) {
	c.tb.Helper()
	c.send("SendBinary", websock.OpBinary, b)
}

// SendFragmented sends one message of opcode op (text or binary) as a
// frame per part: the handler gets them joined, as one message.
func (c *Conn) SendFragmented(op websock.Opcode, parts ...[]byte) {
	c.tb.Helper()
	if len(parts) == 0 {
		parts = [][]byte{nil}
	}
	b := c.wbuf[:0]
	for i, p := range parts {
		fop := op
		if i > 0 {
			fop = opContinuation
		}
		b = appendFrame(b, fop, i == len(parts)-1, p, !c.server, maskKey)
	}
	c.wbuf = b
	c.writeRaw("SendFragmented", b)
}

// Ping sends a ping; the engine answers it with a pong of the same
// payload (see [Conn.ExpectPong]).
func (c *Conn) Ping(payload []byte) {
	c.tb.Helper()
	c.send("Ping", websock.OpPing, payload)
}

// Pong sends a pong, such as the answer to a keepalive ping.
func (c *Conn) Pong(payload []byte) {
	c.tb.Helper()
	c.send("Pong", websock.OpPong, payload)
}

// Close sends a close frame with code and text (websock.CloseNoStatus: an
// empty one). The engine answers it; read the answer with
// [Conn.ExpectClose].
func (c *Conn) Close(code websock.CloseCode, text string) {
	c.tb.Helper()
	c.send("Close", websock.OpClose, closePayload(code, text))
	c.closeSent = true
}

// Vanish closes the connection at once, with no close frame, as a peer
// whose network went away.
func (c *Conn) Vanish() {
	c.stop()
	c.failed = net.ErrClosed
}

// SendRaw writes b to the connection as it is, for a test of what the
// engine does with bytes no peer should send. A client's frames are
// masked; a server's are not.
func (c *Conn) SendRaw(b []byte) {
	c.tb.Helper()
	c.writeRaw("SendRaw", b)
}

func (c *Conn) send(what string, op websock.Opcode, data []byte) {
	c.tb.Helper()
	c.wbuf = appendFrame(c.wbuf[:0], op, true, data, !c.server, maskKey)
	c.writeRaw(what, c.wbuf)
}

func (c *Conn) writeRaw(what string, b []byte) {
	c.tb.Helper()
	if c.ended() {
		c.tb.Fatalf("websocktest: %s after the connection ended: Terminate saw %v", what, c.rec.reason)
	}
	c.nc.SetWriteDeadline(time.Now().Add(c.timeout))
	if _, err := c.nc.Write(b); err != nil {
		c.tb.Fatalf("websocktest: %s: %v; %s", what, err, c.state())
	}
}

// Info hands msg to the handler's HandleInfo, as websock.Conn.Send does
// (through the mailbox, after every value handed before it).
func (c *Conn) Info(msg any) {
	c.tb.Helper()
	hc := c.handlerConn("Info")
	if err := hc.Send(msg); err != nil {
		if errors.Is(err, websock.ErrClosed) {
			c.waitEnd()
		}
		c.tb.Fatalf("websocktest: Info(%v): %v; %s", msg, err, c.state())
	}
}

// handlerConn returns the websock.Conn the handler's Init got, once Init
// has returned.
func (c *Conn) handlerConn(what string) websock.Conn {
	c.tb.Helper()
	c.needHandler(what)
	select {
	case <-c.rec.started: // Init ran, whether or not Terminate ran since
		return c.rec.conn
	default:
	}
	select {
	case <-c.rec.started:
		return c.rec.conn
	case <-c.rec.done:
		c.tb.Fatalf("websocktest: %s: the handler never started: %v", what, c.rec.abandoned)
	case <-time.After(c.timeout):
		c.tb.Fatalf("websocktest: %s: Init did not return within %v", what, c.timeout)
	}
	return nil
}

// Next returns the next frame the engine wrote, waiting up to d on the
// system clock for it; the error is os.ErrDeadlineExceeded when none came,
// or what ended the connection (io.EOF when it was closed without a close
// frame). Pings and pongs are frames too: the Conn answers nothing by
// itself.
func (c *Conn) Next(d time.Duration) (websock.Frame, error) {
	if c.failed != nil {
		return websock.Frame{}, c.failed
	}
	var r read
	if c.peeked != nil {
		r, c.peeked = *c.peeked, nil
	} else {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case r = <-c.frames:
		case <-t.C:
			return websock.Frame{}, os.ErrDeadlineExceeded
		}
	}
	if r.err != nil {
		c.failed = r.err
		return websock.Frame{}, r.err
	}
	if !r.seen {
		c.seen = append(c.seen, describe(r.f))
	}
	return r.f, nil
}

// Peek returns the next frame without reading it: the next read returns
// it again. It fails tb as the Expect methods do when none arrives. A test
// skips what does not concern it with it, such as updates that come
// between the messages it checks.
func (c *Conn) Peek(tb testing.TB) websock.Frame {
	tb.Helper()
	f := c.next(tb, "Peek")
	c.peeked = &read{f: f, seen: true}
	return f
}

// WaitAny waits until one of conns has a frame to read (or was closed)
// and returns it; the frame is left for its next read. It follows
// connections whose order the engine does not fix, such as the batches of
// a paced drain. It fails tb when none has within the first Conn's
// timeout.
func WaitAny(tb testing.TB, conns ...*Conn) *Conn {
	tb.Helper()
	cases := make([]reflect.SelectCase, 0, len(conns)+1)
	for _, c := range conns {
		if c.peeked != nil || c.failed != nil {
			return c
		}
		cases = append(cases, reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(c.frames)})
	}
	if len(conns) == 0 {
		tb.Fatalf("websocktest: WaitAny of no connection")
	}
	t := time.NewTimer(conns[0].timeout)
	defer t.Stop()
	cases = append(cases, reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(t.C)})
	i, v, _ := reflect.Select(cases)
	if i == len(conns) {
		tb.Fatalf("websocktest: WaitAny: no frame arrived on any of %d connections within %v", len(conns), conns[0].timeout)
	}
	r := v.Interface().(read)
	conns[i].peeked = &r
	return conns[i]
}

// next reads the next frame for an Expect method, failing tb with what
// did arrive when none does.
func (c *Conn) next(tb testing.TB, what string) websock.Frame {
	tb.Helper()
	f, err := c.Next(c.timeout)
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		tb.Fatalf("websocktest: %s: nothing arrived within %v; %s", what, c.timeout, c.state())
	case errors.Is(err, io.EOF), errors.Is(err, net.ErrClosed), errors.Is(err, io.ErrUnexpectedEOF):
		c.waitEnd()
		tb.Fatalf("websocktest: %s: the connection was closed with no close frame; %s", what, c.state())
	case err != nil:
		tb.Fatalf("websocktest: %s: %v; %s", what, err, c.state())
	}
	return f
}

// ExpectText reads the next frame and fails tb unless it is the text
// message want.
func (c *Conn) ExpectText(tb testing.TB, want string) {
	tb.Helper()
	what := fmt.Sprintf("ExpectText(%q)", want)
	if f := c.next(tb, what); f.Op != websock.OpText || string(f.Data) != want {
		tb.Fatalf("websocktest: %s: got %s", what, describe(f))
	}
}

// NextText reads the next frame, fails tb unless it is a text message,
// and returns the text, for a test to check as it needs (JSON, say).
func (c *Conn) NextText(tb testing.TB) string {
	tb.Helper()
	f := c.next(tb, "NextText")
	if f.Op != websock.OpText {
		tb.Fatalf("websocktest: NextText: got %s, not a text message", describe(f))
	}
	return string(f.Data)
}

// ExpectBinary reads the next frame and fails tb unless it is the binary
// message want.
func (c *Conn) ExpectBinary(tb testing.TB, want []byte) {
	tb.Helper()
	what := fmt.Sprintf("ExpectBinary(% x)", want)
	if f := c.next(tb, what); f.Op != websock.OpBinary || !bytes.Equal(f.Data, want) {
		tb.Fatalf("websocktest: %s: got %s", what, describe(f))
	}
}

// ExpectPing reads the next frame, fails tb unless it is a ping, and
// returns its payload (answer it with [Conn.Pong]).
func (c *Conn) ExpectPing(tb testing.TB) []byte {
	tb.Helper()
	f := c.next(tb, "ExpectPing")
	if f.Op != websock.OpPing {
		tb.Fatalf("websocktest: ExpectPing: got %s", describe(f))
	}
	return f.Data
}

// ExpectPong reads the next frame and fails tb unless it is a pong with
// payload.
func (c *Conn) ExpectPong(tb testing.TB, payload []byte) {
	tb.Helper()
	what := fmt.Sprintf("ExpectPong(%q)", payload)
	if f := c.next(tb, what); f.Op != websock.OpPong || !bytes.Equal(f.Data, payload) {
		tb.Fatalf("websocktest: %s: got %s", what, describe(f))
	}
}

// ExpectClose reads the next frame and fails tb unless it is a close
// frame with code; it returns the frame's reason text. It answers the
// close frame, as a client does, unless the test sent one first, and then
// waits for the handler's Terminate: after it, [Conn.Reason] returns at
// once and sending fails the test with that Reason.
func (c *Conn) ExpectClose(tb testing.TB, code websock.CloseCode) string {
	tb.Helper()
	what := fmt.Sprintf("ExpectClose(%d)", code)
	f := c.next(tb, what)
	if f.Op != websock.OpClose {
		tb.Fatalf("websocktest: %s: got %s", what, describe(f))
	}
	got, text, err := parseClose(f.Data)
	if err != nil || got != code {
		tb.Fatalf("websocktest: %s: got %s", what, describe(f))
	}
	if !c.closeSent {
		c.closeSent = true
		c.wbuf = appendFrame(c.wbuf[:0], websock.OpClose, true, closePayload(got, ""), !c.server, maskKey)
		c.nc.SetWriteDeadline(time.Now().Add(c.timeout))
		c.nc.Write(c.wbuf) // the engine may have closed the connection already (bad input)
	}
	if c.rec == nil {
		return text
	}
	c.waitEnd()
	if !c.ended() {
		tb.Fatalf("websocktest: %s: Terminate did not run within %v of the close", what, c.timeout)
	}
	return text
}

// Reason waits for the handler's Terminate and returns the Reason it got.
func (c *Conn) Reason(tb testing.TB) websock.Reason {
	tb.Helper()
	c.needHandler("Reason")
	c.waitEnd()
	switch {
	case !c.ended():
		tb.Fatalf("websocktest: Reason: Terminate did not run within %v; %s", c.timeout, c.state())
	case c.rec.abandoned != nil:
		tb.Fatalf("websocktest: Reason: the handler never started: %v", c.rec.abandoned)
	}
	return c.rec.reason
}

// Done returns a channel that is closed once the handler's Terminate has
// returned; nil for a Peer's Conn.
func (c *Conn) Done() <-chan struct{} {
	if c.rec == nil {
		return nil
	}
	return c.rec.done
}

// needHandler fails the test when the Conn has no handler behind it.
func (c *Conn) needHandler(what string) {
	c.tb.Helper()
	if c.rec == nil {
		c.tb.Fatalf("websocktest: %s: this is a Peer's connection, to a client under test; its handler's Reason is the Client's (Client.Wait)", what)
	}
}

// waitEnd waits up to the timeout for Terminate.
func (c *Conn) waitEnd() {
	if c.rec == nil {
		return
	}
	select {
	case <-c.rec.done:
	case <-time.After(c.timeout):
	}
}

func (c *Conn) ended() bool {
	if c.rec == nil {
		return false
	}
	select {
	case <-c.rec.done:
		return true
	default:
		return false
	}
}

// state says what arrived so far and whether the connection ended, for a
// failure message.
func (c *Conn) state() string {
	var b strings.Builder
	if len(c.seen) == 0 {
		b.WriteString("no frame arrived before")
	} else {
		fmt.Fprintf(&b, "what arrived before, in order: %s", strings.Join(c.seen, ", "))
	}
	switch {
	case c.rec == nil:
	case c.ended() && c.rec.abandoned != nil:
		fmt.Fprintf(&b, "; the handler never started: %v", c.rec.abandoned)
	case c.ended():
		fmt.Fprintf(&b, "; Terminate saw %v", c.rec.reason)
	default:
		b.WriteString("; Terminate has not run")
	}
	return b.String()
}

// describe names a frame for a failure message.
func describe(f websock.Frame) string {
	switch f.Op {
	case websock.OpText:
		s := string(f.Data)
		if len(s) > 200 {
			s = s[:200] + "..."
		}
		return fmt.Sprintf("text %q", s)
	case websock.OpBinary:
		if len(f.Data) > 64 {
			return fmt.Sprintf("binary (%d bytes) % x...", len(f.Data), f.Data[:64])
		}
		return fmt.Sprintf("binary % x", f.Data)
	case websock.OpClose:
		code, text, err := parseClose(f.Data)
		if err != nil {
			return fmt.Sprintf("close % x (%v)", f.Data, err)
		}
		return fmt.Sprintf("close %d %q", code, text)
	}
	return fmt.Sprintf("%v %q", f.Op, f.Data)
}

// recorder stands between the engine and the handler under test: it
// passes every callback on, unchanged, and keeps what the test needs (the
// Conn Init got, the Reason Terminate got).
type recorder struct {
	h         websock.Handler
	conn      websock.Conn
	started   chan struct{} // closed when Init has returned
	done      chan struct{} // closed when Terminate has returned, or Abandon
	reason    websock.Reason
	abandoned error
	once      sync.Once
}

func newRecorder() *recorder {
	return &recorder{started: make(chan struct{}), done: make(chan struct{})}
}

// wrap returns the Handler the engine runs for h: h's callbacks, and
// HandleControl only when h has it, as the engine calls it only then.
func (r *recorder) wrap(h websock.Handler) websock.Handler {
	r.h = h
	if ctl, ok := h.(websock.ControlHandler); ok {
		return &controlRecorder{r, ctl}
	}
	return r
}

func (r *recorder) Init(c websock.Conn) websock.Result {
	r.conn = c
	defer close(r.started)
	return r.h.Init(c)
}

func (r *recorder) HandleIn(f websock.Frame) websock.Result { return r.h.HandleIn(f) }
func (r *recorder) HandleInfo(msg any) websock.Result       { return r.h.HandleInfo(msg) }

func (r *recorder) Terminate(reason websock.Reason) {
	r.reason = reason
	defer r.once.Do(func() { close(r.done) })
	r.h.Terminate(reason)
}

// Abandon is called when the handler never starts (the server began
// shutting down during the upgrade).
func (r *recorder) Abandon(err error) {
	r.abandoned = err
	defer r.once.Do(func() { close(r.done) })
	if a, ok := r.h.(websock.Abandoner); ok {
		a.Abandon(err)
	}
}

type controlRecorder struct {
	*recorder
	ctl websock.ControlHandler
}

func (r *controlRecorder) HandleControl(f websock.Frame) websock.Result {
	return r.ctl.HandleControl(f)
}
