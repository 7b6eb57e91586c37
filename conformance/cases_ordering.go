package conformance

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/websock-go/websock/adapters"
	"github.com/websock-go/websock/websock"
)

// floodProbes makes probes that echo, and on "flood me" push 256 KiB
// messages from HandleInfo, one after another, until the writes block:
// a client that then stops reading is a peer stuck behind a push.
func floodProbes() (websock.AcceptFunc, chan *probe) {
	chunk := make([]byte, 256<<10)
	return probes(func(p *probe) {
		p.in = func(p *probe, f websock.Frame) websock.Result {
			if string(f.Data) != "flood me" {
				return websock.Push(f)
			}
			p.conn.Send(0)
			return websock.OK()
		}
		p.info = func(p *probe, msg any) websock.Result {
			if n := msg.(int); n < 2000 { // at most 500 MiB: bounded even if writes never block
				p.conn.Send(n + 1)
			}
			return websock.Push(websock.Binary(chunk))
		}
	}, false)
}

func slowConsumer(e *env) {
	accept, ch := floodProbes()
	srv := e.serve(accept, &adapters.Options{WriteTimeout: 300 * time.Millisecond})
	c := e.dial(srv)
	p := e.next(ch)
	c.sendText("flood me") // and never read again
	if r := e.wantReason(p, websock.KindTimeout, websock.CloseAbnormal, websock.ErrWriteTimeout,
		"a client that stops reading is ended by the write timeout, a Timeout (slow consumer), not an error"); !errors.Is(r, websock.ErrWriteFailed) {
		e.Errorf("the slow consumer's Reason %v does not match ErrWriteFailed too", r)
	}
	// Others are unaffected.
	c2 := e.dial(srv)
	c2.sendText("fine")
	e.wantMessage(c2, opText, "fine")
}

func sendFromGoroutines(e *env) {
	const senders, each = 100, 20
	got := make(chan []int, 1)
	accept, _ := probes(func(p *probe) {
		next := make([]int, senders)
		count := 0
		p.init = func(p *probe) websock.Result {
			for g := 0; g < senders; g++ {
				go func() {
					for i := 0; i < each; i++ {
						for p.conn.Send([2]int{g, i}) == websock.ErrMailboxFull {
							time.Sleep(time.Millisecond)
						}
					}
				}()
			}
			return websock.OK()
		}
		p.info = func(_ *probe, msg any) websock.Result {
			m := msg.([2]int)
			if m[1] != next[m[0]] {
				return websock.Stop(fmt.Errorf("goroutine %d: got message %d, want %d (rule: HandleInfo sees one sender's messages in order)", m[0], m[1], next[m[0]]))
			}
			next[m[0]]++
			if count++; count == senders*each {
				got <- next
				return websock.Push(websock.TextString("all in order"))
			}
			return websock.OK()
		}
	}, false)
	c := e.dial(e.serve(accept, nil))
	op, data, err := c.readMessage(20*time.Second, nil)
	if err != nil || op != opText || string(data) != "all in order" {
		e.Fatalf("got %v %q %v; want every Send delivered to HandleInfo in order", op, data, err)
	}
}

func sendInterleaved(e *env) {
	const n = 300
	accept, _ := probes(func(p *probe) {
		var ins, infos int
		p.init = func(p *probe) websock.Result {
			go func() {
				for i := 0; i < n; i++ {
					for p.conn.Send(i) == websock.ErrMailboxFull {
						time.Sleep(time.Millisecond)
					}
				}
			}()
			return websock.OK()
		}
		p.in = func(_ *probe, f websock.Frame) websock.Result {
			ins++
			return websock.Push(websock.TextString(fmt.Sprintf("in %d %d", ins, infos)))
		}
		p.info = func(_ *probe, msg any) websock.Result {
			if msg.(int) != infos {
				return websock.Stop(fmt.Errorf("HandleInfo got %v, want %d", msg, infos))
			}
			infos++
			if infos == n {
				return websock.Push(websock.TextString("infos done"))
			}
			return websock.OK()
		}
	}, false)
	c := e.dial(e.serve(accept, nil))
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < n; i++ {
			if c.sendText("m") != nil {
				return
			}
		}
	}()
	ins, done := 0, false
	for ins < n || !done {
		op, data, err := c.readMessage(20*time.Second, nil)
		if err != nil || op != opText {
			e.Fatalf("after %d echoes: %v %q %v", ins, op, data, err)
		}
		if string(data) == "infos done" {
			done = true
			continue
		}
		ins++
		if !strings.HasPrefix(string(data), fmt.Sprintf("in %d ", ins)) {
			e.Fatalf("got %q; want HandleIn number %d", data, ins)
		}
	}
	wg.Wait()
}

func sendAfterEnd(e *env) {
	accept, ch := probes(nil, false)
	c := e.dial(e.serve(accept, nil))
	p := e.next(ch)
	c.sendClose(1000, "")
	e.wantClose(c, 1000, "echo")
	e.reason(p)
	if err := p.conn.Send("late"); !errors.Is(err, websock.ErrClosed) {
		e.Errorf("Send after Terminate = %v; want ErrClosed", err)
	}
}

func mailboxFull(e *env) {
	release := make(chan struct{})
	results := make(chan []error, 1)
	accept, ch := probes(func(p *probe) {
		p.in = func(p *probe, _ websock.Frame) websock.Result {
			p.conn.Send("block")
			go func() {
				time.Sleep(100 * time.Millisecond) // let HandleInfo("block") start
				var errs []error
				for i := 0; i < 8; i++ {
					errs = append(errs, p.conn.Send(i))
				}
				results <- errs
				close(release)
			}()
			return websock.OK()
		}
		p.info = func(_ *probe, msg any) websock.Result {
			if msg == "block" {
				<-release
			}
			return websock.OK()
		}
	}, false)
	c := e.dial(e.serve(accept, &adapters.Options{MailboxSize: 4}))
	e.next(ch)
	c.sendText("go")
	var errs []error
	select {
	case errs = <-results:
	case <-time.After(10 * time.Second):
		e.Fatal("Send blocked (rule: Send never blocks)")
	}
	for i, err := range errs {
		want := error(nil)
		if i >= 4 {
			want = websock.ErrMailboxFull
		}
		if !errors.Is(err, want) && !(want == nil && err == nil) {
			e.Errorf("Send %d with a mailbox of 4 = %v; want %v", i, err, want)
		}
	}
}

func badInputIsolated(e *env) {
	accept, _ := probes(nil, false)
	srv := e.serve(accept, nil)
	good := e.dial(srv)
	for i, bad := range []frame{
		{fin: true, op: 0x3},
		{fin: true, op: opText, payload: []byte{0xff}},
		{fin: true, op: opCont, payload: []byte("x")},
	} {
		c := e.dial(srv)
		c.writeFrame(bad, false)
		if _, err := c.expectClose(10 * time.Second); err != nil {
			e.Errorf("bad input %d: %v", i, err)
		}
		good.sendText("still fine")
		e.wantMessage(good, opText, "still fine")
	}
}

func manyConnections(e *env) {
	const n = 500
	accept, _ := probes(nil, false)
	srv := e.serve(accept, nil)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, _, err := dial(srv.URL, nil)
			if err != nil {
				errs <- err
				return
			}
			defer c.close()
			msg := fmt.Sprintf("conn %d", i)
			c.sendText(msg)
			op, data, err := c.readMessage(20*time.Second, nil)
			if err != nil || op != opText || string(data) != msg {
				errs <- fmt.Errorf("conn %d: %v %q %v", i, op, data, err)
				return
			}
			c.sendClose(1000, "")
			if _, err := c.expectClose(20 * time.Second); err != nil {
				errs <- fmt.Errorf("conn %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	failed := 0
	for err := range errs {
		if failed++; failed <= 5 {
			e.Errorf("%v", err)
		}
	}
	if failed > 0 {
		e.Errorf("%d of %d concurrent connections failed", failed, n)
	}
}

func mailboxFullCloses(e *env) {
	release := make(chan struct{})
	errs := make(chan error, 1)
	accept, ch := probes(func(p *probe) {
		p.in = func(p *probe, _ websock.Frame) websock.Result {
			p.conn.Send("block")
			go func() {
				time.Sleep(100 * time.Millisecond)
				var err error
				for i := 0; i < 5 && err == nil; i++ {
					err = p.conn.Send(i)
				}
				errs <- err
				close(release)
			}()
			return websock.OK()
		}
		p.info = func(_ *probe, msg any) websock.Result {
			if msg == "block" {
				<-release
			}
			return websock.OK()
		}
	}, false)
	c := e.dial(e.serve(accept, &adapters.Options{MailboxSize: 4, CloseOnMailboxFull: true}))
	p := e.next(ch)
	c.sendText("go")
	select {
	case err := <-errs:
		if !errors.Is(err, websock.ErrMailboxFull) {
			e.Errorf("the fifth Send into a mailbox of 4 = %v; want ErrMailboxFull", err)
		}
	case <-time.After(10 * time.Second):
		e.Fatal("Send blocked (rule: Send never blocks)")
	}
	cf, err := c.expectClose(10 * time.Second)
	if err == nil && cf.code != 1013 {
		e.Errorf("closed with %d; want 1013 (try again later) when a slow consumer's mailbox overflows", cf.code)
	}
	e.wantReason(p, websock.KindError, websock.CloseTryAgainLater, websock.ErrMailboxFull, "CloseOnMailboxFull ends the connection")
}

// mailboxFullShedsAtOnce checks that CloseOnMailboxFull sheds a slow
// consumer when its mailbox fills, not when the write under way times out:
// with a write timeout of an hour, a client that stops reading while the
// handler keeps sending is ended with ErrMailboxFull, and the connection
// is over (Observer.End: its goroutines and buffers gone) within the
// suite's 10 s wait, while the client still reads nothing.
func mailboxFullShedsAtOnce(e *env) {
	chunk := make([]byte, 256<<10)
	accept, ch := probes(func(p *probe) {
		p.in = func(p *probe, f websock.Frame) websock.Result {
			p.conn.Send(0) // the flood: each message pushes a chunk and queues the next
			go func() {
				// A tick every 5ms: the mailbox holds one flood message while
				// writes go through, and overflows once a write is stuck.
				for i := 0; i < 20000; i++ { // bounded: at most 100 s
					if p.conn.Send("tick") == websock.ErrClosed {
						return
					}
					time.Sleep(5 * time.Millisecond)
				}
			}()
			return websock.OK()
		}
		p.info = func(p *probe, msg any) websock.Result {
			if n, ok := msg.(int); ok && n < 2000 { // at most 500 MiB: bounded even if writes never block
				p.conn.Send(n + 1)
				return websock.Push(websock.Binary(chunk))
			}
			return websock.OK()
		}
	}, false)
	srv, rec := e.observed(accept, &adapters.Options{MailboxSize: 4, CloseOnMailboxFull: true, WriteTimeout: time.Hour})
	c := e.dial(srv)
	p := e.next(ch)
	c.sendText("flood me") // and never read again
	e.wantReason(p, websock.KindError, websock.CloseTryAgainLater, websock.ErrMailboxFull,
		"CloseOnMailboxFull sheds the slow consumer when its mailbox fills")
	if end := e.end(rec); !errors.Is(end.Reason, websock.ErrMailboxFull) {
		e.Errorf("EndEvent Reason %v; want ErrMailboxFull", end.Reason)
	}
}
