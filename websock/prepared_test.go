package websock

import (
	"bytes"
	"sync"
	"sync/atomic"
	"testing"
)

func TestPreparedFrame(t *testing.T) {
	p := NewPrepared(OpBinary, []byte{1, 2, 3})
	f := p.Frame()
	if f.Op != OpBinary || !bytes.Equal(f.Data, []byte{1, 2, 3}) || f.Prepared() != p {
		t.Fatalf("Frame() = %v %v %p; want binary [1 2 3] referring to %p", f.Op, f.Data, f.Prepared(), p)
	}
	if Binary([]byte{1}).Prepared() != nil {
		t.Error("a Frame not made by Prepared.Frame refers to a Prepared")
	}
	r := Push(f)
	if r.NumFrames() != 1 || r.Frame(0).Prepared() != p {
		t.Errorf("Push(p.Frame()) lost the Prepared")
	}
	if n := testing.AllocsPerRun(100, func() { r = Push(p.Frame()) }); n != 0 {
		t.Errorf("Push(p.Frame()) allocates %v times; want 0", n)
	}
}

// TestPreparedEncodedOnce checks that each key is encoded once, by one of
// many goroutines asking at once, and that every caller gets its bytes.
func TestPreparedEncodedOnce(t *testing.T) {
	p := NewPrepared(OpText, []byte("hello"))
	var calls [2]atomic.Int32
	keys := [2]string{"a", "b"}
	var wg sync.WaitGroup
	for i := range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k := i % 2
			b, err := p.Encoded(keys[k], func(op Opcode, data []byte) ([]byte, error) {
				calls[k].Add(1)
				return append([]byte(keys[k]+":"), data...), nil
			})
			if want := keys[k] + ":hello"; err != nil || string(b) != want {
				t.Errorf("Encoded(%q) = %q, %v; want %q", keys[k], b, err, want)
			}
		}()
	}
	wg.Wait()
	for k := range keys {
		if n := calls[k].Load(); n != 1 {
			t.Errorf("key %q encoded %d times; want once", keys[k], n)
		}
	}
}
