package adapters

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/websock-go/websock/websock"
)

// Observer is told what happens at the edges of an engine's connections:
// upgrades accepted and refused, connections starting and ending, full
// mailboxes, panics, timeouts and the progress of a drain. Set it in
// Options.Observer; packages under adapters/observe turn the events into
// log/slog lines, Prometheus metrics and OpenTelemetry metrics.
//
// # Who calls what, and when
//
// The engine calls each method from the goroutine where the event
// happens, so the methods of one Observer run concurrently, for different
// connections and requests, and must be safe for that:
//
//   - Upgrade, once per upgrade request the engine serves (not for a
//     connection handed to Engine.Run, which the caller upgraded): for a
//     refusal, on the request's goroutine, before the answer is written;
//     for an accepted one, once the library has answered 101, on the
//     connection's goroutine, just before Start.
//   - Start, on the connection's goroutine, before Init. End, on that same
//     goroutine, after Terminate returned, and before the engine forgets
//     the connection: once Shutdown returns, every End has been called.
//     Start happens before End; nothing of one connection is reported
//     after its End.
//   - MailboxFull, on the goroutine that called Conn.Send.
//   - Panic, on the goroutine of the callback that panicked.
//   - Timeout, on the connection's timer goroutine.
//   - Drain, on the goroutine that called Shutdown or Restart.
//   - Message, when the Observer implements [MessageObserver]: for a frame
//     received, on the connection's goroutine; for a frame sent, on the
//     goroutine that wrote it (see [Transport] for which those are).
//
// The methods run on the connection's path: they must not block, and
// should not do I/O beyond handing the event on (a log/slog handler that
// writes a line is as far as it should go). They must not call back into
// the engine in a way that waits for a connection (Shutdown from End
// would wait for itself). A panic in a method is not recovered.
//
// Events are passed by value and carry pointers the engine owns (the
// connection's ConnInfo, the upgrade's Request): read them, never modify
// them. Nothing in an event allocates when the engine builds it, and a
// nil Options.Observer costs a comparison per event.
//
// New events come as new optional interfaces, as MessageObserver does, so
// an implementation keeps compiling; embed [NopObserver] to implement only
// some methods.
type Observer interface {
	// Upgrade reports an upgrade request accepted (Outcome
	// UpgradeAccepted, Status 101, reported once the library has answered
	// 101) or refused (any other Outcome, with the status answered).
	Upgrade(UpgradeEvent)

	// Start reports a connection that starts running its handler.
	Start(StartEvent)

	// End reports a connection that ended: why, the close codes, how long
	// it lived, and what went in and out.
	End(EndEvent)

	// MailboxFull reports a Conn.Send refused with ErrMailboxFull because
	// MailboxSize messages wait: once when the mailbox fills, not again
	// until a message was queued (every refused Send is counted in
	// EndEvent.MailboxRefused). With Options.CloseOnMailboxFull the
	// connection is being closed as a slow consumer (Disconnect).
	MailboxFull(MailboxEvent)

	// Panic reports a handler callback that panicked and was recovered.
	Panic(PanicEvent)

	// Timeout reports a connection ending because its peer fell silent
	// (idle timeout) or left a keepalive ping unanswered.
	Timeout(TimeoutEvent)

	// Drain reports the progress of Shutdown or Restart.
	Drain(DrainEvent)
}

// MessageObserver is implemented by an Observer that wants every frame as
// it passes, not only the totals in EndEvent: live counters do. The engine
// calls Message for each message received (whole, after reassembly and
// decompression), each ping and pong received, each frame it writes and
// each pong the library answered a ping with, each close frame sent and
// received: exactly what the EndEvent's In and Out add up. When the
// Observer does not implement it, the engine makes no call per message.
type MessageObserver interface {
	Message(MessageEvent)
}

// NopObserver is an Observer that does nothing. Embed it in an Observer
// that wants only some events.
type NopObserver struct{}

func (NopObserver) Upgrade(UpgradeEvent)     {}
func (NopObserver) Start(StartEvent)         {}
func (NopObserver) End(EndEvent)             {}
func (NopObserver) MailboxFull(MailboxEvent) {}
func (NopObserver) Panic(PanicEvent)         {}
func (NopObserver) Timeout(TimeoutEvent)     {}
func (NopObserver) Drain(DrainEvent)         {}

var _ Observer = NopObserver{}

// Attacher is an Observer told of every engine that reports to it: NewEngine
// calls Attach once, with the adapter's name, before any event. An
// Observer that keeps metrics makes the adapter's series exist there, at
// zero, so that an alert on a counter that never moved needs no
// "or vector(0)". Absent, the Observer learns of an adapter from its
// first event.
type Attacher interface {
	Observer
	Attach(adapter string)
}

// LogObserver is an Observer that logs, at Error, the failures the engine
// would log to Options.Logger: AcceptFuncs that fail (AcceptFuncFailed)
// and handler panics (Panic). When LogsTo reports true for the handler of
// Options.Logger, the engine leaves those lines to the Observer, so that
// one failure is logged once. Absent, or false, the engine logs them
// itself as well.
type LogObserver interface {
	Observer
	LogsTo(h slog.Handler) bool
}

// logsTo asks lo, recovering from a comparison of handlers that cannot be
// compared.
func logsTo(lo LogObserver, h slog.Handler) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	return lo.LogsTo(h)
}

// UpgradeOutcome says how an upgrade request ended.
type UpgradeOutcome uint8

// The outcomes of an upgrade request. Every refusal is answered with an
// HTTP status and no handler runs.
const (
	UpgradeAccepted      UpgradeOutcome = iota + 1 // answered 101; the connection starts
	RefusedHandshake                               // not a valid WebSocket upgrade (wrong method, headers, version or key): 400, 405 or 426
	RefusedOrigin                                  // the origin policy refused it: 403
	RefusedSubprotocol                             // RequireSubprotocol and none offered is spoken: 400
	RefusedAcceptFunc                              // the AcceptFunc refused it deliberately, with a *websock.HTTPError (websock.Refuse): its status, usually 4xx
	RefusedShutdown                                // the engine is draining (Shutdown or Restart): 503
	RefusedConnectionCap                           // the connection cap is reached: 503
	RefusedRateLimit                               // the upgrade rate limit is exceeded: 503
	UpgradeFailed                                  // accepted, but the library's upgrade failed; it answered if it could (Status 0)
	AcceptFuncFailed                               // the AcceptFunc failed (an error that is no *websock.HTTPError), panicked or returned no Handler: 500
)

// upgradeOutcomes lists every outcome, for UpgradeOutcomes.
var upgradeOutcomes = []UpgradeOutcome{UpgradeAccepted, RefusedHandshake, RefusedOrigin, RefusedSubprotocol,
	RefusedAcceptFunc, AcceptFuncFailed, RefusedShutdown, RefusedConnectionCap, RefusedRateLimit, UpgradeFailed}

// UpgradeOutcomes lists every UpgradeOutcome, in a stable order: a metric
// labelled by outcome can be initialised with all of them.
func UpgradeOutcomes() []UpgradeOutcome { return append([]UpgradeOutcome(nil), upgradeOutcomes...) }

// String returns the outcome as a stable, lower-case word, fit for a
// metric label: "accepted", "handshake", "origin", "subprotocol",
// "refused" (the AcceptFunc refused), "accept_error" (the AcceptFunc
// failed), "shutdown", "connection_cap", "rate_limit", "upgrade_failed".
func (o UpgradeOutcome) String() string {
	switch o {
	case UpgradeAccepted:
		return "accepted"
	case RefusedHandshake:
		return "handshake"
	case RefusedOrigin:
		return "origin"
	case RefusedSubprotocol:
		return "subprotocol"
	case RefusedAcceptFunc:
		return "refused"
	case AcceptFuncFailed:
		return "accept_error"
	case RefusedShutdown:
		return "shutdown"
	case RefusedConnectionCap:
		return "connection_cap"
	case RefusedRateLimit:
		return "rate_limit"
	case UpgradeFailed:
		return "upgrade_failed"
	}
	return fmt.Sprintf("outcome_%d", uint8(o))
}

// UpgradeEvent is an upgrade request accepted or refused.
type UpgradeEvent struct {
	Adapter string // the adapter's name, as in Adapter.Name
	Outcome UpgradeOutcome
	Status  int // the HTTP status answered: 101 when accepted (200 for a long-poll session); 0 when the library's upgrade failed
	// Request is the request; nil when it was refused before it was read
	// (a method other than GET).
	Request *websock.Request
	// Err is what failed, for AcceptFuncFailed and UpgradeFailed; nil
	// otherwise.
	Err error
}

// StartEvent is a connection that starts.
type StartEvent struct {
	Adapter string
	Info    *websock.ConnInfo
}

// Tally counts frames and their payload bytes.
type Tally struct {
	Frames int64
	Bytes  int64
}

// Traffic counts what went one way on a connection, by opcode. Text and
// Binary count whole messages (a fragmented message is one) and their
// payload bytes as the handler sees them, after decompression; Ping, Pong
// and Close count control frames and their payload bytes.
type Traffic struct {
	Text, Binary, Ping, Pong, Close Tally
}

// Get returns the tally of opcode op; the zero Tally for any other.
func (t *Traffic) Get(op websock.Opcode) Tally {
	if p := t.tally(op); p != nil {
		return *p
	}
	return Tally{}
}

func (t *Traffic) tally(op websock.Opcode) *Tally {
	switch op {
	case websock.OpText:
		return &t.Text
	case websock.OpBinary:
		return &t.Binary
	case websock.OpPing:
		return &t.Ping
	case websock.OpPong:
		return &t.Pong
	case websock.OpClose:
		return &t.Close
	}
	return nil
}

// Add counts one frame of op with n payload bytes; it ignores an opcode
// that Traffic does not count. An Observer can add up MessageEvents with
// it.
func (t *Traffic) Add(op websock.Opcode, n int) {
	if p := t.tally(op); p != nil {
		p.Frames++
		p.Bytes += int64(n)
	}
}

// TrafficOpcodes are the opcodes a Traffic counts, in a stable order.
func TrafficOpcodes() []websock.Opcode {
	return []websock.Opcode{websock.OpText, websock.OpBinary, websock.OpPing, websock.OpPong, websock.OpClose}
}

// EndEvent is a connection that ended, reported after its Terminate.
type EndEvent struct {
	Adapter string
	Info    *websock.ConnInfo
	// Reason is what Terminate saw: its Kind, its Code (sent, or received
	// for KindRemote; 1006 when no close frame went out) and its cause.
	Reason websock.Reason
	// Sent is the close code the server sent; 0 when it sent no close
	// frame, 1005 for an empty one.
	Sent websock.CloseCode
	// Received is the close code the peer sent; 0 when it sent no close
	// frame, 1005 for an empty one.
	Received websock.CloseCode
	// Duration is how long the connection ran, from Start to the end of
	// Terminate.
	Duration time.Duration
	// In and Out count the frames received and sent.
	In, Out Traffic
	// MailboxPeak is the most messages that waited in the mailbox at once.
	MailboxPeak int
	// MailboxRefused counts the Conn.Send calls refused with
	// ErrMailboxFull.
	MailboxRefused int64
}

// MailboxEvent is a mailbox that filled up.
type MailboxEvent struct {
	Adapter string
	Info    *websock.ConnInfo
	Size    int // Options.MailboxSize: the messages waiting
	// Disconnect: Options.CloseOnMailboxFull is set, and the connection is
	// being closed with 1013 as a slow consumer.
	Disconnect bool
}

// PanicEvent is a handler callback that panicked. The engine recovered it;
// the connection closes with 1011 (see websock.Reason), unless the
// callback was Terminate.
type PanicEvent struct {
	Adapter  string
	Info     *websock.ConnInfo
	Callback string // "Init", "HandleIn", "HandleInfo", "HandleControl" or "Terminate"
	Value    any    // what the callback panicked with
	Stack    []byte // the goroutine's stack at the panic
}

// TimeoutEvent is a connection that timed out: Err is
// websock.ErrIdleTimeout (nothing received for Options.IdleTimeout) or
// websock.ErrPongTimeout (a keepalive ping went unanswered). The
// connection closes with 1001.
type TimeoutEvent struct {
	Adapter string
	Info    *websock.ConnInfo
	Err     error
}

// DrainPhase is a step of Shutdown or Restart.
type DrainPhase uint8

// The phases of a drain, in order; Progress is reported each time the
// count of connections left falls, Deadline only when the context ended
// first. Rushed, between Begin and Done, only when a paced drain
// (Options.DrainBatch) cannot keep its pace.
const (
	DrainBegin    DrainPhase = iota + 1 // every live connection is being closed
	DrainProgress                       // a connection ended
	DrainDeadline                       // the context ended: what remains is closed at once
	DrainDone                           // no connection is left
	// DrainRushed: the batches of a paced drain would not all go before
	// the context's deadline (less CloseTimeout), so the connections
	// not yet closed are closed at once; the event's Pace says how many
	// went paced, how many at once, and the pace that could not be kept.
	DrainRushed
)

// String returns the phase as a lower-case word: "begin", "progress",
// "deadline", "done", "rushed".
func (p DrainPhase) String() string {
	switch p {
	case DrainBegin:
		return "begin"
	case DrainProgress:
		return "progress"
	case DrainDeadline:
		return "deadline"
	case DrainDone:
		return "done"
	case DrainRushed:
		return "rushed"
	}
	return fmt.Sprintf("phase_%d", uint8(p))
}

// DrainEvent is a step of Shutdown or Restart.
type DrainEvent struct {
	Adapter string
	Phase   DrainPhase
	Code    websock.CloseCode // the close code sent: 1001 for Shutdown, 1012 for Restart
	Left    int               // connections still running, and upgrades under way
	Elapsed time.Duration     // since the drain began
	Err     error             // at DrainDone: the context's error when its deadline cut the drain short
	Pace    *DrainPace        // at DrainRushed: the pace that could not be kept; nil otherwise
}

// DrainPace is the pace of a paced drain that could not be kept (see
// DrainRushed).
type DrainPace struct {
	Batch    int           // Options.DrainBatch
	Interval time.Duration // Options.DrainInterval
	Paced    int           // connections closed in batches before the rush
	Rushed   int           // connections closed at once
	// Needed is how long the whole drain would have taken at its pace;
	// Allowed is how long the context's deadline, less CloseTimeout,
	// gave it.
	Needed, Allowed time.Duration
}

// Direction is the way a frame went.
type Direction uint8

// The directions of a frame.
const (
	In  Direction = iota + 1 // received from the peer
	Out                      // sent to the peer
)

// String returns "in" or "out".
func (d Direction) String() string {
	switch d {
	case In:
		return "in"
	case Out:
		return "out"
	}
	return fmt.Sprintf("direction_%d", uint8(d))
}

// MessageEvent is one message or control frame received or sent.
type MessageEvent struct {
	Adapter   string
	Direction Direction
	Op        websock.Opcode
	Bytes     int // payload bytes, as counted in Traffic
}
