package gobws

import "testing"

// TestGrowGeometric checks that a message buffer filled in small pieces
// is reallocated a logarithmic number of times, not once per piece: linear
// growth makes reading a large fragmented message quadratic.
func TestGrowGeometric(t *testing.T) {
	const size = 4 << 20
	var b []byte
	grows := 0
	for len(b) < size {
		if c := cap(b); cap(grow(b, 0)) != c {
			grows++
		}
		b = grow(b, 0)
		b = b[:min(cap(b), len(b)+1000)] // a 1000-byte fragment, or what fits
	}
	if grows > 20 {
		t.Errorf("%d reallocations to reach %d bytes; want about log2(%d/%d)", grows, size, size, minBuffer)
	}
	if b := grow(make([]byte, 100), 150); cap(b) != 150 {
		t.Errorf("grow past the limit: capacity %d; want the limit, 150", cap(b))
	}
}
