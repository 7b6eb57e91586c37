package websock

import (
	"errors"
	"math/rand/v2"
	"net/http"
	"time"
)

// ErrBadHandshake is matched (with errors.Is) by the error a client gets
// when the server's answer to its opening handshake breaks RFC 6455
// section 4.1 or RFC 7692: a status other than 101, a missing Upgrade or
// Connection header, a Sec-WebSocket-Accept that does not match the key,
// or a subprotocol or extension the client did not offer.
var ErrBadHandshake = errors.New("websock: bad opening handshake from the server")

// Reconnector is implemented by a client [Handler] that decides what
// happens after its connection ends, as WebSockex's handle_disconnect: the
// client calls HandleDisconnect once Terminate has returned (or a dial has
// failed) and either stops or dials again after the answer's delay. A
// client Handler without it stops when its first connection ends.
//
// The same Handler value serves every connection of a client, one after
// another: Init, HandleIn, ..., Terminate, HandleDisconnect, then Init of
// the next connection. Its fields carry state across reconnects and, as
// the callbacks never overlap, need no locks.
type Reconnector interface {
	HandleDisconnect(d Disconnect) Reconnect
}

// Disconnect says why a client is without a connection.
type Disconnect struct {
	// Reason is why the connection ended, as Terminate saw it; for a dial
	// that failed, Kind is KindError, Code 1006 and Err the dial's error
	// (a *HandshakeError of the adapters package when the server answered
	// wrongly; errors.Is(Err, ErrBadHandshake) then holds).
	Reason Reason

	// Dialed reports whether a connection was made (Init ran) before this
	// disconnect; false when a dial failed.
	Dialed bool

	// Attempt counts the dials that failed since the last connection was
	// made, this one included when Dialed is false; it is 0 right after a
	// connection ended. Use it to back off.
	Attempt int

	// URL is the URL that was dialed last, and Header its extra headers.
	URL    string
	Header http.Header
}

// Reconnect is what a [Reconnector] answers: stop, or dial again.
type Reconnect struct {
	// Stop ends the client: the Disconnect's Reason becomes its final one.
	Stop bool

	// URL and Header replace those of the next dial; "" and nil keep them.
	URL    string
	Header http.Header

	// Delay is how long to wait before dialing: 0 means the default
	// backoff for the attempt (see [Backoff]); a negative value, at once.
	Delay time.Duration
}

// StopReconnecting is the Reconnect that ends the client.
var StopReconnecting = Reconnect{Stop: true}

// The bounds of [Backoff].
const (
	BackoffBase = 250 * time.Millisecond
	BackoffCap  = 30 * time.Second
)

// Backoff returns the default delay before dial number attempt+1 after a
// connection ended: exponential from BackoffBase, doubling with each failed
// attempt, capped at BackoffCap, with full jitter in its upper half (a
// delay between half and all of the bound), so that many clients dropped
// at once do not come back at once.
func Backoff(attempt int) time.Duration {
	d := BackoffCap
	if attempt < 20 {
		d = min(BackoffBase<<max(attempt, 0), BackoffCap)
	}
	return d/2 + rand.N(d/2+1)
}
