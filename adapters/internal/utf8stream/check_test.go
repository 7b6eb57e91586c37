package utf8stream

import (
	"testing"
	"unicode/utf8"
)

// feed validates p as a text message arriving in the pieces that cuts
// (increasing offsets into p) make, the way the reader does, and reports
// whether it was found valid and after how many bytes it was found not to
// be.
func feed(p []byte, cuts ...int) (ok bool, failedAt int) {
	checked := 0
	for _, end := range append(cuts, len(p)) {
		pending, ok := Check(p[checked:end], end == len(p))
		if !ok {
			return false, end
		}
		checked = end - pending
	}
	return true, 0
}

func TestCheckSplitAnywhere(t *testing.T) {
	for _, s := range []string{
		"",
		"plain ascii",
		"κόσμε ✓ 𝄞 €",
		"\xef\xbf\xbd",            // U+FFFD itself is valid
		"ok \xff bad",             // an invalid byte
		"ok \xed\xa0\x80 bad",     // a UTF-16 surrogate
		"\xe0\x80\xaf",            // overlong encoding
		"\xf4\x90\x80\x80",        // above U+10FFFF
		"ends cut short \xe2\x82", // incomplete at the very end
		"\xc0\xaf",                // overlong two-byte
		"a\x80",                   // a lone continuation byte
		"𝄞𝄞𝄞",
	} {
		p := []byte(s)
		want := utf8.Valid(p)
		for i := 0; i <= len(p); i++ {
			for j := i; j <= len(p); j++ {
				if got, _ := feed(p, i, j); got != want {
					t.Errorf("%q cut at %d and %d: valid = %v; want %v", s, i, j, got, want)
				}
			}
		}
	}
}

func TestCheckFailsFast(t *testing.T) {
	// The surrogate's first two bytes already rule out every completion:
	// the check fails with the fragment that carries them.
	p := []byte("fine so far \xed\xa0\x80 and more")
	cut := len("fine so far \xed\xa0")
	if ok, at := feed(p, cut); ok || at != cut {
		t.Errorf("failed at %d (valid %v); want a failure with the fragment ending at %d", at, ok, cut)
	}
	// A lead byte that no code point starts with fails at once too.
	if _, ok := Check([]byte("x\xf8"), false); ok {
		t.Errorf("a 0xF8 lead byte was taken as the start of a code point")
	}
}

func FuzzCheckUTF8(f *testing.F) {
	f.Add([]byte("κόσμε"), 3)
	f.Add([]byte("a\xed\xa0\x80"), 2)
	f.Add([]byte("\xf0\x9d\x84\x9e"), 1)
	f.Fuzz(func(t *testing.T, p []byte, cut int) {
		if cut < 0 || cut > len(p) {
			cut = len(p) / 2
		}
		if got, _ := feed(p, cut); got != utf8.Valid(p) {
			t.Errorf("%q cut at %d: valid = %v; want %v", p, cut, got, utf8.Valid(p))
		}
	})
}
