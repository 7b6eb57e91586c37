package conformance

import (
	"errors"
	"fmt"
)

// A DEFLATE decoder (RFC 1951) that checks what compress/flate does not:
// that every back-reference stays within the LZ77 window the peer agreed
// to (RFC 7692 section 7.1.2.1) and within the history it may use (none
// without context takeover, section 7.1.1.1).

var errInflateShort = errors.New("deflate data ends inside a block")

// bitReader reads the bits of a DEFLATE stream, least significant first.
type bitReader struct {
	p   []byte
	pos int
	bit uint32
	n   uint
}

func (r *bitReader) bits(need uint) (int, error) {
	for r.n < need {
		if r.pos >= len(r.p) {
			return 0, errInflateShort
		}
		r.bit |= uint32(r.p[r.pos]) << r.n
		r.pos++
		r.n += 8
	}
	v := r.bit & (1<<need - 1)
	r.bit >>= need
	r.n -= need
	return int(v), nil
}

// huffman is a canonical Huffman code: how many codes of each length,
// and the symbols in code order.
type huffman struct {
	count  [16]int
	symbol []int
}

func newHuffman(lengths []int) (*huffman, error) {
	h := &huffman{symbol: make([]int, 0, len(lengths))}
	for _, l := range lengths {
		h.count[l]++
	}
	h.count[0] = 0
	left := 1
	for l := 1; l < 16; l++ {
		left = left<<1 - h.count[l]
		if left < 0 {
			return nil, errors.New("over-subscribed Huffman code")
		}
	}
	var offs [16]int
	for l := 1; l < 15; l++ {
		offs[l+1] = offs[l] + h.count[l]
	}
	h.symbol = h.symbol[:offs[15]+h.count[15]]
	for s, l := range lengths {
		if l != 0 {
			h.symbol[offs[l]] = s
			offs[l]++
		}
	}
	return h, nil
}

// complete reports whether h uses every code of its lengths, or is
// empty, or is a single code of 1 bit: the codes of a dynamic block
// compress/flate and zlib accept. An incomplete code leaves bit sequences
// that decode to nothing, which RFC 1951 section 3.2.2's construction
// does not make.
func (h *huffman) complete() bool {
	left, total := 1, 0
	for l := 1; l < 16; l++ {
		left = left<<1 - h.count[l]
		total += h.count[l]
	}
	return left == 0 || total == 0 || (total == 1 && h.count[1] == 1)
}

func (r *bitReader) decode(h *huffman) (int, error) {
	code, first, index := 0, 0, 0
	for l := 1; l < 16; l++ {
		b, err := r.bits(1)
		if err != nil {
			return 0, err
		}
		code |= b
		count := h.count[l]
		if code-count < first {
			return h.symbol[index+code-first], nil
		}
		index += count
		first = (first + count) << 1
		code <<= 1
	}
	return 0, errors.New("invalid Huffman code")
}

var (
	lengthBase  = [29]int{3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258}
	lengthExtra = [29]uint{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0}
	distBase    = [30]int{1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577}
	distExtra   = [30]uint{0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13}
	codeOrder   = [19]int{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}

	fixedLit, fixedDist *huffman
)

var errIncomplete = errors.New("incomplete Huffman code in a dynamic block")

func init() {
	var l [288]int
	for i := range l {
		switch {
		case i < 144:
			l[i] = 8
		case i < 256:
			l[i] = 9
		case i < 280:
			l[i] = 7
		default:
			l[i] = 8
		}
	}
	fixedLit, _ = newHuffman(l[:])
	var d [30]int
	for i := range d {
		d[i] = 5
	}
	fixedDist, _ = newHuffman(d[:])
}

// inflateWindow decompresses a DEFLATE stream that ends with a final
// block, with hist as the history it may refer back to, and fails if a
// back-reference reaches further than window bytes or than the history
// and output so far, or if the output exceeds limit bytes.
func inflateWindow(p, hist []byte, window int, limit int64) ([]byte, error) {
	r := &bitReader{p: p}
	out := append(make([]byte, 0, len(hist)+len(p)*2), hist...)
	start := len(hist)
	for {
		final, err := r.bits(1)
		if err != nil {
			return nil, err
		}
		typ, err := r.bits(2)
		if err != nil {
			return nil, err
		}
		switch typ {
		case 0:
			r.bit, r.n = 0, 0
			if r.pos+4 > len(r.p) {
				return nil, errInflateShort
			}
			n := int(r.p[r.pos]) | int(r.p[r.pos+1])<<8
			if nc := int(r.p[r.pos+2]) | int(r.p[r.pos+3])<<8; n != ^nc&0xffff {
				return nil, errors.New("stored block length does not match its complement")
			}
			r.pos += 4
			if r.pos+n > len(r.p) {
				return nil, errInflateShort
			}
			out = append(out, r.p[r.pos:r.pos+n]...)
			r.pos += n
		case 1:
			out, err = r.codes(out, start, fixedLit, fixedDist, window, limit)
		case 2:
			lit, dist, derr := r.dynamic()
			if derr != nil {
				return nil, derr
			}
			out, err = r.codes(out, start, lit, dist, window, limit)
		default:
			return nil, errors.New("invalid block type 3")
		}
		if err != nil {
			return nil, err
		}
		if int64(len(out)-start) > limit {
			return nil, fmt.Errorf("inflates to more than %d bytes", limit)
		}
		if final == 1 {
			return out[start:], nil
		}
	}
}

func (r *bitReader) dynamic() (lit, dist *huffman, err error) {
	nlen, err := r.bits(5)
	if err != nil {
		return nil, nil, err
	}
	ndist, err := r.bits(5)
	if err != nil {
		return nil, nil, err
	}
	ncode, err := r.bits(4)
	if err != nil {
		return nil, nil, err
	}
	nlen, ndist, ncode = nlen+257, ndist+1, ncode+4
	if nlen > 286 || ndist > 30 {
		return nil, nil, errors.New("too many length or distance codes")
	}
	var cl [19]int
	for i := 0; i < ncode; i++ {
		if cl[codeOrder[i]], err = r.bits(3); err != nil {
			return nil, nil, err
		}
	}
	lencode, err := newHuffman(cl[:])
	if err != nil {
		return nil, nil, err
	}
	if !lencode.complete() {
		return nil, nil, errIncomplete
	}
	lengths := make([]int, nlen+ndist)
	for i := 0; i < len(lengths); {
		sym, err := r.decode(lencode)
		if err != nil {
			return nil, nil, err
		}
		if sym < 16 {
			lengths[i] = sym
			i++
			continue
		}
		val, rep := 0, 0
		switch sym {
		case 16:
			if i == 0 {
				return nil, nil, errors.New("repeat with no previous length")
			}
			val = lengths[i-1]
			rep, err = r.bits(2)
			rep += 3
		case 17:
			rep, err = r.bits(3)
			rep += 3
		default:
			rep, err = r.bits(7)
			rep += 11
		}
		if err != nil {
			return nil, nil, err
		}
		if i+rep > len(lengths) {
			return nil, nil, errors.New("code lengths overflow")
		}
		for ; rep > 0; rep-- {
			lengths[i] = val
			i++
		}
	}
	if lengths[256] == 0 {
		return nil, nil, errors.New("no end-of-block code")
	}
	if lit, err = newHuffman(lengths[:nlen]); err != nil {
		return nil, nil, err
	}
	if dist, err = newHuffman(lengths[nlen:]); err != nil {
		return nil, nil, err
	}
	if !lit.complete() || !dist.complete() {
		return nil, nil, errIncomplete
	}
	return lit, dist, nil
}

func (r *bitReader) codes(out []byte, start int, lit, dist *huffman, window int, limit int64) ([]byte, error) {
	for {
		sym, err := r.decode(lit)
		if err != nil {
			return nil, err
		}
		if sym < 256 {
			out = append(out, byte(sym))
			continue
		}
		if sym == 256 {
			return out, nil
		}
		sym -= 257
		if sym >= 29 {
			return nil, errors.New("invalid length code")
		}
		extra, err := r.bits(lengthExtra[sym])
		if err != nil {
			return nil, err
		}
		n := lengthBase[sym] + extra
		dsym, err := r.decode(dist)
		if err != nil {
			return nil, err
		}
		if dsym >= 30 {
			return nil, errors.New("invalid distance code")
		}
		if extra, err = r.bits(distExtra[dsym]); err != nil {
			return nil, err
		}
		d := distBase[dsym] + extra
		if d > window {
			return nil, fmt.Errorf("a back-reference of %d bytes, beyond the agreed window of %d bytes", d, window)
		}
		if d > len(out) {
			return nil, fmt.Errorf("a back-reference of %d bytes, beyond the %d bytes of history and output it may use", d, len(out))
		}
		if int64(len(out)-start+n) > limit {
			return nil, fmt.Errorf("inflates to more than %d bytes", limit)
		}
		for i := 0; i < n; i++ {
			out = append(out, out[len(out)-d])
		}
	}
}
