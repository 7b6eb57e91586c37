package adapters_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/websock-go/websock/conformance/reference"
	"github.com/websock-go/websock/websock"
)

// scripted is a Handler whose Results come from a script, one byte per
// callback, and which checks the lifecycle as it goes: Init first and
// once, Terminate once and last, no callback after Terminate, never two
// callbacks at once, and the messages of each sender handed to HandleInfo
// in the order they were sent, with none skipped.
type scripted struct {
	mu      sync.Mutex
	script  []byte
	conn    websock.Conn
	inits   int
	ended   bool
	errs    []string
	busy    atomic.Bool
	next    [2]int // the next message HandleInfo expects from each sender
	ready   chan struct{}
	done    chan struct{}
	reasons []websock.Reason
}

// info is a message Send puts in the mailbox.
type info struct{ sender, seq int }

func (s *scripted) fail(format string, args ...any) {
	s.errs = append(s.errs, fmt.Sprintf(format, args...))
}

// enter and leave bracket every callback.
func (s *scripted) enter(name string) {
	if !s.busy.CompareAndSwap(false, true) {
		s.mu.Lock()
		s.fail("%s ran while another callback was running", name)
		s.mu.Unlock()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended {
		s.fail("%s after Terminate", name)
	}
	if s.inits == 0 && name != "Init" {
		s.fail("%s before Init", name)
	}
}

func (s *scripted) leave() { s.busy.Store(false) }

// result returns the Result the script gives next.
func (s *scripted) result() websock.Result {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.script) == 0 {
		return websock.OK()
	}
	b := s.script[0]
	s.script = s.script[1:]
	text := websock.Frame{Op: websock.OpText, Data: []byte("pushed")}
	switch b % 12 {
	case 0, 1, 2:
		return websock.OK()
	case 3:
		return websock.Push(text)
	case 4:
		return websock.Push(text, websock.Frame{Op: websock.OpBinary, Data: []byte{b}}, websock.Frame{Op: websock.OpPing, Data: []byte("p")})
	case 5:
		return websock.Stop(nil)
	case 6:
		return websock.StopCode(errors.New("scripted"), websock.CloseCode(4000+int(b)), "bye")
	case 7:
		return websock.StopAfter(nil, 0, "", text)
	case 8:
		return websock.Stop(websock.ErrRestart)
	case 9:
		return websock.StopCode(nil, websock.CloseNoStatus, "") // may not be sent
	case 10:
		panic("scripted panic")
	}
	return websock.Push(websock.Frame{Op: websock.OpClose}) // a close frame pushed by hand
}

func (s *scripted) Init(c websock.Conn) websock.Result {
	s.enter("Init")
	defer s.leave()
	s.mu.Lock()
	s.inits++
	if s.inits > 1 {
		s.fail("Init ran %d times", s.inits)
	}
	s.conn = c
	s.mu.Unlock()
	close(s.ready)
	return s.result()
}

func (s *scripted) HandleIn(websock.Frame) websock.Result {
	s.enter("HandleIn")
	defer s.leave()
	return s.result()
}

func (s *scripted) HandleControl(websock.Frame) websock.Result {
	s.enter("HandleControl")
	defer s.leave()
	return s.result()
}

func (s *scripted) HandleInfo(msg any) websock.Result {
	s.enter("HandleInfo")
	defer s.leave()
	m := msg.(info)
	s.mu.Lock()
	if m.seq != s.next[m.sender] {
		s.fail("HandleInfo got message %d of sender %d; want %d", m.seq, m.sender, s.next[m.sender])
	}
	s.next[m.sender] = m.seq + 1
	s.mu.Unlock()
	return s.result()
}

func (s *scripted) Terminate(r websock.Reason) {
	s.enter("Terminate")
	defer s.leave()
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.ended {
		close(s.done)
	}
	s.ended = true
	s.reasons = append(s.reasons, r)
}

// sender sends n messages in order, numbered on from *seq, counting only
// those the mailbox took: a refused one is sent again.
func sender(c websock.Conn, id int, seq *int, n int) {
	for end := *seq + n; *seq < end; {
		err := c.Send(info{id, *seq})
		switch {
		case err == nil:
			*seq++
		case errors.Is(err, websock.ErrMailboxFull):
		default:
			return
		}
	}
}

// FuzzEngine runs one connection through the engine (on the reference
// adapter, in memory) under a script: what the peer sends (messages,
// pings, pongs, close frames, malformed frames, or going away), messages
// Sent from two goroutines at once, a Shutdown at any point, and the
// Result each callback returns. Whatever the script, the lifecycle holds
// (see scripted), every callback that ran saw Init first, Terminate runs
// exactly once, Send fails after it, and Shutdown leaves nothing live.
func FuzzEngine(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3}, []byte{0, 0, 3, 4})
	f.Add([]byte{5, 5, 5}, []byte{7, 7, 7, 7, 7})
	f.Add([]byte{0, 0, 0, 0, 0, 0}, []byte{1, 2, 3, 4, 5, 6})
	f.Add([]byte{10}, []byte{0, 8})
	f.Add([]byte{3, 4, 4, 6}, []byte{9, 2, 6})
	f.Add([]byte{9, 0, 11, 2}, []byte{0, 1, 10})
	discard := slog.New(slog.NewTextHandler(io.Discard, nil))
	f.Fuzz(func(t *testing.T, results, peer []byte) {
		if len(peer) > 64 {
			peer = peer[:64]
		}
		s := &scripted{script: results, ready: make(chan struct{}), done: make(chan struct{})}
		ws, err := reference.New(func(*websock.Request) (websock.Handler, error) { return s, nil },
			&reference.Options{MailboxSize: 4, CloseTimeout: 20 * time.Millisecond, Logger: discard})
		if err != nil {
			t.Fatal(err)
		}
		nc, err := ws.Dial(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		drained := make(chan struct{})
		go func() { io.Copy(io.Discard, nc); close(drained) }()
		if _, err := io.WriteString(nc, upgradeRequest); err != nil {
			t.Fatal(err)
		}
		<-s.ready // Init ran: the 101 went out before it
		var senders sync.WaitGroup
		var seqs [2]int
		shutdown := make(chan error, 1)
		shutdownStarted := false
		frame := func(b0 byte, payload []byte) {
			key := [4]byte{9, 8, 7, 6}
			fr := append([]byte{b0, 0x80 | byte(len(payload))}, key[:]...)
			for i, b := range payload {
				fr = append(fr, b^key[i&3])
			}
			nc.Write(fr) // fails once the server closed: the script goes on
		}
		for _, b := range peer {
			switch b % 11 {
			case 0:
				frame(0x81, []byte("text"))
			case 1:
				frame(0x82, []byte{b})
			case 2:
				frame(0x89, []byte("ping"))
			case 3:
				frame(0x8A, []byte("pong"))
			case 4:
				frame(0x01, []byte("frag"))
				frame(0x89, nil)
				frame(0x80, []byte("ment"))
			case 5:
				n := int(b) % 40
				senders.Add(2)
				go func() { defer senders.Done(); sender(s.conn, 0, &seqs[0], n) }()
				go func() { defer senders.Done(); sender(s.conn, 1, &seqs[1], n) }()
				senders.Wait() // the next pair continues the numbering
			case 6:
				frame(0x88, binary.BigEndian.AppendUint16(nil, 1000+uint16(b)))
			case 7:
				frame(0x81, []byte{0xff, 0xfe}) // not UTF-8
			case 8:
				if !shutdownStarted {
					shutdownStarted = true
					go func() { shutdown <- ws.Shutdown(context.Background()) }()
				}
			case 9:
				nc.Write([]byte{0x83, 0x00}) // unmasked, reserved opcode
			case 10:
				nc.Close()
			}
		}
		if !shutdownStarted {
			go func() { shutdown <- ws.Shutdown(context.Background()) }()
		}
		if err := <-shutdown; err != nil {
			t.Fatalf("Shutdown: %v", err)
		}
		nc.Close()
		<-drained
		select {
		case <-s.done:
		default:
			t.Fatal("Shutdown returned before Terminate")
		}
		if err := s.conn.Send(info{0, 0}); !errors.Is(err, websock.ErrClosed) {
			t.Errorf("Send after Terminate: %v; want ErrClosed", err)
		}
		if n := ws.Live(); n != 0 {
			t.Errorf("Live() = %d after Shutdown", n)
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if len(s.reasons) != 1 {
			t.Errorf("Terminate ran %d times: %v", len(s.reasons), s.reasons)
		}
		for _, e := range s.errs {
			t.Error(e)
		}
	})
}
