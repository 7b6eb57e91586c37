// Package promobs turns what a websock engine observes into Prometheus
// metrics (github.com/prometheus/client_golang). Every metric carries the
// label "adapter", and every label has a bounded set of values.
//
//	obs, err := promobs.New(prometheus.DefaultRegisterer)
//	h, err := gorilla.New(accept, &gorilla.Options{Observer: obs})
//	http.Handle("/metrics", promhttp.Handler())
//
// The metrics:
//
//	websock_connections                       gauge      adapter                        connections running now
//	websock_upgrades_total                    counter    adapter, outcome               upgrade requests, by adapters.UpgradeOutcome
//	websock_closes_total                      counter    adapter, kind, code            connections ended, by websock.Kind and close code
//	websock_messages_total                    counter    adapter, direction, type       messages and control frames, in or out, by type
//	websock_message_bytes_total               counter    adapter, direction, type       their payload bytes (after decompression)
//	websock_connection_duration_seconds       histogram  adapter                        how long connections ran
//	websock_mailbox_peak_depth                histogram  adapter                        the most messages queued at once, per connection
//	websock_mailbox_full_total                counter    adapter                        times a mailbox filled up
//	websock_slow_consumer_disconnects_total   counter    adapter                        connections closed because their mailbox was full
//	websock_panics_total                      counter    adapter, callback              handler panics recovered
//	websock_timeouts_total                    counter    adapter, timeout               idle and keepalive timeouts
//	websock_drain_connections                 gauge      adapter                        connections left in a Shutdown or Restart
//
// Every metric exists, at zero, from the moment an engine with this
// Observer is made (Attach), for every label value it can know in
// advance: see Attach.
//
// Label values: outcome as adapters.UpgradeOutcome.String ("accepted",
// "origin", ...); kind as websock.Kind.String ("normal", "remote",
// "shutdown", "timeout", "error"); code is the Reason's close code as a
// number for the codes RFC 6455 and IANA assign (1000 to 1015),
// "3xxx" and "4xxx" for the registered and private ranges, and "other";
// direction "in" or "out"; type "text", "binary", "ping", "pong",
// "close"; callback "Init", "HandleIn", "HandleInfo", "HandleControl",
// "Terminate"; timeout "idle", "pong" or "write" (a write past the write
// timeout).
package promobs

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/websock-go/websock/adapters"
	"github.com/websock-go/websock/adapters/observe/internal/labels"
	"github.com/websock-go/websock/websock"
)

// Observer is an adapters.Observer (and adapters.MessageObserver) that
// keeps Prometheus metrics. One Observer may be shared by several
// engines: the adapter label tells them apart. It is safe for concurrent
// use.
type Observer struct {
	connections   *prometheus.GaugeVec
	upgrades      *prometheus.CounterVec
	closes        *prometheus.CounterVec
	messages      *prometheus.CounterVec
	bytes         *prometheus.CounterVec
	duration      *prometheus.HistogramVec
	mailboxPeak   *prometheus.HistogramVec
	mailboxFull   *prometheus.CounterVec
	slowConsumers *prometheus.CounterVec
	panics        *prometheus.CounterVec
	timeouts      *prometheus.CounterVec
	drain         *prometheus.GaugeVec

	adapters labels.PerAdapter[adapterStats]
}

var (
	_ adapters.Observer        = (*Observer)(nil)
	_ adapters.MessageObserver = (*Observer)(nil)
	_ adapters.Attacher        = (*Observer)(nil)
	_ prometheus.Collector     = (*Observer)(nil)
)

// adapterStats holds the counters of one adapter that every message
// touches, resolved once, so that a message costs no label lookup.
type adapterStats struct {
	messages, bytes [2][5]prometheus.Counter // [direction-1][labels.Type]
}

// DurationBuckets are the buckets of websock_connection_duration_seconds:
// from a second to a day.
var DurationBuckets = []float64{1, 10, 60, 300, 1800, 3600, 4 * 3600, 24 * 3600}

// DepthBuckets are the buckets of websock_mailbox_peak_depth.
var DepthBuckets = []float64{0, 1, 4, 16, 64, 256, 1024, 4096}

// New returns an Observer whose metrics are registered with reg (for
// example prometheus.DefaultRegisterer, or a prometheus.NewRegistry()).
// It fails when reg refuses a metric, typically because one of the same
// name is registered already: make one Observer per registry and share it
// between engines.
func New(reg prometheus.Registerer) (*Observer, error) {
	o := &Observer{
		connections: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "websock_connections",
			Help: "WebSocket connections running now."}, []string{"adapter"}),
		upgrades: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "websock_upgrades_total",
			Help: "WebSocket upgrade requests, by outcome: accepted, or why they were refused."}, []string{"adapter", "outcome"}),
		closes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "websock_closes_total",
			Help: "WebSocket connections ended, by kind of ending and close code (sent, or received for kind remote)."}, []string{"adapter", "kind", "code"}),
		messages: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "websock_messages_total",
			Help: "WebSocket messages and control frames, by direction and type."}, []string{"adapter", "direction", "type"}),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "websock_message_bytes_total",
			Help: "Payload bytes of WebSocket messages and control frames, after decompression, by direction and type."}, []string{"adapter", "direction", "type"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "websock_connection_duration_seconds",
			Help: "How long WebSocket connections ran.", Buckets: DurationBuckets}, []string{"adapter"}),
		mailboxPeak: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "websock_mailbox_peak_depth",
			Help: "The most messages queued for HandleInfo at once, per connection, observed when it ends.", Buckets: DepthBuckets}, []string{"adapter"}),
		mailboxFull: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "websock_mailbox_full_total",
			Help: "Times a connection's mailbox filled up and Conn.Send was refused."}, []string{"adapter"}),
		slowConsumers: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "websock_slow_consumer_disconnects_total",
			Help: "Connections closed with 1013 because their mailbox was full (CloseOnMailboxFull)."}, []string{"adapter"}),
		panics: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "websock_panics_total",
			Help: "Handler panics recovered, by callback."}, []string{"adapter", "callback"}),
		timeouts: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "websock_timeouts_total",
			Help: "Connections ended by the idle timeout or an unanswered keepalive ping."}, []string{"adapter", "timeout"}),
		drain: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "websock_drain_connections",
			Help: "Connections left to close in a Shutdown or Restart; 0 when none is under way."}, []string{"adapter"}),
	}
	o.adapters.New = o.newStats
	for _, c := range o.collectors() {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return o, nil
}

func (o *Observer) collectors() []prometheus.Collector {
	return []prometheus.Collector{o.connections, o.upgrades, o.closes, o.messages, o.bytes, o.duration,
		o.mailboxPeak, o.mailboxFull, o.slowConsumers, o.panics, o.timeouts, o.drain}
}

// Describe and Collect make the Observer a prometheus.Collector too, for
// a program that registers it itself; New has registered its metrics
// already.
func (o *Observer) Describe(ch chan<- *prometheus.Desc) {
	for _, c := range o.collectors() {
		c.Describe(ch)
	}
}

// Collect collects every metric of the Observer.
func (o *Observer) Collect(ch chan<- prometheus.Metric) {
	for _, c := range o.collectors() {
		c.Collect(ch)
	}
}

// newStats makes the series of adapter exist, at zero, and resolves its
// per-message counters. It runs once per adapter, when the Observer first
// hears of it.
func (o *Observer) newStats(adapter string) *adapterStats {
	o.connections.WithLabelValues(adapter)
	o.drain.WithLabelValues(adapter)
	for _, out := range adapters.UpgradeOutcomes() {
		o.upgrades.WithLabelValues(adapter, out.String())
	}
	for _, c := range labels.Closes {
		o.closes.WithLabelValues(adapter, c.Kind, c.Code)
	}
	for _, cb := range labels.Callbacks {
		o.panics.WithLabelValues(adapter, cb)
	}
	for _, to := range labels.Timeouts {
		o.timeouts.WithLabelValues(adapter, to)
	}
	o.mailboxFull.WithLabelValues(adapter)
	o.slowConsumers.WithLabelValues(adapter)
	o.duration.WithLabelValues(adapter)
	o.mailboxPeak.WithLabelValues(adapter)
	s := &adapterStats{}
	for d, dir := range labels.Directions {
		for i, typ := range labels.Types {
			s.messages[d][i] = o.messages.WithLabelValues(adapter, dir, typ)
			s.bytes[d][i] = o.bytes.WithLabelValues(adapter, dir, typ)
		}
	}
	return s
}

// Attach makes the series of adapter exist, at zero, so that an alert
// needs no "or vector(0)": the connections and drain gauges, the upgrades
// of every outcome, the closes of every kind and code the engine chooses
// and of a peer's 1000, 1001 and 1005 (a peer's other codes, and a
// handler's StopCode, appear when they happen), the panics of every
// callback, the timeouts of every kind, the mailbox and slow-consumer
// counters, the message counters of every direction and type, and the
// histograms. An engine calls it when it is made (see adapters.Attacher);
// a program may call it for an adapter it will serve later. An adapter
// first heard of in an event gets the same series then. Series that exist
// already keep their values.
func (o *Observer) Attach(adapter string) { o.adapters.Get(adapter) }

// Upgrade counts an upgrade request by outcome.
func (o *Observer) Upgrade(ev adapters.UpgradeEvent) {
	o.adapters.Get(ev.Adapter)
	o.upgrades.WithLabelValues(ev.Adapter, ev.Outcome.String()).Inc()
}

// Start counts a live connection.
func (o *Observer) Start(ev adapters.StartEvent) {
	o.adapters.Get(ev.Adapter)
	o.connections.WithLabelValues(ev.Adapter).Inc()
}

// End counts a connection that ended.
func (o *Observer) End(ev adapters.EndEvent) {
	o.adapters.Get(ev.Adapter)
	o.connections.WithLabelValues(ev.Adapter).Dec()
	o.closes.WithLabelValues(ev.Adapter, ev.Reason.Kind.String(), CodeLabel(ev.Reason.Code)).Inc()
	o.duration.WithLabelValues(ev.Adapter).Observe(ev.Duration.Seconds())
	o.mailboxPeak.WithLabelValues(ev.Adapter).Observe(float64(ev.MailboxPeak))
}

// Message counts a message or control frame and its bytes.
func (o *Observer) Message(ev adapters.MessageEvent) {
	i, d := labels.Type(ev.Op), int(ev.Direction)-1
	if i < 0 || d < 0 || d > 1 {
		return
	}
	s := o.adapters.Get(ev.Adapter)
	s.messages[d][i].Inc()
	s.bytes[d][i].Add(float64(ev.Bytes))
}

// MailboxFull counts a full mailbox, and a slow consumer closed.
func (o *Observer) MailboxFull(ev adapters.MailboxEvent) {
	o.adapters.Get(ev.Adapter)
	o.mailboxFull.WithLabelValues(ev.Adapter).Inc()
	if ev.Disconnect {
		o.slowConsumers.WithLabelValues(ev.Adapter).Inc()
	}
}

// Panic counts a recovered panic by callback.
func (o *Observer) Panic(ev adapters.PanicEvent) {
	o.adapters.Get(ev.Adapter)
	o.panics.WithLabelValues(ev.Adapter, labels.Callback(ev.Callback)).Inc()
}

// Timeout counts a timeout.
func (o *Observer) Timeout(ev adapters.TimeoutEvent) {
	o.adapters.Get(ev.Adapter)
	o.timeouts.WithLabelValues(ev.Adapter, labels.Timeout(ev.Err)).Inc()
}

// Drain sets the connections left in a drain.
func (o *Observer) Drain(ev adapters.DrainEvent) {
	o.adapters.Get(ev.Adapter)
	o.drain.WithLabelValues(ev.Adapter).Set(float64(ev.Left))
}

// CodeLabel returns the label value of close code c: its number for the
// codes 1000 to 1015, "3xxx" and "4xxx" for the registered and private
// ranges, "other" for anything else. The set is bounded whatever peers
// send.
func CodeLabel(c websock.CloseCode) string { return labels.Code(c) }
