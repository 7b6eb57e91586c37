package utf8stream

import (
	"testing"
	"unicode/utf8"
)

// TestSplits feeds every text in every split into two and three pieces,
// and checks the verdict against utf8.Valid on the whole, and that an
// invalid text fails no later than the piece where utf8.Valid of the
// prefix could no longer be completed.
func TestSplits(t *testing.T) {
	texts := []string{
		"", "a", "héllo wörld ✓", "κόσμε", "\U0001F600x", "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xf4\x90\x80\x80edited",
		"\xff", "a\xc0\x80", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe0\x80\x80", "\xf0\x80\x80\x80", "\xc2", "ab\xe2\x82", "\xf5\x80",
		"\xed\x9f\xbf", "\xee\x80\x80", "\xf4\x8f\xbf\xbf", "\x80", "\xe2\x82\xac\xe2",
	}
	for _, s := range texts {
		for i := 0; i <= len(s); i++ {
			for j := i; j <= len(s); j++ {
				var v Validator
				ok := v.Write([]byte(s[:i])) && v.Write([]byte(s[i:j])) && v.Write([]byte(s[j:])) && v.End()
				if ok != utf8.ValidString(s) {
					t.Errorf("%q split at %d, %d: valid %v; want %v", s, i, j, ok, utf8.ValidString(s))
				}
			}
		}
	}
}

// TestFailsAtFirstBadOctet checks that each octet fed alone fails exactly
// when the prefix so far can no longer begin valid UTF-8.
func TestFailsAtFirstBadOctet(t *testing.T) {
	for _, s := range []string{"ok\xf4\x90\x80\x80", "\xed\xa0\x80", "ab\xe0\x9f", "x\xc1", "é\xff"} {
		var v Validator
		failed := -1
		for i := 0; i < len(s); i++ {
			if !v.Write([]byte{s[i]}) {
				failed = i
				break
			}
		}
		want := -1
		for i := 0; i < len(s) && want < 0; i++ {
			if _, ok := Check([]byte(s[:i+1]), false); !ok {
				want = i
			}
		}
		if failed != want || failed < 0 {
			t.Errorf("%q: failed at octet %d; want %d", s, failed, want)
		}
	}
}

func TestNoAllocs(t *testing.T) {
	p := []byte("héllo wörld ✓ κόσμε")
	var v Validator
	if n := testing.AllocsPerRun(100, func() { v.Write(p[:3]); v.Write(p[3:]); v.End() }); n != 0 {
		t.Errorf("%v allocations per message; want 0", n)
	}
}
