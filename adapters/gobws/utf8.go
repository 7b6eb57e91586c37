package gobws

import "unicode/utf8"

// checkUTF8 validates p, the part of a text message not validated yet, as
// its bytes arrive, so that invalid text fails as soon as it is seen. It
// returns how many bytes at the end of p begin a code point whose other
// bytes have not arrived yet; they are to be validated again with what
// follows. final says no more bytes will follow: p must then end on a
// whole code point.
func checkUTF8(p []byte, final bool) (pending int, ok bool) {
	cut := len(p)
	if !final {
		// Leave out a code point cut short at the end: it starts at most
		// three bytes before it.
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
	if cut < len(p) && !validPrefix(p[cut:]) {
		return 0, false
	}
	return len(p) - cut, true
}

// validPrefix reports whether p, the first one to three bytes of a code
// point, can be completed into a valid one. Which bytes may follow a lead
// byte is decided by the second byte alone (RFC 3629, section 4); any
// later one may be any continuation byte.
func validPrefix(p []byte) bool {
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
