package adapters

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/websock-go/websock/websock"
)

func TestOptionsDefaults(t *testing.T) {
	var nilOpts *Options
	o := nilOpts.withDefaults(Lacks{})
	if o.MaxMessageSize != DefaultMaxMessageSize || o.IdleTimeout != DefaultIdleTimeout ||
		o.WriteTimeout != DefaultWriteTimeout || o.CloseTimeout != DefaultCloseTimeout ||
		o.MailboxSize != DefaultMailboxSize || o.Logger == nil || o.PingInterval != DefaultPingInterval {
		t.Errorf("nil Options gave %+v; want the documented defaults", o)
	}
	in := &Options{MaxMessageSize: -1, IdleTimeout: -1, PingInterval: time.Second, Subprotocols: []string{"a"}}
	o = in.withDefaults(Lacks{})
	if o.MaxMessageSize != 0 || o.IdleTimeout != 0 {
		t.Errorf("negative limits gave %d, %v; want 0 (no limit)", o.MaxMessageSize, o.IdleTimeout)
	}
	if o.PongTimeout != time.Second {
		t.Errorf("PongTimeout defaulted to %v; want PingInterval", o.PongTimeout)
	}
	o.Subprotocols[0] = "changed"
	if in.Subprotocols[0] != "a" || in.MaxMessageSize != -1 {
		t.Errorf("withDefaults modified the caller's Options: %+v", in)
	}
}

func TestKeepaliveDefaultOffWhenLacking(t *testing.T) {
	o := (*Options)(nil).withDefaults(Lacks{Keepalive: "no pongs"})
	if o.PingInterval != 0 {
		t.Errorf("PingInterval defaulted to %v on an adapter lacking keepalive; want 0 (off)", o.PingInterval)
	}
	o = (&Options{PingInterval: -1}).withDefaults(Lacks{})
	if o.PingInterval != 0 {
		t.Errorf("PingInterval -1 gave %v; want 0 (off)", o.PingInterval)
	}
}

func TestUnsupportedOption(t *testing.T) {
	a := Adapter{Name: "lib", Lacks: Lacks{Compression: "the library cannot compress"}}
	if _, err := NewEngine(a, nil, &Options{}); err != nil {
		t.Errorf("unset option refused: %v", err)
	}
	_, err := NewEngine(a, nil, &Options{Compression: true})
	if !errors.Is(err, ErrUnsupportedOption) || !errors.Is(err, errors.ErrUnsupported) {
		t.Fatalf("got %v; want ErrUnsupportedOption wrapping errors.ErrUnsupported", err)
	}
	t.Log(err)
}

func TestOriginMatches(t *testing.T) {
	for _, tc := range []struct {
		pattern, origin string
		want            bool
	}{
		{"*", "https://anything.test", true},
		{"https://example.com", "https://example.com", true},
		{"https://example.com", "HTTPS://EXAMPLE.COM", true},
		{"https://example.com", "http://example.com", false},
		{"https://example.com", "https://example.com.evil", false},
		{"https://*.example.com", "https://a.example.com", true},
		{"https://*.example.com", "https://a.b.example.com", true},
		{"https://*.example.com", "https://example.com", false},
		{"https://*.example.com", "https://evilexample.com", false},
		{"example.com", "http://example.com", true},
		{"example.com", "null", false},
		{"*", "null", true},
		{"null", "null", true},
		{"null", "https://null", false},
	} {
		if got := originMatches(tc.pattern, tc.origin); got != tc.want {
			t.Errorf("originMatches(%q, %q) = %v; want %v", tc.pattern, tc.origin, got, tc.want)
		}
	}
}

func TestStopReasonTable(t *testing.T) {
	cause := errors.New("cause")
	for _, tc := range []struct {
		reason error
		code   websock.CloseCode
		kind   websock.Kind
		want   websock.CloseCode
		is     error
	}{
		{nil, 0, websock.KindNormal, 1000, nil},
		{websock.ErrRestart, 0, websock.KindShutdown, 1012, websock.ErrRestart},
		{fmt.Errorf("x: %w", cause), 0, websock.KindError, 1011, cause},
		{nil, 4000, websock.KindNormal, 4000, nil},
		{cause, 3001, websock.KindError, 3001, cause},
		{nil, 1006, websock.KindError, 1011, websock.ErrInvalidCloseCode},
		{nil, 999, websock.KindError, 1011, websock.ErrInvalidCloseCode},
		{nil, 5000, websock.KindError, 1011, websock.ErrInvalidCloseCode},
	} {
		r := stopReason(tc.reason, tc.code, "")
		if r.Kind != tc.kind || r.Code != tc.want || (tc.is != nil && !errors.Is(r, tc.is)) {
			t.Errorf("Stop(%v) with code %d gave %v; want kind %v, code %d, cause %v", tc.reason, tc.code, r, tc.kind, tc.want, tc.is)
		}
	}
}

func TestTruncateUTF8(t *testing.T) {
	s := "ééé" // 6 bytes
	for n, want := range map[int]string{6: "ééé", 5: "éé", 4: "éé", 3: "é", 1: ""} {
		if got := truncateUTF8(s, n); got != want {
			t.Errorf("truncateUTF8(%q, %d) = %q; want %q", s, n, got, want)
		}
	}
}
