// Package slogobs writes what a websock engine observes as log/slog lines:
// one line per event, with stable keys, at the level an operator would
// give it. It depends on the standard library only.
//
//	obs := slogobs.New(slog.Default())
//	h, err := gorilla.New(accept, &gorilla.Options{Observer: obs})
//
// The messages and their levels:
//
//	"websocket upgrade"          Debug  accepted
//	"websocket upgrade refused"  Info   bad handshake, origin, subprotocol, refused by the AcceptFunc (4xx)
//	                             Warn   draining, connection cap, rate limit (503), library upgrade failed
//	                             Error  the AcceptFunc failed, panicked or returned no Handler (500, "accept_error")
//	"websocket start"            Debug
//	"websocket end"              Info   Warn when the server closed with 1011 (a handler error or panic)
//	"websocket mailbox full"     Warn
//	"websocket panic"            Error  with the stack
//	"websocket timeout"          Info
//	"websocket drain"            Info   begin and done; Debug: progress; Warn: the deadline passed, or a
//	                             paced drain could not keep its pace ("rushed", with the group "pace")
//
// An Observer is an adapters.LogObserver: an engine whose Options.Logger
// has the same slog.Handler leaves the failures of AcceptFuncs and handler
// panics to it, so that each is logged once, by the Observer.
//
// The keys: every line has "adapter". Upgrade lines add "outcome",
// "status", "remote", "path" and, when something failed, "err". Lines of a
// connection add "remote" and "path"; "websocket end" adds "kind",
// "code", "sent", "received", "duration", "err" when the end had a
// cause, "mailbox_peak", "mailbox_refused", and the groups "in" and
// "out", each with "text", "text_bytes", "binary", "binary_bytes", "ping",
// "pong" and "close". "websocket mailbox full" adds "size" and
// "disconnect"; "websocket panic" adds "callback", "panic" and "stack";
// "websocket timeout" adds "err"; "websocket drain" adds "phase", "code",
// "left", "elapsed" and, when the deadline cut it short, "err".
package slogobs

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/websock-go/websock/adapters"
	"github.com/websock-go/websock/websock"
)

// Observer is an adapters.Observer that logs every event. It is safe for
// concurrent use, and may be shared by several engines.
type Observer struct {
	l *slog.Logger
}

var _ adapters.LogObserver = (*Observer)(nil)

// LogsTo reports whether o logs to h: an engine whose Logger has the
// handler h then does not log again what o logs at Error.
func (o *Observer) LogsTo(h slog.Handler) bool { return o.l.Handler() == h }

// New returns an Observer that logs to l; nil means slog.Default().
func New(l *slog.Logger) *Observer {
	if l == nil {
		l = slog.Default()
	}
	return &Observer{l: l}
}

func (o *Observer) log(level slog.Level, msg string, attrs ...slog.Attr) {
	o.l.LogAttrs(context.Background(), level, msg, attrs...)
}

func (o *Observer) enabled(level slog.Level) bool { return o.l.Enabled(context.Background(), level) }

// conn returns the attributes of a connection.
func conn(adapter string, info *websock.ConnInfo) []slog.Attr {
	attrs := []slog.Attr{slog.String("adapter", adapter)}
	if info != nil {
		attrs = append(attrs, slog.String("remote", info.RemoteAddr))
		if info.URL != nil {
			attrs = append(attrs, slog.String("path", info.URL.Path))
		}
	}
	return attrs
}

// Upgrade logs an upgrade accepted or refused.
func (o *Observer) Upgrade(ev adapters.UpgradeEvent) {
	msg, level := "websocket upgrade refused", slog.LevelInfo
	switch {
	case ev.Outcome == adapters.UpgradeAccepted:
		msg, level = "websocket upgrade", slog.LevelDebug
	case ev.Outcome == adapters.AcceptFuncFailed,
		ev.Status >= http.StatusInternalServerError && ev.Status != http.StatusServiceUnavailable:
		level = slog.LevelError
	case ev.Status == http.StatusServiceUnavailable, ev.Outcome == adapters.UpgradeFailed:
		level = slog.LevelWarn
	}
	if !o.enabled(level) {
		return
	}
	attrs := []slog.Attr{slog.String("adapter", ev.Adapter), slog.String("outcome", ev.Outcome.String()), slog.Int("status", ev.Status)}
	if r := ev.Request; r != nil {
		attrs = append(attrs, slog.String("remote", r.RemoteAddr))
		if r.URL != nil {
			attrs = append(attrs, slog.String("path", r.URL.Path))
		}
	}
	if ev.Err != nil {
		attrs = append(attrs, slog.Any("err", ev.Err))
	}
	o.log(level, msg, attrs...)
}

// Start logs a connection that starts, at Debug.
func (o *Observer) Start(ev adapters.StartEvent) {
	if !o.enabled(slog.LevelDebug) {
		return
	}
	attrs := conn(ev.Adapter, ev.Info)
	if ev.Info != nil {
		attrs = append(attrs, slog.String("subprotocol", ev.Info.Subprotocol), slog.Bool("compressed", ev.Info.Compressed))
	}
	o.log(slog.LevelDebug, "websocket start", attrs...)
}

// End logs a connection that ended, with its traffic.
func (o *Observer) End(ev adapters.EndEvent) {
	level := slog.LevelInfo
	if ev.Sent == websock.CloseInternalError {
		level = slog.LevelWarn
	}
	if !o.enabled(level) {
		return
	}
	attrs := append(conn(ev.Adapter, ev.Info),
		slog.String("kind", ev.Reason.Kind.String()),
		slog.Int("code", int(ev.Reason.Code)),
		slog.Int("sent", int(ev.Sent)),
		slog.Int("received", int(ev.Received)),
		slog.Duration("duration", ev.Duration))
	if ev.Reason.Err != nil {
		attrs = append(attrs, slog.Any("err", ev.Reason.Err))
	}
	attrs = append(attrs,
		slog.Int("mailbox_peak", ev.MailboxPeak),
		slog.Int64("mailbox_refused", ev.MailboxRefused),
		traffic("in", &ev.In), traffic("out", &ev.Out))
	o.log(level, "websocket end", attrs...)
}

func traffic(key string, t *adapters.Traffic) slog.Attr {
	return slog.Group(key,
		slog.Int64("text", t.Text.Frames), slog.Int64("text_bytes", t.Text.Bytes),
		slog.Int64("binary", t.Binary.Frames), slog.Int64("binary_bytes", t.Binary.Bytes),
		slog.Int64("ping", t.Ping.Frames), slog.Int64("pong", t.Pong.Frames), slog.Int64("close", t.Close.Frames))
}

// MailboxFull logs a full mailbox, at Warn.
func (o *Observer) MailboxFull(ev adapters.MailboxEvent) {
	if !o.enabled(slog.LevelWarn) {
		return
	}
	o.log(slog.LevelWarn, "websocket mailbox full", append(conn(ev.Adapter, ev.Info),
		slog.Int("size", ev.Size), slog.Bool("disconnect", ev.Disconnect))...)
}

// Panic logs a recovered panic with its stack, at Error.
func (o *Observer) Panic(ev adapters.PanicEvent) {
	if !o.enabled(slog.LevelError) {
		return
	}
	o.log(slog.LevelError, "websocket panic", append(conn(ev.Adapter, ev.Info),
		slog.String("callback", ev.Callback), slog.Any("panic", ev.Value), slog.String("stack", string(ev.Stack)))...)
}

// Timeout logs a connection that timed out, at Info.
func (o *Observer) Timeout(ev adapters.TimeoutEvent) {
	if !o.enabled(slog.LevelInfo) {
		return
	}
	o.log(slog.LevelInfo, "websocket timeout", append(conn(ev.Adapter, ev.Info), slog.Any("err", ev.Err))...)
}

// Drain logs a step of Shutdown or Restart.
func (o *Observer) Drain(ev adapters.DrainEvent) {
	level := slog.LevelInfo
	switch ev.Phase {
	case adapters.DrainProgress:
		level = slog.LevelDebug
	case adapters.DrainDeadline, adapters.DrainRushed:
		level = slog.LevelWarn
	}
	if !o.enabled(level) {
		return
	}
	attrs := []slog.Attr{slog.String("adapter", ev.Adapter), slog.String("phase", ev.Phase.String()),
		slog.Int("code", int(ev.Code)), slog.Int("left", ev.Left), slog.Duration("elapsed", ev.Elapsed)}
	if p := ev.Pace; p != nil {
		attrs = append(attrs, slog.Group("pace", slog.Int("batch", p.Batch), slog.Duration("interval", p.Interval),
			slog.Int("paced", p.Paced), slog.Int("rushed", p.Rushed), slog.Duration("needed", p.Needed), slog.Duration("allowed", p.Allowed)))
	}
	if ev.Err != nil {
		attrs = append(attrs, slog.Any("err", ev.Err))
	}
	o.log(level, "websocket drain", attrs...)
}
