package adapters

import (
	"errors"
	"fmt"
)

// Adapter describes an adapter to the engine, the conformance suite and
// the documentation. Each adapter package declares one, next to its code,
// and passes it to [NewEngine]; it is the one place that says what the
// library cannot do.
type Adapter struct {
	Name    string // short and unique, such as "gorilla"; shown in ConnInfo.Adapter
	Library string // the module path of the WebSocket library, such as "github.com/gorilla/websocket"
	Server  string // the HTTP server it runs on, such as "net/http"

	// IdleGoroutines is how many goroutines an idle connection holds: the
	// one the engine runs it on, plus any the library runs per
	// connection. 0 means 1. The conformance suite measures it (case
	// IdleCost) and fails an adapter whose connections hold more.
	IdleGoroutines int

	// EventDriven says the adapter runs its connections on readiness
	// events (see [EventTransport]): an idle connection holds no
	// goroutine, and IdleGoroutines is not used.
	EventDriven bool

	// Lacks says what the library cannot give, each with the reason.
	Lacks Lacks
}

// IdleGoroutinesOrDefault returns IdleGoroutines, or 1 when it is 0, or 0
// when the adapter is EventDriven.
func (a *Adapter) IdleGoroutinesOrDefault() int {
	if a.EventDriven {
		return 0
	}
	if a.IdleGoroutines <= 0 {
		return 1
	}
	return a.IdleGoroutines
}

// Lacks names what a library cannot give: each field, when not empty,
// says why the capability is missing. The zero value lacks nothing.
//
// A library that breaks RFC 6455 has no field here: the conformance suite
// fails it, and the adapter must work around it (see package wire) rather
// than declare it.
type Lacks struct {
	// HandleControl: the library does not report the pings and pongs it
	// receives, so HandleControl is never called.
	HandleControl string

	// Keepalive: the engine cannot see the answers to its keepalive
	// pings. Options.PingInterval then defaults to off, and setting it is
	// refused with ErrUnsupportedOption.
	Keepalive string

	// Compression: the library cannot speak permessage-deflate; setting
	// Options.Compression is refused with ErrUnsupportedOption.
	Compression string

	// HTTP2: the library cannot run a connection over an HTTP/2 stream
	// (RFC 8441, extended CONNECT), or the adapter's server does not speak
	// HTTP/2. The engine then answers such a request 501 before the
	// AcceptFunc runs; see [Engine.ServeHTTPStreams].
	HTTP2 string

	// Frames: the transport is no WebSocket connection. Long-polling
	// carries whole messages in HTTP requests: it has no RFC 6455 frames
	// (fragments, pings, reserved bits, masking), no opening handshake
	// to validate, no TCP connection of its own, and its client, which
	// polls, is never silent. The conformance cases about these do not
	// apply; the transport's own tests cover what stands in their place.
	Frames string
}

// Feature is a capability that a library may lack (see [Lacks]).
type Feature uint8

// The features of [Lacks], in the order [Features] lists them.
const (
	FeatureHandleControl Feature = iota + 1
	FeatureKeepalive
	FeatureCompression
	FeatureHTTP2
	FeatureFrames
)

// Features lists every Feature, in a stable order.
func Features() []Feature {
	return []Feature{FeatureHandleControl, FeatureKeepalive, FeatureCompression, FeatureHTTP2, FeatureFrames}
}

// String returns the feature's name, that of its field in [Lacks].
func (f Feature) String() string {
	switch f {
	case FeatureHandleControl:
		return "HandleControl"
	case FeatureKeepalive:
		return "Keepalive"
	case FeatureCompression:
		return "Compression"
	case FeatureHTTP2:
		return "HTTP2"
	case FeatureFrames:
		return "Frames"
	}
	return fmt.Sprintf("Feature(%d)", uint8(f))
}

// Why returns why the library lacks f, or "" when it does not.
func (l Lacks) Why(f Feature) string {
	switch f {
	case FeatureHandleControl:
		return l.HandleControl
	case FeatureKeepalive:
		return l.Keepalive
	case FeatureCompression:
		return l.Compression
	case FeatureHTTP2:
		return l.HTTP2
	case FeatureFrames:
		return l.Frames
	}
	return ""
}

// ErrUnsupportedOption is matched (with errors.Is) by the error
// [NewEngine] returns for an option the adapter's library cannot honour;
// so is errors.ErrUnsupported.
var ErrUnsupportedOption = errors.New("websock: option not supported by the adapter's library")

// unsupportedError says which option an adapter refused, and why.
type unsupportedError struct{ adapter, option, why string }

func (e *unsupportedError) Error() string {
	return fmt.Sprintf("websock: adapter %s cannot honour Options.%s: %s; leave it unset or choose another adapter",
		e.adapter, e.option, e.why)
}

func (e *unsupportedError) Is(target error) bool {
	return target == ErrUnsupportedOption || target == errors.ErrUnsupported
}

// check returns an error naming the first option set in o that the
// adapter lacks.
func (a *Adapter) check(o *Options) error {
	if o == nil {
		return nil
	}
	switch {
	case o.Compression && a.Lacks.Compression != "":
		return &unsupportedError{a.Name, "Compression", a.Lacks.Compression}
	case o.PingInterval > 0 && a.Lacks.Keepalive != "":
		return &unsupportedError{a.Name, "PingInterval", a.Lacks.Keepalive}
	}
	return nil
}
