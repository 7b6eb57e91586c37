package natsbroker

import (
	"errors"
	"fmt"
	"net"
	"net/url"
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

	// Cluster is where the server listens, host:port, for the routes of
	// the servers other nodes embed, so that they form one NATS cluster:
	// then losing a node, the one whose server the others first joined
	// included, cuts none of the others off. Default "": no cluster.
	Cluster string

	// Routes are the Cluster addresses (host:port) of other nodes'
	// servers; one that is up is enough, the cluster finds the rest.
	// Only with Cluster. Default none: the first server of a cluster.
	Routes []string

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
	var cluster string
	var routes []string
	if o != nil {
		if o.Addr != "" {
			addr = o.Addr
		}
		bo, cluster, routes = o.Broker, o.Cluster, o.Routes
	}
	if cluster == "" && len(routes) > 0 {
		return nil, nil, errors.New("natsbroker: embedded server: Routes without Cluster (set Cluster, where this server listens for routes)")
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
	so := &natsserver.Options{Host: host, Port: port, NoLog: true, NoSigs: true}
	if cluster != "" {
		if err := clusterOpts(so, cluster, routes); err != nil {
			return nil, nil, err
		}
	}
	s, err := natsserver.NewServer(so)
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

// clusterOpts makes so listen for routes on cluster and join routes.
func clusterOpts(so *natsserver.Options, cluster string, routes []string) error {
	host, portStr, err := net.SplitHostPort(cluster)
	if err != nil {
		return fmt.Errorf("natsbroker: embedded server cluster address %q: %w (want host:port)", cluster, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port < 1 || port > 65535 {
		return fmt.Errorf("natsbroker: embedded server cluster address %q: the port is not a number from 1 to 65535", cluster)
	}
	so.Cluster = natsserver.ClusterOpts{Name: "websock", Host: host, Port: port}
	for _, r := range routes {
		if _, _, err := net.SplitHostPort(r); err != nil {
			return fmt.Errorf("natsbroker: embedded server route %q: %w (want host:port)", r, err)
		}
		u, err := url.Parse("nats-route://" + r)
		if err != nil {
			return fmt.Errorf("natsbroker: embedded server route %q: %w", r, err)
		}
		so.Routes = append(so.Routes, u)
	}
	return nil
}
