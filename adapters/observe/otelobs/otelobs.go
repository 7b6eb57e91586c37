// Package otelobs turns what a websock engine observes into OpenTelemetry
// metrics, through the go.opentelemetry.io/otel/metric API: the program
// chooses the SDK and exporter. The instruments have the shape of package
// promobs's metrics, with OpenTelemetry's names; every measurement carries
// the attribute "adapter", and every attribute has a bounded set of
// values (the same as promobs's labels).
//
//	obs, err := otelobs.New(otel.GetMeterProvider())
//	h, err := gorilla.New(accept, &gorilla.Options{Observer: obs})
//
// The instruments:
//
//	websock.connections                  Int64UpDownCounter  adapter
//	websock.upgrades                     Int64Counter        adapter, outcome
//	websock.closes                       Int64Counter        adapter, kind, code
//	websock.messages                     Int64Counter        adapter, direction, type
//	websock.message.bytes                Int64Counter (By)   adapter, direction, type
//	websock.connection.duration          Float64Histogram (s) adapter
//	websock.mailbox.peak_depth           Int64Histogram      adapter
//	websock.mailbox.full                 Int64Counter        adapter
//	websock.slow_consumer.disconnects    Int64Counter        adapter
//	websock.panics                       Int64Counter        adapter, callback
//	websock.timeouts                     Int64Counter        adapter, timeout
//	websock.drain.connections            Int64Gauge          adapter
//
// Every counter and gauge reports 0, for every attribute set it can know
// in advance, from the moment an engine with this Observer is made
// (Attach), so that an export before any event has them all: see Attach.
// The histograms have no data point until a connection ends, since a
// histogram's only measurement is a value recorded.
package otelobs

import (
	"context"
	"errors"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/websock-go/websock/adapters"
	"github.com/websock-go/websock/adapters/observe/internal/labels"
)

// ScopeName is the instrumentation scope of the Observer's meter.
const ScopeName = "github.com/websock-go/websock/adapters/observe/otelobs"

// Observer is an adapters.Observer (and adapters.MessageObserver) that
// records OpenTelemetry metrics. One Observer may be shared by several
// engines. It is safe for concurrent use.
type Observer struct {
	connections   metric.Int64UpDownCounter
	upgrades      metric.Int64Counter
	closes        metric.Int64Counter
	messages      metric.Int64Counter
	bytes         metric.Int64Counter
	duration      metric.Float64Histogram
	mailboxPeak   metric.Int64Histogram
	mailboxFull   metric.Int64Counter
	slowConsumers metric.Int64Counter
	panics        metric.Int64Counter
	timeouts      metric.Int64Counter
	drain         metric.Int64Gauge

	adapters labels.PerAdapter[adapterAttrs]
}

var (
	_ adapters.Observer        = (*Observer)(nil)
	_ adapters.MessageObserver = (*Observer)(nil)
	_ adapters.Attacher        = (*Observer)(nil)
)

// adapterAttrs holds the attribute sets of one adapter that every message
// uses, made once.
type adapterAttrs struct {
	adapter metric.MeasurementOption
	// messages are the options of a message's measurements, as slices
	// made once, so that passing them allocates nothing.
	messages [2][5][]metric.AddOption // [direction-1][labels.Type]
}

// New returns an Observer whose instruments come from mp's meter for
// ScopeName. It fails when an instrument cannot be made.
func New(mp metric.MeterProvider) (*Observer, error) {
	m := mp.Meter(ScopeName)
	o := &Observer{}
	var errs []error
	check := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	var err error
	o.connections, err = m.Int64UpDownCounter("websock.connections", metric.WithDescription("WebSocket connections running now."))
	check(err)
	o.upgrades, err = m.Int64Counter("websock.upgrades", metric.WithDescription("WebSocket upgrade requests, by outcome."))
	check(err)
	o.closes, err = m.Int64Counter("websock.closes", metric.WithDescription("WebSocket connections ended, by kind of ending and close code."))
	check(err)
	o.messages, err = m.Int64Counter("websock.messages", metric.WithDescription("WebSocket messages and control frames, by direction and type."))
	check(err)
	o.bytes, err = m.Int64Counter("websock.message.bytes", metric.WithUnit("By"),
		metric.WithDescription("Payload bytes of WebSocket messages and control frames, after decompression."))
	check(err)
	o.duration, err = m.Float64Histogram("websock.connection.duration", metric.WithUnit("s"),
		metric.WithDescription("How long WebSocket connections ran."), metric.WithExplicitBucketBoundaries(1, 10, 60, 300, 1800, 3600, 4*3600, 24*3600))
	check(err)
	o.mailboxPeak, err = m.Int64Histogram("websock.mailbox.peak_depth",
		metric.WithDescription("The most messages queued for HandleInfo at once, per connection."), metric.WithExplicitBucketBoundaries(0, 1, 4, 16, 64, 256, 1024, 4096))
	check(err)
	o.mailboxFull, err = m.Int64Counter("websock.mailbox.full", metric.WithDescription("Times a connection's mailbox filled up."))
	check(err)
	o.slowConsumers, err = m.Int64Counter("websock.slow_consumer.disconnects", metric.WithDescription("Connections closed with 1013 because their mailbox was full."))
	check(err)
	o.panics, err = m.Int64Counter("websock.panics", metric.WithDescription("Handler panics recovered, by callback."))
	check(err)
	o.timeouts, err = m.Int64Counter("websock.timeouts", metric.WithDescription("Idle and keepalive timeouts."))
	check(err)
	o.drain, err = m.Int64Gauge("websock.drain.connections", metric.WithDescription("Connections left to close in a Shutdown or Restart."))
	check(err)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	o.adapters.New = o.newAttrs
	return o, nil
}

// newAttrs makes the attribute sets of adapter, and makes every counter
// and gauge report 0 for each set the adapter can be known to have. It
// runs once per adapter, when the Observer first hears of it, before any
// measurement of that adapter: the drain gauge's 0 comes before any
// value a Drain records.
func (o *Observer) newAttrs(adapter string) *adapterAttrs {
	a := &adapterAttrs{adapter: metric.WithAttributeSet(attribute.NewSet(attribute.String("adapter", adapter)))}
	for d, dir := range labels.Directions {
		for i, typ := range labels.Types {
			a.messages[d][i] = []metric.AddOption{metric.WithAttributeSet(attribute.NewSet(attribute.String("adapter", adapter),
				attribute.String("direction", dir), attribute.String("type", typ)))}
			o.messages.Add(ctx, 0, a.messages[d][i]...)
			o.bytes.Add(ctx, 0, a.messages[d][i]...)
		}
	}
	o.connections.Add(ctx, 0, a.adapter)
	o.drain.Record(ctx, 0, a.adapter)
	o.mailboxFull.Add(ctx, 0, a.adapter)
	o.slowConsumers.Add(ctx, 0, a.adapter)
	for _, out := range adapters.UpgradeOutcomes() {
		o.upgrades.Add(ctx, 0, with(adapter, attribute.String("outcome", out.String())))
	}
	for _, c := range labels.Closes {
		o.closes.Add(ctx, 0, with(adapter, attribute.String("kind", c.Kind), attribute.String("code", c.Code)))
	}
	for _, cb := range labels.Callbacks {
		o.panics.Add(ctx, 0, with(adapter, attribute.String("callback", cb)))
	}
	for _, to := range labels.Timeouts {
		o.timeouts.Add(ctx, 0, with(adapter, attribute.String("timeout", to)))
	}
	return a
}

// Attach makes every counter and gauge of adapter report 0, so that an
// alert needs no "or vector(0)": connections and drain, the upgrades of
// every outcome, the closes of every kind and code the engine chooses and
// of a peer's 1000, 1001 and 1005 (a peer's other codes, and a handler's
// StopCode, come when they happen), the messages and bytes of every
// direction and type, the full mailboxes and slow consumers, the panics
// of every callback and the timeouts of every kind. An engine calls it
// when it is made (see adapters.Attacher); a program may call it for an
// adapter it will serve later. An adapter first heard of in an event gets
// the same zeros then. Attaching an adapter again changes nothing. With
// delta temporality the zeros are in the first export only, as the SDK
// exports a delta only for the attribute sets measured since the last.
func (o *Observer) Attach(adapter string) { o.adapters.Get(adapter) }

func with(adapter string, kv ...attribute.KeyValue) metric.MeasurementOption {
	return metric.WithAttributes(append([]attribute.KeyValue{attribute.String("adapter", adapter)}, kv...)...)
}

var ctx = context.Background()

// Upgrade counts an upgrade request by outcome.
func (o *Observer) Upgrade(ev adapters.UpgradeEvent) {
	o.adapters.Get(ev.Adapter)
	o.upgrades.Add(ctx, 1, with(ev.Adapter, attribute.String("outcome", ev.Outcome.String())))
}

// Start counts a live connection.
func (o *Observer) Start(ev adapters.StartEvent) {
	o.connections.Add(ctx, 1, o.adapters.Get(ev.Adapter).adapter)
}

// End counts a connection that ended.
func (o *Observer) End(ev adapters.EndEvent) {
	a := o.adapters.Get(ev.Adapter).adapter
	o.connections.Add(ctx, -1, a)
	o.closes.Add(ctx, 1, with(ev.Adapter, attribute.String("kind", ev.Reason.Kind.String()), attribute.String("code", labels.Code(ev.Reason.Code))))
	o.duration.Record(ctx, ev.Duration.Seconds(), a)
	o.mailboxPeak.Record(ctx, int64(ev.MailboxPeak), a)
}

// Message counts a message or control frame and its bytes.
func (o *Observer) Message(ev adapters.MessageEvent) {
	i, d := labels.Type(ev.Op), int(ev.Direction)-1
	if i < 0 || d < 0 || d > 1 {
		return
	}
	opts := o.adapters.Get(ev.Adapter).messages[d][i]
	o.messages.Add(ctx, 1, opts...)
	o.bytes.Add(ctx, int64(ev.Bytes), opts...)
}

// MailboxFull counts a full mailbox, and a slow consumer closed.
func (o *Observer) MailboxFull(ev adapters.MailboxEvent) {
	a := o.adapters.Get(ev.Adapter).adapter
	o.mailboxFull.Add(ctx, 1, a)
	if ev.Disconnect {
		o.slowConsumers.Add(ctx, 1, a)
	}
}

// Panic counts a recovered panic by callback.
func (o *Observer) Panic(ev adapters.PanicEvent) {
	o.adapters.Get(ev.Adapter)
	o.panics.Add(ctx, 1, with(ev.Adapter, attribute.String("callback", labels.Callback(ev.Callback))))
}

// Timeout counts a timeout.
func (o *Observer) Timeout(ev adapters.TimeoutEvent) {
	o.adapters.Get(ev.Adapter)
	o.timeouts.Add(ctx, 1, with(ev.Adapter, attribute.String("timeout", labels.Timeout(ev.Err))))
}

// Drain records the connections left in a drain.
func (o *Observer) Drain(ev adapters.DrainEvent) {
	o.drain.Record(ctx, int64(ev.Left), o.adapters.Get(ev.Adapter).adapter)
}
