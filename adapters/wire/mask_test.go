package wire

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// TestUnmask compares unmask with the byte-at-a-time definition, for
// every offset in the key and lengths around each word boundary.
func TestUnmask(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	key := [4]byte{0x12, 0x34, 0x56, 0x78}
	for n := 0; n <= 70; n++ {
		for off := uint64(0); off < 9; off++ {
			b := make([]byte, n)
			for i := range b {
				b[i] = byte(r.Uint32())
			}
			want := bytes.Clone(b)
			for i := range want {
				want[i] ^= key[(off+uint64(i))&3]
			}
			unmask(key, off, b)
			if !bytes.Equal(b, want) {
				t.Fatalf("n=%d off=%d: got %x, want %x", n, off, b, want)
			}
		}
	}
}

func BenchmarkUnmask(b *testing.B) {
	p := make([]byte, 64<<10)
	key := [4]byte{1, 2, 3, 4}
	b.SetBytes(int64(len(p)))
	for b.Loop() {
		unmask(key, 3, p)
	}
}
