package websock

import (
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	for attempt := -1; attempt < 40; attempt++ {
		bound := BackoffCap
		if attempt < 20 {
			bound = min(BackoffBase<<max(attempt, 0), BackoffCap)
		}
		for range 50 {
			d := Backoff(attempt)
			if d < bound/2 || d > bound {
				t.Fatalf("Backoff(%d) = %v, want between %v and %v", attempt, d, bound/2, bound)
			}
		}
	}
	if Backoff(100) > BackoffCap || Backoff(3) > 2*time.Second {
		t.Fatal("Backoff exceeds its bound")
	}
}
