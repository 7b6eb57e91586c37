package adapters_test

import (
	"errors"
	"io"
	"testing"

	"github.com/websock-go/websock/adapters"
	"github.com/websock-go/websock/websock"
)

// pieces is a message reader that returns one piece per Read, then
// io.EOF, or errTooFar when more is asked of it past the bad octet.
type pieces struct {
	p   []string
	end error
}

var errTooFar = errors.New("read past the bad octet")

func (r *pieces) Read(b []byte) (int, error) {
	if len(r.p) == 0 {
		return 0, r.end
	}
	n := copy(b, r.p[0])
	if r.p[0] = r.p[0][n:]; r.p[0] == "" {
		r.p = r.p[1:]
	}
	return n, nil
}

func TestMessageBufferUTF8(t *testing.T) {
	var m adapters.MessageBuffer
	for _, tc := range []struct {
		name string
		op   websock.Opcode
		p    []string
		end  error
		want error
	}{
		{"valid text split mid code point", websock.OpText, []string{"h\xc3", "\xa9llo \xe2\x82", "\xac"}, io.EOF, nil},
		{"bad octet fails before the rest", websock.OpText, []string{"ok ", "\xf4", "\x90"}, errTooFar, websock.ErrInvalidUTF8},
		{"cut short at the end", websock.OpText, []string{"ok \xe2\x82"}, io.EOF, websock.ErrInvalidUTF8},
		{"binary is not checked", websock.OpBinary, []string{"\xff\xfe"}, io.EOF, nil},
	} {
		data, err := m.ReadMessage(&pieces{p: append([]string(nil), tc.p...), end: tc.end}, tc.op, 0)
		if err != tc.want {
			t.Errorf("%s: ReadMessage = %q, %v; want %v", tc.name, data, err, tc.want)
		}
	}
	m.SkipUTF8Validation = true
	if _, err := m.ReadMessage(&pieces{p: []string{"\xff"}, end: io.EOF}, websock.OpText, 0); err != nil || m.ValidatesUTF8() {
		t.Errorf("with SkipUTF8Validation: %v, ValidatesUTF8 %v; want nil, false", err, m.ValidatesUTF8())
	}
}

func TestMessageBufferNoAllocs(t *testing.T) {
	var m adapters.MessageBuffer
	r := &pieces{}
	var backing [2]string
	allocs := testing.AllocsPerRun(100, func() {
		backing = [2]string{"héllo ", "wörld ✓"}
		r.p, r.end = backing[:], io.EOF
		m.ReadMessage(r, websock.OpText, 0)
	})
	if allocs != 0 {
		t.Errorf("%v allocations per message; want 0", allocs)
	}
}
