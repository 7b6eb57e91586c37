package longpoll_test

import (
	"net/http"
	"testing"
)

// BenchmarkRoundTrip measures one message's round trip over a session on
// loopback: a POST of the message, then the poll that brings its echo back.
func BenchmarkRoundTrip(b *testing.B) {
	_, srv := serve(b, newRecorder(), nil)
	s, resp := open(b, srv.URL, nil)
	if s == nil {
		b.Fatalf("open answered %s", resp.Status)
	}
	m := text("0123456789abcdef")
	b.ReportAllocs()
	for b.Loop() {
		if st := s.send(m); st != http.StatusNoContent {
			b.Fatalf("send answered %d", st)
		}
		if got := s.next(); len(got) != 1 || got[0] != m {
			b.Fatalf("got %v; want %v", got, m)
		}
	}
}
