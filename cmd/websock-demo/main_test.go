package main

import (
	"os"
	"testing"
)

// asMainEnv makes the test binary run as the demo itself, so that tests
// can start demo processes without building the command first.
const asMainEnv = "WEBSOCK_DEMO_AS_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(asMainEnv) == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}
