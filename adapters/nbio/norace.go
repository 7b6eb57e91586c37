//go:build !race

package nbio

import "github.com/lesismal/nbio/nbhttp"

// annotateHandOff does nothing outside the race detector (see race.go).
func annotateHandOff(*nbhttp.Engine) {}
