// Package utf8stream validates UTF-8 text that arrives in pieces, so that
// invalid text fails as soon as its first bad octet is seen rather than
// once the message is whole.
package utf8stream

import "unicode/utf8"

// Validator validates a text message piece by piece. It keeps the octets
// of a code point cut short at the end of a piece (at most three) and
// validates them with what follows. The zero value is ready for a new
// message; it allocates nothing.
type Validator struct {
	carry [utf8.UTFMax]byte
	n     int // octets in carry
}

// Write validates p, the next octets of the message. It returns false as
// soon as the octets so far cannot begin valid UTF-8: an invalid sequence,
// or an incomplete one at the end that no octet could complete.
func (v *Validator) Write(p []byte) bool {
	if v.n > 0 {
		need := seqLen(v.carry[0])
		k := copy(v.carry[v.n:need], p)
		if v.n+k < need {
			v.n += k
			return ValidPrefix(v.carry[:v.n])
		}
		if !utf8.FullRune(v.carry[:need]) || !utf8.Valid(v.carry[:need]) {
			return false
		}
		v.n = 0
		p = p[k:]
	}
	pending, ok := Check(p, false)
	if !ok {
		return false
	}
	v.n = copy(v.carry[:], p[len(p)-pending:])
	return true
}

// End reports whether the message ended on a whole code point, and makes
// v ready for the next message.
func (v *Validator) End() bool {
	ok := v.n == 0
	v.n = 0
	return ok
}

// Reset makes v ready for a new message.
func (v *Validator) Reset() { v.n = 0 }

// seqLen returns the length of the sequence a valid lead octet begins.
func seqLen(b byte) int {
	switch {
	case b >= 0xF0:
		return 4
	case b >= 0xE0:
		return 3
	}
	return 2
}

// Check validates p, octets of a text message that follow a whole code
// point. It returns how many octets at the end of p begin a code point
// whose other octets have not arrived; they are to be validated again
// with what follows. final says no more octets follow: p must then end on
// a whole code point.
func Check(p []byte, final bool) (pending int, ok bool) {
	cut := len(p)
	if !final {
		// Leave out a code point cut short at the end: it starts at most
		// three octets before it.
		for i := len(p) - 1; i >= 0 && i >= len(p)-(utf8.UTFMax-1); i-- {
			if utf8.RuneStart(p[i]) {
				if !utf8.FullRune(p[i:]) {
					cut = i
				}
				break
			}
		}
	}
	if !utf8.Valid(p[:cut]) {
		return 0, false
	}
	if cut < len(p) && !ValidPrefix(p[cut:]) {
		return 0, false
	}
	return len(p) - cut, true
}

// ValidPrefix reports whether p, the first one to three octets of a code
// point, can be completed into a valid one. Which octets may follow a lead
// octet is decided by the second octet alone (RFC 3629, section 4); any
// later one may be any continuation octet.
func ValidPrefix(p []byte) bool {
	if len(p) == 1 {
		return p[0] >= 0xC2 && p[0] <= 0xF4
	}
	var full [utf8.UTFMax]byte
	n := copy(full[:], p)
	for i := n; i < len(full); i++ {
		full[i] = 0x80
	}
	_, size := utf8.DecodeRune(full[:])
	return size > 1
}
