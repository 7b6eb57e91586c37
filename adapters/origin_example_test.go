package adapters_test

import (
	"fmt"

	"github.com/websock-go/websock/adapters"
)

// MatchOrigin applies the patterns of Options.AllowedOrigins, for a
// CheckOrigin that admits origins of its own (the pages it serves) and a
// list besides.
func ExampleMatchOrigin() {
	for _, origin := range []string{"https://app.example.com", "https://a.b.example.com", "https://example.com", "null"} {
		fmt.Println(origin, adapters.MatchOrigin("https://*.example.com", origin))
	}
	// Output:
	// https://app.example.com true
	// https://a.b.example.com true
	// https://example.com false
	// null false
}
