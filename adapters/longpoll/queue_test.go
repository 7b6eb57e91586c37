package longpoll

import (
	"bytes"
	"testing"

	"github.com/websock-go/websock/websock"
)

// The session's queue keeps every message's bytes as written while its
// buffer is reused, compacted and grown, whatever the sizes and however
// many messages are acknowledged at a time.
func TestQueueKeepsMessages(t *testing.T) {
	s := &session{changed: make(chan struct{})}
	var want [][]byte
	next := 0
	for i := range 2000 {
		n := i % 61
		switch i % 13 {
		case 0:
			n = i * 31 % (2 * maxShared) // some too big to share
		case 1:
			n = 0
		}
		p := make([]byte, n)
		for j := range p {
			p[j] = byte(i*7 + j)
		}
		if err := s.queueLocked(websock.OpBinary, p, ""); err != nil {
			t.Fatal(err)
		}
		clear(p) // the queue has its own copy
		p = make([]byte, n)
		for j := range p {
			p[j] = byte(i*7 + j)
		}
		want = append(want, p)
		// Acknowledge in bursts, so that the queue grows and shrinks,
		// and the messages left wait while the buffer fills again.
		if k := len(s.out); i%300 == 299 {
			drop := k - 40
			if i%900 == 899 {
				drop = k
			}
			s.dropLocked(drop)
			next += drop
		}
		shared, total := 0, 0
		for j, m := range s.out {
			if !bytes.Equal(m.data, want[next+j]) {
				t.Fatalf("after message %d, message %d of the queue holds %d bytes %x; want %x", i, next+j, len(m.data), m.data, want[next+j])
			}
			total += len(m.data)
			if m.shared {
				shared += len(m.data)
			}
		}
		if total != s.outBytes || shared != s.outShared {
			t.Fatalf("after message %d, outBytes %d and outShared %d; the queue holds %d and %d", i, s.outBytes, s.outShared, total, shared)
		}
	}
}
