package conformance

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/websock-go/websock/adapters"
	"github.com/websock-go/websock/websock"
)

// eventLog is an adapters.Observer that keeps every event, so that a case
// can check that every adapter reports the same ones with the same fields.
type eventLog struct {
	mu     sync.Mutex
	events []any // the events, in the order they were reported, messages included
	in     adapters.Traffic
	out    adapters.Traffic
	ends   chan adapters.EndEvent
}

var _ adapters.MessageObserver = (*eventLog)(nil)

func newEventLog() *eventLog { return &eventLog{ends: make(chan adapters.EndEvent, 16)} }

func (r *eventLog) add(ev any) {
	r.mu.Lock()
	r.events = append(r.events, ev)
	r.mu.Unlock()
}

func (r *eventLog) Upgrade(ev adapters.UpgradeEvent)     { r.add(ev) }
func (r *eventLog) Start(ev adapters.StartEvent)         { r.add(ev) }
func (r *eventLog) MailboxFull(ev adapters.MailboxEvent) { r.add(ev) }
func (r *eventLog) Panic(ev adapters.PanicEvent)         { r.add(ev) }
func (r *eventLog) Timeout(ev adapters.TimeoutEvent)     { r.add(ev) }
func (r *eventLog) Drain(ev adapters.DrainEvent)         { r.add(ev) }
func (r *eventLog) End(ev adapters.EndEvent)             { r.add(ev); r.ends <- ev }

func (r *eventLog) Message(ev adapters.MessageEvent) {
	r.mu.Lock()
	defer r.mu.Unlock()
	t := &r.in
	if ev.Direction == adapters.Out {
		t = &r.out
	}
	t.Add(ev.Op, ev.Bytes)
	r.events = append(r.events, ev)
}

// snapshot returns the events but the messages, and the traffic the
// messages added up to.
func (r *eventLog) snapshot() (events []any, in, out adapters.Traffic) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, ev := range r.events {
		if _, ok := ev.(adapters.MessageEvent); !ok {
			events = append(events, ev)
		}
	}
	return events, r.in, r.out
}

// kinds names the events, in order.
func kinds(events []any) string {
	var s []string
	for _, ev := range events {
		s = append(s, strings.TrimSuffix(strings.TrimPrefix(fmt.Sprintf("%T", ev), "adapters."), "Event"))
	}
	return strings.Join(s, ",")
}

// observed starts the adapter with a eventLog as its Observer, on top of
// opts.
func (e *env) observed(accept websock.AcceptFunc, opts *adapters.Options) (*Server, *eventLog) {
	rec := newEventLog()
	o := adapters.Options{}
	if opts != nil {
		o = *opts
	}
	o.Observer = rec
	return e.serve(accept, &o), rec
}

// end waits for the next EndEvent.
func (e *env) end(rec *eventLog) adapters.EndEvent {
	e.Helper()
	select {
	case ev := <-rec.ends:
		return ev
	case <-time.After(10 * time.Second):
		e.Fatal("Observer.End was not called within 10s of the connection ending (rule: End follows Terminate)")
		return adapters.EndEvent{}
	}
}

// wantEvents checks the order of the events, messages left out.
func (e *env) wantEvents(events []any, want string) {
	e.Helper()
	if got := kinds(events); got != want {
		e.Errorf("the Observer saw events %s; want %s", got, want)
	}
}

// wantTraffic checks one direction of an EndEvent against what the case
// sent, and against the sum of the MessageEvents.
func (e *env) wantTraffic(dir string, got, want, messages adapters.Traffic) {
	e.Helper()
	if got != want {
		e.Errorf("EndEvent.%s = %+v; want %+v (rule: messages and control frames are counted by opcode, payload bytes as the handler sees them)", dir, got, want)
	}
	if messages != got {
		e.Errorf("the MessageEvents %s add up to %+v; EndEvent.%s is %+v (rule: MessageObserver sees every frame End counts)", dir, messages, dir, got)
	}
}

// observeConnection checks the events of one connection's life: upgrade,
// start, end, and what went in and out.
func observeConnection(e *env) {
	accept, ch := probes(nil, false)
	srv, rec := e.observed(accept, nil)
	c := e.dial(srv)
	p := e.next(ch)
	for _, s := range []string{"a", "bb", "ccc"} {
		c.sendText(s)
		e.wantMessage(c, opText, s)
	}
	c.send(opBinary, []byte{1, 2, 3, 4})
	e.wantMessage(c, opBinary, "\x01\x02\x03\x04")
	c.sendClose(4001, "bye")
	e.wantClose(c, 4001, "the peer's close code is echoed")
	e.wantReason(p, websock.KindRemote, 4001, nil, "peer close")
	end := e.end(rec)

	events, in, out := rec.snapshot()
	e.wantEvents(events, "Upgrade,Start,End")
	if len(events) != 3 {
		return
	}
	up, start := events[0].(adapters.UpgradeEvent), events[1].(adapters.StartEvent)
	if up.Adapter != e.adapter.Name || start.Adapter != e.adapter.Name || end.Adapter != e.adapter.Name {
		e.Errorf("events name adapters %q, %q, %q; want %q in each", up.Adapter, start.Adapter, end.Adapter, e.adapter.Name)
	}
	status := http.StatusSwitchingProtocols
	if e.adapter.Lacks.Frames != "" {
		status = http.StatusOK // a session opened by a plain request
	}
	if up.Outcome != adapters.UpgradeAccepted || up.Status != status || up.Request == nil || up.Err != nil {
		e.Errorf("UpgradeEvent %+v; want Outcome accepted, Status %d, the Request and no Err", up, status)
	}
	if start.Info == nil || start.Info != end.Info || start.Info.Adapter != e.adapter.Name {
		e.Errorf("StartEvent.Info %+v, EndEvent.Info %+v; want the connection's ConnInfo in both", start.Info, end.Info)
	}
	if end.Reason.Kind != websock.KindRemote || end.Reason.Code != 4001 || end.Sent != 4001 || end.Received != 4001 {
		e.Errorf("EndEvent Reason %v, Sent %d, Received %d; want Remote 4001, sent 4001 (the echo), received 4001", end.Reason, end.Sent, end.Received)
	}
	if end.Duration <= 0 {
		e.Errorf("EndEvent.Duration %v; want how long the connection ran", end.Duration)
	}
	e.wantTraffic("In", end.In, adapters.Traffic{
		Text: adapters.Tally{Frames: 3, Bytes: 6}, Binary: adapters.Tally{Frames: 1, Bytes: 4},
		Close: adapters.Tally{Frames: 1, Bytes: 5}}, in)
	e.wantTraffic("Out", end.Out, adapters.Traffic{
		Text: adapters.Tally{Frames: 3, Bytes: 6}, Binary: adapters.Tally{Frames: 1, Bytes: 4},
		Close: adapters.Tally{Frames: 1, Bytes: 2}}, out)
	if end.MailboxPeak != 0 || end.MailboxRefused != 0 {
		e.Errorf("EndEvent MailboxPeak %d, MailboxRefused %d; want 0 for a connection nothing was sent to", end.MailboxPeak, end.MailboxRefused)
	}
}

// observeControl checks that pings and pongs are counted, and the pong
// that answers a ping, whoever wrote it.
func observeControl(e *env) {
	accept, ch := probes(nil, true)
	srv, rec := e.observed(accept, nil)
	c := e.dial(srv)
	p := e.next(ch)
	c.send(opPing, []byte("p1"))
	c.send(opPong, []byte("q"))
	c.sendText("x")
	e.wantMessage(c, opText, "x") // the ping was answered by then
	c.sendClose(1000, "")
	e.wantClose(c, 1000, "the peer's close code is echoed")
	e.wantReason(p, websock.KindRemote, websock.CloseNormal, nil, "peer close")
	end := e.end(rec)
	_, in, out := rec.snapshot()
	e.wantTraffic("In", end.In, adapters.Traffic{Text: adapters.Tally{Frames: 1, Bytes: 1},
		Ping: adapters.Tally{Frames: 1, Bytes: 2}, Pong: adapters.Tally{Frames: 1, Bytes: 1}, Close: adapters.Tally{Frames: 1, Bytes: 2}}, in)
	e.wantTraffic("Out", end.Out, adapters.Traffic{Text: adapters.Tally{Frames: 1, Bytes: 1},
		Pong: adapters.Tally{Frames: 1, Bytes: 2}, Close: adapters.Tally{Frames: 1, Bytes: 2}}, out)
}

// observeRefusals checks that each refused upgrade is reported once, with
// its status and why, and starts nothing.
func observeRefusals(e *env) {
	accept := func(r *websock.Request) (websock.Handler, error) {
		switch r.URL.Query().Get("hook") {
		case "refuse":
			return nil, websock.Refuse(http.StatusUnauthorized, "no token")
		case "fail":
			return nil, errors.New("backend down")
		}
		return newProbe(), nil
	}
	srv, rec := e.observed(accept, nil)
	if resp, err := httpGet(srv.URL); err == nil {
		resp.Body.Close()
	}
	e.wantRefused(srv, http.Header{"Origin": {"https://evil.example"}}, http.StatusForbidden, "evil.example", "a cross-origin request is refused")
	for _, q := range []string{"?hook=refuse", "?hook=fail"} {
		if c, _, err := dial(srv.URL+q, nil); err == nil {
			c.close()
			e.Errorf("upgrade %s succeeded; want it refused", q)
		}
	}
	sub, subRec := e.observed(accept, &adapters.Options{Subprotocols: []string{"v1"}, RequireSubprotocol: true})
	e.wantRefused(sub, nil, http.StatusBadRequest, "v1", "a client offering no required subprotocol is refused")

	events, _, _ := rec.snapshot()
	subEvents, _, _ := subRec.snapshot()
	events = append(events, subEvents...)
	e.wantEvents(events, "Upgrade,Upgrade,Upgrade,Upgrade,Upgrade")
	want := []struct {
		outcome adapters.UpgradeOutcome
		status  int
		err     bool
	}{
		{adapters.RefusedHandshake, http.StatusBadRequest, false},
		{adapters.RefusedOrigin, http.StatusForbidden, false},
		{adapters.RefusedAcceptFunc, http.StatusUnauthorized, false},
		{adapters.AcceptFuncFailed, http.StatusInternalServerError, true},
		{adapters.RefusedSubprotocol, http.StatusBadRequest, false},
	}
	for i, ev := range events {
		up, ok := ev.(adapters.UpgradeEvent)
		if !ok || i >= len(want) {
			break
		}
		w := want[i]
		if up.Adapter != e.adapter.Name || up.Outcome != w.outcome || up.Status != w.status || (up.Err != nil) != w.err || up.Request == nil {
			e.Errorf("refusal %d reported as %+v; want Outcome %v, Status %d, an Err %v, the Request, adapter %q",
				i+1, up, w.outcome, w.status, w.err, e.adapter.Name)
		}
	}
}

// observePanic checks that a recovered panic is reported with its stack,
// before the connection's end.
func observePanic(e *env) {
	accept, ch := probes(func(p *probe) {
		p.in = func(*probe, websock.Frame) websock.Result { panic("observed boom") }
	}, false)
	srv, rec := e.observed(accept, nil)
	c := e.dial(srv)
	p := e.next(ch)
	c.sendText("go")
	e.closeAndReply(c, 1011, "a panicking callback closes 1011")
	var pe *websock.PanicError
	e.wantReason(p, websock.KindError, websock.CloseInternalError, nil, "a panic is an error")
	end := e.end(rec)
	events, _, _ := rec.snapshot()
	e.wantEvents(events, "Upgrade,Start,Panic,End")
	if len(events) == 4 {
		ev := events[2].(adapters.PanicEvent)
		if ev.Adapter != e.adapter.Name || ev.Callback != "HandleIn" || ev.Value != "observed boom" ||
			!strings.Contains(string(ev.Stack), "goroutine") || ev.Info == nil {
			e.Errorf("PanicEvent %+v; want callback HandleIn, the panic's value, its stack and the ConnInfo", ev)
		}
	}
	if !errors.As(end.Reason, &pe) || end.Sent != websock.CloseInternalError || end.Received != 1011 {
		e.Errorf("EndEvent Reason %v, Sent %d, Received %d; want a *PanicError, 1011 sent and answered", end.Reason, end.Sent, end.Received)
	}
}

// observeMailbox checks that a full mailbox is reported once, with and
// without closing the slow consumer, and counted at the end.
func observeMailbox(e *env) {
	for _, disconnect := range []bool{false, true} {
		e.sub(fmt.Sprintf("CloseOnMailboxFull=%v", disconnect), func(r reporter) { observeMailboxFull(e.part(r), disconnect) })
	}
}

func observeMailboxFull(e *env, disconnect bool) {
	entered, release := make(chan struct{}, 1), make(chan struct{})
	accept, ch := probes(func(p *probe) {
		p.in = func(p *probe, f websock.Frame) websock.Result { p.conn.Send("first"); return websock.OK() }
		p.info = func(*probe, any) websock.Result {
			select {
			case entered <- struct{}{}: // the first message's; later ones find it full
			default:
			}
			<-release
			return websock.OK()
		}
	}, false)
	srv, rec := e.observed(accept, &adapters.Options{MailboxSize: 2, CloseOnMailboxFull: disconnect})
	c := e.dial(srv)
	p := e.next(ch)
	c.sendText("go")
	select {
	case <-entered: // HandleInfo holds the connection: the mailbox fills
	case <-time.After(10 * time.Second):
		e.Fatal("HandleInfo was not called within 10s of Send")
	}
	var errs []error
	for i := 0; i < 10; i++ {
		errs = append(errs, p.conn.Send(i))
	}
	close(release)
	wantRefused := int64(8)
	if disconnect {
		wantRefused = 1
		e.closeAndReply(c, 1013, "CloseOnMailboxFull closes a slow consumer with 1013")
	} else {
		c.sendClose(1000, "")
		e.wantClose(c, 1000, "the peer's close code is echoed")
	}
	if errs[0] != nil || errs[1] != nil || !errors.Is(errs[2], websock.ErrMailboxFull) {
		e.Fatalf("Send with MailboxSize 2 returned %v; want two nil, then ErrMailboxFull", errs)
	}
	end := e.end(rec)
	events, _, _ := rec.snapshot()
	e.wantEvents(events, "Upgrade,Start,Mailbox,End")
	if len(events) == 4 {
		if ev := events[2].(adapters.MailboxEvent); ev.Adapter != e.adapter.Name || ev.Size != 2 || ev.Disconnect != disconnect || ev.Info == nil {
			e.Errorf("MailboxEvent %+v; want Size 2, Disconnect %v, the ConnInfo", ev, disconnect)
		}
	}
	if end.MailboxPeak != 2 || end.MailboxRefused != wantRefused {
		e.Errorf("EndEvent MailboxPeak %d, MailboxRefused %d; want 2 and %d", end.MailboxPeak, end.MailboxRefused, wantRefused)
	}
	if disconnect && (end.Sent != websock.CloseTryAgainLater || !errors.Is(end.Reason, websock.ErrMailboxFull)) {
		e.Errorf("EndEvent Reason %v, Sent %d; want ErrMailboxFull and 1013", end.Reason, end.Sent)
	}
}

// observeTimeout checks that an idle timeout is reported before the end.
func observeTimeout(e *env) {
	e.needSilentClient()
	e.observeTimeout(&adapters.Options{IdleTimeout: 100 * time.Millisecond, PingInterval: -1}, websock.ErrIdleTimeout)
}

// observeKeepaliveTimeout checks that an unanswered keepalive ping is
// reported before the end. The suite's client reads the pings and never
// answers them.
func observeKeepaliveTimeout(e *env) {
	e.observeTimeout(&adapters.Options{PingInterval: 100 * time.Millisecond, PongTimeout: 100 * time.Millisecond}, websock.ErrPongTimeout)
}

func (e *env) observeTimeout(opts *adapters.Options, want error) {
	accept, _ := probes(nil, false)
	srv, rec := e.observed(accept, opts)
	c := e.dial(srv)
	e.closeAndReply(c, 1001, "a connection that times out closes 1001")
	end := e.end(rec)
	events, _, _ := rec.snapshot()
	e.wantEvents(events, "Upgrade,Start,Timeout,End")
	if len(events) == 4 {
		if ev := events[2].(adapters.TimeoutEvent); ev.Adapter != e.adapter.Name || !errors.Is(ev.Err, want) || ev.Info == nil {
			e.Errorf("TimeoutEvent %+v; want %v and the ConnInfo", ev, want)
		}
	}
	if end.Reason.Kind != websock.KindTimeout || end.Sent != websock.CloseGoingAway {
		e.Errorf("EndEvent Reason %v, Sent %d; want Timeout and 1001", end.Reason, end.Sent)
	}
}

// observeDrain checks that Shutdown reports its progress, from every
// connection to none, after every connection's end.
func observeDrain(e *env) {
	rec := newEventLog()
	accept, _ := probes(nil, false)
	srv, err := e.adapter.Serve(accept, &adapters.Options{Logger: quiet, CloseTimeout: 2 * time.Second, Observer: rec})
	if err != nil {
		e.Fatalf("starting adapter: %v", err)
	}
	clients := []*client{e.dial(srv), e.dial(srv)}
	for _, c := range clients {
		c.sendText("hi")
		e.wantMessage(c, opText, "hi")
	}
	shut := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		shut <- srv.Shutdown(ctx)
	}()
	for _, c := range clients {
		e.closeAndReply(c, 1001, "Shutdown closes every connection with 1001")
	}
	if err := <-shut; err != nil {
		e.Fatalf("Shutdown: %v", err)
	}
	events, _, _ := rec.snapshot()
	var drains []adapters.DrainEvent
	ends := 0
	for _, ev := range events {
		switch ev := ev.(type) {
		case adapters.DrainEvent:
			drains = append(drains, ev)
		case adapters.EndEvent:
			if len(drains) > 0 && drains[len(drains)-1].Phase == adapters.DrainDone {
				e.Errorf("an EndEvent came after DrainDone (rule: Shutdown returns after every End)")
			}
			if ev.Sent != websock.CloseGoingAway || ev.Reason.Kind != websock.KindShutdown {
				e.Errorf("EndEvent Reason %v, Sent %d; want Shutdown, 1001", ev.Reason, ev.Sent)
			}
			ends++
		}
	}
	if ends != 2 {
		e.Errorf("%d EndEvents; want 2", ends)
	}
	if len(drains) < 2 || drains[0].Phase != adapters.DrainBegin || drains[0].Left != 2 ||
		drains[len(drains)-1].Phase != adapters.DrainDone || drains[len(drains)-1].Left != 0 || drains[len(drains)-1].Err != nil {
		e.Fatalf("DrainEvents %+v; want Begin with 2 left, then Done with 0 and no error", drains)
	}
	for i, d := range drains {
		if d.Adapter != e.adapter.Name || d.Code != websock.CloseGoingAway || (i > 0 && d.Left > drains[i-1].Left) ||
			(i > 0 && i < len(drains)-1 && d.Phase != adapters.DrainProgress) {
			e.Errorf("DrainEvent %d %+v; want code 1001, Progress between Begin and Done, fewer left each time", i, d)
		}
	}
}
