// Package natsbroker carries pubsub messages between nodes over NATS: each
// node holds one NATS subscription per topic that has local subscribers,
// and each publish is one NATS message, whatever the number of
// subscribers.
//
// When the NATS connection is down, Publish fails at once with an error
// wrapping pubsub.ErrBrokerUnavailable (local subscribers still get the
// message), and the NATS client resubscribes every topic when it
// reconnects. Messages published elsewhere while this node was
// disconnected are not replayed: NATS core delivers at most once.
//
// For development and first deployments, [Embedded] runs a NATS server
// inside the process and returns a Broker connected to it.
package natsbroker

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/websock-go/websock/adapters/pubsub"
)

// DefaultPrefix is the subject prefix used when Options.Prefix is empty:
// topic "room.1" travels on subject "websock.room.1".
const DefaultPrefix = "websock."

// nodeHeader names the publishing node in each message, so a node skips
// its own messages, which it has delivered locally already.
const nodeHeader = "Websock-Node"

// Options configures a Broker. A nil *Options means defaults.
type Options struct {
	// Prefix is put before every topic to make its NATS subject, so that
	// several applications can share one NATS cluster. Default
	// DefaultPrefix.
	Prefix string

	// Logger gets the NATS client's asynchronous errors that OnStatus
	// does not report (a slow consumer that dropped messages, a denied
	// subject), at level Warn. The failed reads and writes of a lost
	// connection are not logged: OnStatus reports the loss. Default
	// slog.Default(). Only Connect uses it: with New, the nats.Conn's own
	// error handler stays.
	Logger *slog.Logger
}

// Broker is a pubsub.Broker over one NATS connection.
type Broker struct {
	nc     *nats.Conn
	prefix string
	node   string
	owned  bool // Close closes nc

	mu  sync.Mutex
	fns []func(up bool, err error) // OnStatus's
}

var _ pubsub.StatusBroker = (*Broker)(nil)

// New returns a Broker over nc, which stays the caller's: Close does not
// close it.
func New(nc *nats.Conn, o *Options) *Broker {
	b := &Broker{nc: nc, prefix: DefaultPrefix, node: newNodeID()}
	if o != nil && o.Prefix != "" {
		b.prefix = o.Prefix
	}
	// Learn of disconnects and reconnects, after whatever handlers nc
	// had already.
	disc, reconn, closed := nc.Opts.DisconnectedErrCB, nc.Opts.ReconnectedCB, nc.Opts.ClosedCB
	nc.SetDisconnectErrHandler(func(c *nats.Conn, err error) {
		if disc != nil {
			disc(c, err)
		}
		if err == nil {
			err = errors.New("disconnected")
		}
		b.status(false, fmt.Errorf("NATS connection lost: %w", err))
	})
	nc.SetReconnectHandler(func(c *nats.Conn) {
		if reconn != nil {
			reconn(c)
		}
		b.status(true, nil)
	})
	nc.SetClosedHandler(func(c *nats.Conn) {
		if closed != nil {
			closed(c)
		}
		b.status(false, nats.ErrConnectionClosed)
	})
	return b
}

// OnStatus has fn called when the NATS connection is lost (it is then
// retried) and when it is back; see pubsub.StatusBroker.
func (b *Broker) OnStatus(fn func(up bool, err error)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.fns = append(b.fns, fn)
}

func (b *Broker) status(up bool, err error) {
	b.mu.Lock()
	fns := b.fns
	b.mu.Unlock()
	for _, fn := range fns {
		fn(up, err)
	}
}

// Connect connects to the NATS server at url (several may be given,
// comma-separated) and returns a Broker that owns the connection. The
// connection retries for ever when the server goes away, and does not
// buffer publishes meanwhile (they fail, see the package doc); opts may
// override both, and add credentials or TLS.
func Connect(url string, o *Options, opts ...nats.Option) (*Broker, error) {
	logger := slog.Default()
	if o != nil && o.Logger != nil {
		logger = o.Logger
	}
	all := append([]nats.Option{
		nats.ErrorHandler(asyncError(logger)),
		nats.Name("websock pubsub"),
		nats.MaxReconnects(-1),
		nats.ReconnectBufSize(-1),
		nats.NoEcho(),
	}, opts...)
	nc, err := nats.Connect(url, all...)
	if err != nil {
		return nil, fmt.Errorf("natsbroker: connecting to %s: %w (is a NATS server listening there?)", url, err)
	}
	b := New(nc, o)
	b.owned = true
	return b, nil
}

// asyncError returns the NATS error handler that Connect installs in
// place of the client's default one, which writes every error to the
// process's standard error: a server that goes away mid-publish would
// print each write that failed.
func asyncError(logger *slog.Logger) nats.ErrHandler {
	return func(nc *nats.Conn, sub *nats.Subscription, err error) {
		var op *net.OpError
		if errors.As(err, &op) || errors.Is(err, net.ErrClosed) || errors.Is(err, io.EOF) {
			return // the connection is lost: OnStatus says so
		}
		args := []any{"err", err}
		if sub != nil {
			args = append(args, "subject", sub.Subject)
		}
		logger.Warn("natsbroker: NATS error", args...)
	}
}

func newNodeID() string {
	var id [8]byte
	rand.Read(id[:])
	return hex.EncodeToString(id[:])
}

// Conn returns the NATS connection.
func (b *Broker) Conn() *nats.Conn { return b.nc }

// Publish sends data on topic to the other nodes.
func (b *Broker) Publish(topic string, data []byte) error {
	if s := b.nc.Status(); s != nats.CONNECTED {
		return fmt.Errorf("%w: NATS connection is %s", pubsub.ErrBrokerUnavailable, s)
	}
	m := &nats.Msg{Subject: b.prefix + topic, Data: data, Header: nats.Header{nodeHeader: []string{b.node}}}
	if err := b.nc.PublishMsg(m); err != nil {
		if errors.Is(err, nats.ErrConnectionClosed) || errors.Is(err, nats.ErrConnectionReconnecting) ||
			errors.Is(err, nats.ErrReconnectBufExceeded) {
			err = fmt.Errorf("%w: %w", pubsub.ErrBrokerUnavailable, err)
		}
		return err
	}
	return nil
}

// Subscribe delivers what other nodes publish on topic, one message at a
// time, in each publisher's order.
func (b *Broker) Subscribe(topic string, deliver func([]byte)) (func(), error) {
	sub, err := b.nc.Subscribe(b.prefix+topic, func(m *nats.Msg) {
		if m.Header.Get(nodeHeader) == b.node {
			return // published here, and delivered here already
		}
		deliver(m.Data)
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", pubsub.ErrBrokerUnavailable, err)
	}
	return func() { sub.Unsubscribe() }, nil
}

// Close closes the NATS connection if Connect made it, after giving what
// was published up to a second to reach the server.
func (b *Broker) Close() {
	if b.owned {
		if b.nc.IsConnected() {
			b.nc.FlushTimeout(time.Second)
		}
		b.nc.Close()
	}
}
