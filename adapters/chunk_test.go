package adapters

import "testing"

// TestChunkClasses: every size up to the largest class gets a buffer with
// room for it, from the smallest class that has room, and a buffer given
// back comes out of the same class.
func TestChunkClasses(t *testing.T) {
	for _, n := range []int{1, 511, 512, 513, 1024, 1025, 4096, 65535, 65536} {
		b := getChunk(n)
		if b == nil {
			t.Fatalf("getChunk(%d) = nil, want a buffer", n)
		}
		if len(*b) != 0 || cap(*b) < n || cap(*b) >= 2*max(n, 512) {
			t.Fatalf("getChunk(%d): len %d, cap %d", n, len(*b), cap(*b))
		}
		*b = append(*b, make([]byte, n)...)
		putChunk(b)
	}
	if b := getChunk(65537); b != nil {
		t.Fatalf("getChunk(65537) = cap %d, want nil: larger than the largest class", cap(*b))
	}
	odd := make([]byte, 0, 700)
	putChunk(&odd) // not a class's size: dropped, not pooled
	if b := getChunk(700); cap(*b) != 1024 {
		t.Fatalf("getChunk(700) after putting back a 700-byte buffer: cap %d, want 1024", cap(*b))
	}
}
