package main

import (
	"fmt"
	"os"
	"testing"

	"github.com/websock-go/websock/internal/xconnect"
)

// asMainEnv makes the test binary run as the demo itself, so that tests
// can start demo processes without building the command first.
const asMainEnv = "WEBSOCK_DEMO_AS_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(asMainEnv) == "1" {
		main()
		return
	}
	// The tests of the demo over https need Go's HTTP/2 server to accept
	// extended CONNECT, which only the environment turns on.
	if !xconnect.Enabled() {
		code, err := xconnect.Rerun()
		if err != nil {
			fmt.Fprintln(os.Stderr, "running the tests again with GODEBUG="+xconnect.Setting+":", err)
			os.Exit(2)
		}
		os.Exit(code)
	}
	os.Exit(m.Run())
}
