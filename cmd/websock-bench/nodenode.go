package main

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"

	"github.com/websock-go/websock/adapters"
	"github.com/websock-go/websock/adapters/pubsub"
	"github.com/websock-go/websock/adapters/pubsub/natsbroker"
	"github.com/websock-go/websock/cmd/internal/builtin"
	"github.com/websock-go/websock/cmd/internal/procstat"
	"github.com/websock-go/websock/websock"
)

// benchTopic is the topic every connection of the nodes workloads
// subscribes to.
const benchTopic = "bench"

// nodeAddrs is the line a node process prints once it serves.
type nodeAddrs struct {
	WS   []string `json:"ws"`   // one WebSocket endpoint per node
	Ctl  string   `json:"ctl"`  // the control endpoint (POST /publish, GET /subscribers)
	NATS string   `json:"nats"` // the embedded NATS server's URL, if any
}

// runNode is a process holding one or more pubsub nodes, each a gobws
// endpoint whose connections subscribe to benchTopic: -nodes 2 -broker
// local runs two nodes joined by an in-process broker; -broker embedded
// runs a NATS server and one node on it; -broker nats://... one node on
// that server. It prints its nodeAddrs and runs until stdin closes, then
// stops its endpoints (paced and with 1012 as the flags say).
func runNode(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("websock-bench node", flag.ContinueOnError)
	fs.SetOutput(stderr)
	nodes := fs.Int("nodes", 1, "nodes in this process (more than one needs -broker local)")
	broker := fs.String("broker", "", `"local", "embedded" (a NATS server here), a NATS URL, or "" for none`)
	var drain builtin.DrainFlags
	drain.Register(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := procstat.RaiseFileLimit(); err != nil {
		return err
	}
	var out nodeAddrs
	var brokers []pubsub.Broker
	switch *broker {
	case "":
		brokers = make([]pubsub.Broker, *nodes)
	case "local":
		lb := pubsub.NewLocalBroker()
		for range *nodes {
			brokers = append(brokers, lb.Node())
		}
	default:
		url := *broker
		if url == "embedded" {
			s, err := natsserver.NewServer(&natsserver.Options{Host: "127.0.0.1", Port: natsserver.RANDOM_PORT, NoLog: true, NoSigs: true})
			if err != nil {
				return err
			}
			go s.Start()
			if !s.ReadyForConnections(10 * time.Second) {
				return errors.New("the embedded NATS server did not start")
			}
			defer s.Shutdown()
			url = s.ClientURL()
			out.NATS = url
		}
		for range *nodes {
			b, err := natsbroker.Connect(url, nil)
			if err != nil {
				return err
			}
			defer b.Close()
			brokers = append(brokers, b)
		}
	}

	a, err := builtin.Lookup("gobws")
	if err != nil {
		return err
	}
	opts := &adapters.Options{PingInterval: -1, IdleTimeout: -1, DrainBatch: drain.Batch, DrainInterval: drain.Interval}
	var pss []*pubsub.PubSub
	var servers []*builtin.Server
	for _, b := range brokers {
		ps := pubsub.New(b)
		defer ps.Close()
		accept := func(*websock.Request) (websock.Handler, error) { return &subscriber{ps: ps}, nil }
		srv, err := a.Start("127.0.0.1:0", accept, opts)
		if err != nil {
			return err
		}
		pss = append(pss, ps)
		servers = append(servers, srv)
		out.WS = append(out.WS, srv.Addr)
	}

	mux := http.NewServeMux()
	var seq atomic.Uint64
	mux.HandleFunc("POST /publish", func(w http.ResponseWriter, r *http.Request) {
		msg := make([]byte, 1024)
		binary.BigEndian.PutUint64(msg, seq.Add(1))
		binary.BigEndian.PutUint64(msg[8:], uint64(time.Now().UnixNano()))
		err := pss[0].Publish(benchTopic, msg)
		json.NewEncoder(w).Encode(map[string]any{"err": fmt.Sprint(err)})
	})
	mux.HandleFunc("GET /subscribers", func(w http.ResponseWriter, r *http.Request) {
		n := 0
		for _, ps := range pss {
			n += ps.Subscribers(benchTopic)
		}
		for _, b := range brokers {
			if nb, ok := b.(*natsbroker.Broker); ok {
				nb.Conn().Flush() // the subscription has reached the server
			}
		}
		json.NewEncoder(w).Encode(n)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	ctl := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go ctl.Serve(ln)
	defer ctl.Close()
	out.Ctl = ln.Addr().String()
	line, _ := json.Marshal(out)
	fmt.Fprintf(stdout, "%s\n", line)

	io.Copy(io.Discard, stdin) // until the parent closes it
	ctx, cancel := context.WithTimeout(context.Background(), drain.Timeout)
	defer cancel()
	var errs []error
	for _, srv := range servers {
		errs = append(errs, drain.Stop(srv)(ctx))
	}
	return errors.Join(errs...)
}

// subscriber subscribes to benchTopic and pushes what it gets.
type subscriber struct{ ps *pubsub.PubSub }

func (s *subscriber) Init(c websock.Conn) websock.Result {
	if err := s.ps.Subscribe(c, benchTopic); err != nil {
		return websock.Stop(err)
	}
	return websock.OK()
}

func (s *subscriber) HandleIn(websock.Frame) websock.Result { return websock.OK() }

func (s *subscriber) HandleInfo(msg any) websock.Result {
	return websock.Push(websock.Binary(msg.(*pubsub.Message).Data))
}

func (s *subscriber) Terminate(websock.Reason) {}
