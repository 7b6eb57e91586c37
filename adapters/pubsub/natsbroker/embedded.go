package natsbroker

import (
	"fmt"
	"net"
	"strconv"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// EmbeddedOptions configures Embedded. A nil *EmbeddedOptions means
// defaults.
type EmbeddedOptions struct {
	// Addr is where the server listens, host:port. Other nodes connect to
	// it (see Embedded). Default "127.0.0.1:0": a free loopback port,
	// this machine only.
	Addr string

	// Broker configures the returned Broker. Default nil: defaults.
	Broker *Options
}

// Embedded starts a NATS server inside this process and returns a Broker
// connected to it, and a stop function that closes the broker and then
// the server. It is for development, tests and a first deployment with
// no NATS to run: the other nodes connect to the server with
// Connect(b.Conn().ConnectedUrl(), ...). When the process ends, so does
// the server, and the other nodes lose their broker until it comes back:
// in production, run nats-server on its own and Connect to it.
func Embedded(o *EmbeddedOptions) (b *Broker, stop func(), err error) {
	addr := "127.0.0.1:0"
	var bo *Options
	if o != nil {
		if o.Addr != "" {
			addr = o.Addr
		}
		bo = o.Broker
	}
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, nil, fmt.Errorf("natsbroker: embedded server address %q: %w (want host:port)", addr, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port < 0 || port > 65535 {
		return nil, nil, fmt.Errorf("natsbroker: embedded server address %q: the port is not a number from 0 to 65535", addr)
	}
	if port == 0 {
		port = natsserver.RANDOM_PORT
	} else {
		// The server reports a port in use only by never becoming
		// ready: find out first, to say so at once.
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, nil, fmt.Errorf("natsbroker: embedded server cannot listen on %s: %w", addr, err)
		}
		ln.Close()
	}
	s, err := natsserver.NewServer(&natsserver.Options{Host: host, Port: port, NoLog: true, NoSigs: true})
	if err != nil {
		return nil, nil, fmt.Errorf("natsbroker: embedded server: %w", err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		s.Shutdown()
		s.WaitForShutdown()
		return nil, nil, fmt.Errorf("natsbroker: embedded server did not start on %s within 10s (is the port in use?)", addr)
	}
	b, err = Connect(s.ClientURL(), bo, nats.ReconnectWait(100*time.Millisecond))
	if err != nil {
		s.Shutdown()
		s.WaitForShutdown()
		return nil, nil, err
	}
	return b, func() {
		b.Close()
		s.Shutdown()
		s.WaitForShutdown()
	}, nil
}
