// Package faults breaks the reference adapter on purpose, one rule at a
// time, so that the conformance suite's own tests can check that it fails
// an adapter for each rule it checks.
package faults

import (
	"context"
	"net"

	"github.com/websock-go/websock/adapters"
	"github.com/websock-go/websock/websock"
)

// Set is the faults of one reference adapter. The zero Set has none.
type Set struct {
	// NoReassembly: Read reports every fragment as a message of its own.
	NoReassembly bool
	// NoUTF8: the Transport claims to validate UTF-8 and does not.
	NoUTF8 bool
	// NoSizeLimit: Read ignores MaxMessageSize.
	NoSizeLimit bool
	// Wrap, when set, wraps the Transport of every connection.
	Wrap func(adapters.Transport) adapters.Transport
}

// Handler is the reference adapter's Handler.
type Handler interface {
	Dial(ctx context.Context) (net.Conn, error)
	Shutdown(ctx context.Context) error
	Restart(ctx context.Context) error
}

// New is the reference adapter's New with the faults of s. Package
// reference sets it when it is initialised.
var New func(s Set, accept websock.AcceptFunc, opts *adapters.Options) (Handler, error)
