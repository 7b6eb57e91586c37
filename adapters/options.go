package adapters

import (
	"log/slog"
	"math"
	"time"

	"github.com/websock-go/websock/websock"
)

// Options configures an adapter. Every adapter takes the same Options and
// applies them the same way. A nil *Options means all defaults; an adapter
// never modifies the value it is given. For durations and sizes, zero means
// the default and a negative value means no limit.
type Options struct {
	// MaxMessageSize is the largest message, in bytes after
	// decompression, that a connection accepts. A larger one closes the
	// connection with 1009 and Terminate sees ErrMessageTooBig. Default
	// 16 MiB.
	MaxMessageSize int64

	// IdleTimeout ends a connection on which no frame has been received
	// from the peer for this long: close 1001 and Terminate(Timeout) with
	// ErrIdleTimeout. Only what the peer sends counts (data, pings and
	// pongs), as with Cowboy and Bandit: what the server writes does not,
	// so a push-only connection to a peer that vanished still ends. With
	// keepalive on (the default), a live peer answers the pings and is
	// never idle. Default 60 s.
	IdleTimeout time.Duration

	// WriteTimeout bounds each write to the peer; a write that takes longer
	// (a client that stopped reading) ends the connection and Terminate
	// sees ErrWriteFailed. Default 10 s.
	WriteTimeout time.Duration

	// CloseTimeout is how long the engine waits for the peer to answer a
	// close frame before it closes the TCP connection anyway. Default 5 s.
	CloseTimeout time.Duration

	// MailboxSize is how many messages Conn.Send may queue for HandleInfo
	// before it returns ErrMailboxFull. Default 1024.
	MailboxSize int

	// CloseOnMailboxFull ends a connection whose mailbox is full instead of
	// only refusing the message: Send returns ErrMailboxFull, and the slow
	// consumer is shed at once, without waiting for a write under way to
	// time out: the queued messages are dropped, the peer gets close 1013
	// (try again later) if it can be written within a second (or
	// WriteTimeout, if shorter), else the connection is closed without it,
	// and Terminate sees ErrMailboxFull. Use it to drop slow consumers
	// that fall behind a broadcast. Default false.
	CloseOnMailboxFull bool

	// PingInterval is how long the peer may be silent before the server
	// pings it; when no pong arrives within PongTimeout the connection
	// ends (close 1001, Terminate(Timeout) with ErrPongTimeout). A peer
	// that vanished is therefore noticed within PingInterval +
	// PongTimeout, and a quiet but live browser tab is never dropped.
	// Default 25 s, or off on an adapter whose library lacks keepalive
	// (see Lacks.Keepalive); a negative value turns keepalive off.
	PingInterval time.Duration

	// PongTimeout is how long to wait for the pong to a keepalive ping.
	// Default: PingInterval.
	PongTimeout time.Duration

	// Compression offers permessage-deflate (RFC 7692) to clients that ask
	// for it. Default off.
	Compression bool

	// Subprotocols lists the subprotocols the server speaks, in order of
	// preference. The first one the client also offers is chosen and shown
	// in ConnInfo.Subprotocol. Default none.
	Subprotocols []string

	// RequireSubprotocol refuses, with 400, a client that offers none of
	// Subprotocols. Default false: such a client proceeds without one.
	RequireSubprotocol bool

	// AllowedOrigins lists the origins a browser may connect from, as
	// "https://example.com", "https://*.example.com" (any subdomain) or "*"
	// (any origin), or "null" (the origin of sandboxed pages and local
	// files, which "*" also admits). A request with no Origin header (not
	// a browser) is always allowed. Default: only same-origin requests:
	// the Origin's host and port are those of the Host header, compared
	// case-insensitively, and its scheme is https, or http when the
	// request did not come over TLS (an https page behind a proxy that
	// ends TLS is same-origin; an http page is not, for a TLS endpoint).
	// "null", another port, or another scheme is cross-origin. A refused
	// request gets 403 and no handler. A request with more than one Origin
	// header is refused with 403 whatever the policy, "*" and CheckOrigin
	// included: a browser sends one (RFC 6454 section 7.3), and checking
	// one of several would let the others through unchecked.
	AllowedOrigins []string

	// CheckOrigin, when set, replaces AllowedOrigins: it reports whether
	// the request may proceed; false refuses it with 403.
	CheckOrigin func(r *websock.Request) bool

	// MaxConnections caps the connections this endpoint runs at once,
	// counting the upgrades under way. An upgrade over the cap is
	// refused with 503 and Retry-After before the origin policy and the
	// AcceptFunc run. Connections handed to Run directly (ServeConn)
	// count against the cap but are never refused.
	//
	// Default 0: the descriptor cap. The connections of every endpoint in
	// the process that does not set -1 are counted together, and an
	// upgrade is refused once they reach the process's descriptor limit
	// (the soft RLIMIT_NOFILE, which Go raises to the hard limit at start)
	// minus DescriptorReserve, so that the listeners, /metrics, logs and
	// the refusals themselves still get a descriptor instead of the accept
	// loop failing with "too many open files". Client connections (Dial)
	// and those handed to Run count too, but are never refused. With a limit of 20,000
	// that is 19,744 connections. Where the limit cannot be read (not a
	// Unix system) the default is no cap. A positive value caps this
	// endpoint at that many, and the descriptor cap holds too; -1 (any
	// negative value) means no cap at all.
	MaxConnections int

	// UpgradeRate limits the upgrades this endpoint accepts to this many
	// a second, on average, with bursts of up to UpgradeBurst (a token
	// bucket). An upgrade over the limit is refused with 503 and a
	// Retry-After of the seconds until one more is allowed, before the
	// origin policy and the AcceptFunc run. Only valid upgrade requests
	// count. Default 0: no limit; a negative value also means no limit.
	UpgradeRate float64

	// UpgradeBurst is how many upgrades may come at once, after a quiet
	// spell, under UpgradeRate. Default: UpgradeRate rounded up, at
	// least 1.
	UpgradeBurst int

	// SkipUTF8Validation turns off the check that text messages are valid
	// UTF-8 (RFC 6455 requires it; invalid text closes with 1007). Default
	// false: text is validated.
	SkipUTF8Validation bool

	// DrainBatch paces Shutdown and Restart: the connections get their
	// close frame DrainBatch at a time, DrainInterval apart, so that their
	// clients do not all reconnect to the other nodes in the same instant
	// (Phoenix's socket drainer). New upgrades are refused with 503 and
	// Retry-After from the start. The context given to Shutdown bounds
	// the whole drain: when the batches would not end before its
	// deadline, whatever remains when only CloseTimeout is left is closed
	// at once, still with its close frame. Default 0: every connection at
	// once.
	DrainBatch int

	// DrainInterval is the pause between two batches of DrainBatch.
	// Default DefaultDrainInterval (2 s).
	DrainInterval time.Duration

	// Logger receives handler panics, with their stack, and AcceptFuncs
	// that fail, at Error. When the Observer already logs them to the same
	// slog.Handler (a LogObserver such as slogobs's on the same logger),
	// the Logger leaves them to it: one failure, one line. Default
	// slog.Default().
	Logger *slog.Logger

	// Clock is where the connections read the time and set their timers
	// (see [Clock]). Default nil: the system clock. Package websocktest
	// sets one that moves only when a test advances it.
	Clock Clock

	// Observer is told of upgrades, connections starting and ending (with
	// their close codes and traffic), full mailboxes, panics, timeouts and
	// drains; see [Observer] for when and from where. Packages under
	// adapters/observe implement it for log/slog, Prometheus and
	// OpenTelemetry. Default nil: nothing is observed.
	Observer Observer
}

// The defaults of Options.
const (
	DefaultMaxMessageSize = 16 << 20
	DefaultIdleTimeout    = 60 * time.Second
	DefaultWriteTimeout   = 10 * time.Second
	DefaultCloseTimeout   = 5 * time.Second
	DefaultMailboxSize    = 1024
	DefaultPingInterval   = 25 * time.Second
)

// withDefaults returns a copy of o, or of the zero Options, with defaults
// filled in and negative limits turned into 0 ("no limit"). Keepalive
// defaults to off when the library lacks it.
func (o *Options) withDefaults(lacks Lacks) Options {
	var r Options
	if o != nil {
		r = *o
		r.Subprotocols = append([]string(nil), o.Subprotocols...)
		r.AllowedOrigins = append([]string(nil), o.AllowedOrigins...)
	}
	r.MaxMessageSize = pick(r.MaxMessageSize, DefaultMaxMessageSize)
	r.IdleTimeout = pick(r.IdleTimeout, DefaultIdleTimeout)
	r.WriteTimeout = pick(r.WriteTimeout, DefaultWriteTimeout)
	r.CloseTimeout = pick(r.CloseTimeout, DefaultCloseTimeout)
	r.MailboxSize = pick(r.MailboxSize, DefaultMailboxSize)
	r.DrainBatch = pick(r.DrainBatch, 0)
	r.DrainInterval = pick(r.DrainInterval, DefaultDrainInterval)
	r.MaxConnections = max(r.MaxConnections, -1)
	if r.UpgradeRate < 0 || math.IsNaN(r.UpgradeRate) || math.IsInf(r.UpgradeRate, 0) {
		r.UpgradeRate = 0
	}
	if r.UpgradeRate > 0 && r.UpgradeBurst <= 0 {
		r.UpgradeBurst = int(math.Max(1, math.Ceil(r.UpgradeRate)))
	}
	switch {
	case r.PingInterval == 0 && lacks.Keepalive == "":
		r.PingInterval = DefaultPingInterval
	case r.PingInterval < 0:
		r.PingInterval = 0
	}
	if r.PingInterval > 0 {
		r.PongTimeout = pick(r.PongTimeout, r.PingInterval)
	}
	if r.Logger == nil {
		r.Logger = slog.Default()
	}
	if r.Clock == nil {
		r.Clock = systemClock{}
	}
	return r
}

func pick[T int | int64 | time.Duration](v, def T) T {
	switch {
	case v == 0:
		return def
	case v < 0:
		return 0
	}
	return v
}
