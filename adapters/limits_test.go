package adapters

import (
	"context"
	"crypto/tls"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/websock-go/websock/websock"
)

func TestBucket(t *testing.T) {
	t0 := time.Unix(1000, 0)
	b := newBucket(2, 3) // 2 a second, bursts of 3
	for i := range 3 {
		if _, ok := b.take(t0); !ok {
			t.Fatalf("take %d of the burst refused", i)
		}
	}
	wait, ok := b.take(t0)
	if ok || wait != 500*time.Millisecond {
		t.Fatalf("take past the burst: %v, %v; want refused with 500ms to wait", wait, ok)
	}
	if _, ok := b.take(t0.Add(500 * time.Millisecond)); !ok {
		t.Fatal("take after the wait it gave was refused")
	}
	// A long quiet spell fills the bucket to the burst, no more.
	t1 := t0.Add(time.Hour)
	for i := range 3 {
		if _, ok := b.take(t1); !ok {
			t.Fatalf("take %d after a quiet hour refused", i)
		}
	}
	if _, ok := b.take(t1); ok {
		t.Fatal("a quiet hour gave more than the burst")
	}
	if _, ok := (&bucket{}).take(t0); !ok {
		t.Fatal("the zero bucket (no limit) refused")
	}
	if b := newBucket(0.5, 0); b.burst != 1 {
		t.Errorf("burst of rate 0.5 with no UpgradeBurst = %v; want 1", b.burst)
	}
}

func TestLimitOptionsDefaults(t *testing.T) {
	o := (&Options{MaxConnections: -3, UpgradeRate: -1, UpgradeBurst: 5}).withDefaults(Lacks{})
	if o.MaxConnections != -1 || o.UpgradeRate != 0 {
		t.Errorf("negative limits gave %d, %v; want -1 and 0 (none)", o.MaxConnections, o.UpgradeRate)
	}
	if o := (&Options{UpgradeRate: 2.5}).withDefaults(Lacks{}); o.UpgradeBurst != 3 {
		t.Errorf("UpgradeBurst for a rate of 2.5 = %d; want 3", o.UpgradeBurst)
	}
	if o := (*Options)(nil).withDefaults(Lacks{}); o.MaxConnections != 0 || o.UpgradeRate != 0 || o.UpgradeBurst != 0 {
		t.Errorf("default limits %d, %v, %d; want the descriptor cap (0) and no rate limit", o.MaxConnections, o.UpgradeRate, o.UpgradeBurst)
	}
}

func TestDescriptorCap(t *testing.T) {
	for _, tc := range []struct {
		limit uint64
		want  int64
	}{{20000, 19744}, {1024, 768}, {513, 257}, {512, 256}, {300, 150}, {4, 2}, {1, 1}, {0, 0}, {1 << 62, math.MaxInt32}} {
		if got := capFor(tc.limit); got != tc.want {
			t.Errorf("the cap for a descriptor limit of %d is %d; want %d", tc.limit, got, tc.want)
		}
	}
}

// TestDescriptorCapCountsEveryEndpoint checks that the default cap counts
// the connections of every endpoint in the process together, and that an
// endpoint with MaxConnections -1 is neither counted nor refused.
func TestDescriptorCapCountsEveryEndpoint(t *testing.T) {
	base := held.Load()
	a, _ := NewEngine(Adapter{Name: "a"}, nil, nil)
	b, _ := NewEngine(Adapter{Name: "b"}, nil, nil)
	free, _ := NewEngine(Adapter{Name: "free"}, nil, &Options{MaxConnections: -1})
	a.fdCap, b.fdCap = base+2, base+2
	if he, _ := a.admit(); he != nil {
		t.Fatalf("first admit refused: %v", he.Status)
	}
	if he, _ := free.admit(); he != nil {
		t.Fatalf("admit with no cap refused: %v", he.Status)
	}
	if he, _ := b.admit(); he != nil {
		t.Fatalf("second admit, on another endpoint, refused: %v", he.Status)
	}
	he, why := a.admit()
	if he == nil || he.Status != http.StatusServiceUnavailable || why != RefusedConnectionCap || !strings.Contains(he.Body, "descriptor limit") {
		t.Fatalf("third admit under a descriptor cap of 2: %+v, %v; want 503 naming the descriptor limit", he, why)
	}
	r := b.reserve()
	r.cancel()
	if he, _ := a.admit(); he != nil {
		t.Fatalf("admit refused after a reservation was given up: %v", he.Status)
	}
	a.admitted()
	a.admitted()
	free.admitted()
	if got := held.Load(); got != base {
		t.Errorf("the process's count is %d after every admission ended; want %d", got, base)
	}
}

// TestAdmitCountsReservations checks that an admitted upgrade holds its
// place under MaxConnections until reserve takes it over or admitted
// gives it up, so that the count is never twice the same upgrade.
func TestAdmitCountsReservations(t *testing.T) {
	e, err := NewEngine(Adapter{Name: "test"}, nil, &Options{MaxConnections: 2})
	if err != nil {
		t.Fatal(err)
	}
	if he, _ := e.admit(); he != nil {
		t.Fatalf("first admit refused: %v", he.Status)
	}
	if he, _ := e.admit(); he != nil {
		t.Fatalf("second admit refused: %v", he.Status)
	}
	he, _ := e.admit()
	if he == nil || he.Status != http.StatusServiceUnavailable || he.Header.Get("Retry-After") == "" {
		t.Fatalf("third admit: %+v; want 503 with Retry-After", he)
	}
	res := e.reserve() // the first: pending now, no longer admitting
	if he, _ := e.admit(); he == nil {
		t.Fatal("admit passed the cap after a reservation took an admission over")
	}
	e.admitted() // the second gave up
	if he, _ := e.admit(); he != nil {
		t.Fatalf("admit refused after an admission was given up: %v", he.Status)
	}
	e.admitted()
	res.cancel()
	if err := e.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestSameOrigin(t *testing.T) {
	plain, _ := http.NewRequest(http.MethodGet, "http://example.com/", nil)
	secure, _ := http.NewRequest(http.MethodGet, "https://example.com/", nil)
	secure.TLS = &tls.ConnectionState{}
	for _, tc := range []struct {
		origin string
		hr     *http.Request
		host   string
		want   bool
	}{
		{"http://example.com", plain, "example.com", true},
		{"http://EXAMPLE.com", plain, "example.COM", true},
		{"https://example.com", plain, "example.com", true}, // a proxy ended TLS
		{"http://example.com", secure, "example.com", false},
		{"https://example.com", secure, "example.com", true},
		{"http://example.com:8080", plain, "example.com", false},
		{"http://example.com", plain, "example.com:8080", false},
		{"ftp://example.com", plain, "example.com", false},
		{"null", plain, "example.com", false},
		{"http://evil.test", plain, "example.com", false},
		{"http://", plain, "", false},
	} {
		req := websock.NewRequest(context.Background(), tc.hr)
		req.Host = tc.host
		if got := sameOrigin(tc.origin, req); got != tc.want {
			t.Errorf("sameOrigin(%q) for Host %q, TLS %v = %v; want %v", tc.origin, tc.host, tc.hr.TLS != nil, got, tc.want)
		}
	}
}
