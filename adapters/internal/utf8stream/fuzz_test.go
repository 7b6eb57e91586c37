package utf8stream

import (
	"testing"
	"unicode/utf8"
)

// extendable reports whether some octets appended to p make it valid
// UTF-8: p is valid, or it ends with a code point cut short that one
// continuation octet (and then any continuation octets) can complete.
func extendable(p []byte) bool {
	if utf8.Valid(p) {
		return true
	}
	q := append([]byte(nil), p...)
	for c := 0x80; c <= 0xBF; c++ {
		r := append(q[:len(p):len(p)], byte(c))
		for k := 0; k < utf8.UTFMax-1; k++ {
			if utf8.Valid(r) {
				return true
			}
			r = append(r, 0x80)
		}
	}
	return false
}

// splits cuts p into pieces whose lengths cycle through cuts (a zero
// length is an empty piece).
func splits(p, cuts []byte) [][]byte {
	var out [][]byte
	for i := 0; len(p) > 0; i++ {
		n := len(p)
		if len(cuts) > 0 {
			n = min(len(p), int(cuts[i%len(cuts)]%8))
		}
		out = append(out, p[:n])
		p = p[n:]
		if i > 4*len(out)+len(p)+8 {
			break // only empty pieces: cannot happen with a non-zero cut
		}
	}
	return out
}

// FuzzValidator checks Validator and Check, fed a message cut into
// pieces anywhere, against utf8.Valid on the whole message: they accept
// exactly the valid messages, and they fail on the first piece after
// which the octets so far cannot begin valid UTF-8, never sooner.
func FuzzValidator(f *testing.F) {
	f.Add([]byte("héllo, wörld €𝄞"), []byte{1, 2, 3})
	f.Add([]byte{0xF0, 0x9D, 0x84, 0x9E}, []byte{1})
	f.Add([]byte{0xED, 0xA0, 0x80}, []byte{1, 1})
	f.Add([]byte{0xF4, 0x90, 0x80, 0x80}, []byte{2})
	f.Add([]byte{0xC0, 0xAF}, []byte{1})
	f.Add([]byte{0xE2, 0x82}, []byte{3})
	f.Fuzz(func(t *testing.T, msg, cuts []byte) {
		if len(cuts) > 0 && allZeroMod8(cuts) {
			cuts = nil
		}
		pieces := splits(msg, cuts)
		whole := utf8.Valid(msg)

		var v Validator
		ok, seen := true, 0
		for _, p := range pieces {
			seen += len(p)
			if !v.Write(p) {
				ok = false
				break
			}
			if !extendable(msg[:seen]) {
				t.Fatalf("Validator accepted %x, which no octets can complete", msg[:seen])
			}
		}
		if ok {
			ok = v.End()
		} else if extendable(msg[:seen]) {
			t.Fatalf("Validator refused %x, which octets can complete", msg[:seen])
		}
		if ok != whole {
			t.Fatalf("Validator says %v for %x in pieces %d, utf8.Valid %v", ok, msg, len(pieces), whole)
		}

		// Check, as a reader of the message that keeps the pending octets.
		checked, ok, read := 0, true, 0
		for i, p := range pieces {
			read += len(p)
			pending, pok := Check(msg[checked:read], i == len(pieces)-1)
			if !pok {
				ok = false
				break
			}
			if pending > utf8.UTFMax-1 {
				t.Fatalf("Check left %d octets pending", pending)
			}
			checked = read - pending
		}
		if len(pieces) == 0 {
			_, ok = Check(nil, true)
		}
		if ok != whole {
			t.Fatalf("Check says %v for %x, utf8.Valid %v", ok, msg, whole)
		}
	})
}

func allZeroMod8(cuts []byte) bool {
	for _, c := range cuts {
		if c%8 != 0 {
			return false
		}
	}
	return true
}
