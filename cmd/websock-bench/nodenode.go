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
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/websock-go/websock/adapters"
	"github.com/websock-go/websock/adapters/pubsub"
	"github.com/websock-go/websock/adapters/pubsub/natsbroker"
	"github.com/websock-go/websock/adapters/pubsub/redisbroker"
	"github.com/websock-go/websock/cmd/internal/builtin"
	"github.com/websock-go/websock/cmd/internal/procstat"
	"github.com/websock-go/websock/websock"
)

// benchTopic is the topic every connection of the nodes workloads
// subscribes to.
const benchTopic = "bench"

// presenceTopic is the topic every connection joins, with -presence. No
// connection subscribes to it: the diffs would cost every connection one
// message per join.
const presenceTopic = "bench.presence"

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
// that server; -broker redis://... one node on that Redis. With
// -presence, each node tracks presence and each connection joins
// presenceTopic. It prints its nodeAddrs and runs until stdin closes,
// then stops its endpoints (paced and with 1012 as the flags say).
func runNode(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("websock-bench node", flag.ContinueOnError)
	fs.SetOutput(stderr)
	nodes := fs.Int("nodes", 1, "nodes in this process (more than one needs -broker local)")
	broker := fs.String("broker", "", `"local", "embedded" (a NATS server here), a NATS URL, a Redis URL, or "" for none`)
	presence := fs.Bool("presence", false, "track presence; every connection joins "+presenceTopic)
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
	case "embedded":
		b, stop, err := natsbroker.Embedded(nil)
		if err != nil {
			return err
		}
		defer stop()
		out.NATS = b.Conn().ConnectedUrl()
		brokers = append(brokers, b)
		for range *nodes - 1 {
			b, err := natsbroker.Connect(out.NATS, nil)
			if err != nil {
				return err
			}
			defer b.Close()
			brokers = append(brokers, b)
		}
	default:
		url := *broker
		for range *nodes {
			if strings.HasPrefix(url, "redis://") {
				b, err := redisbroker.Connect(url, nil)
				if err != nil {
					return err
				}
				defer b.Close()
				brokers = append(brokers, b)
				continue
			}
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
	var pres []*pubsub.Presence
	var servers []*builtin.Server
	var ids atomic.Uint64
	for _, b := range brokers {
		ps := pubsub.New(b)
		defer ps.Close()
		var p *pubsub.Presence
		if *presence {
			if p, err = pubsub.NewPresence(ps, nil); err != nil {
				return err
			}
			defer p.Close()
			pres = append(pres, p)
		}
		accept := func(*websock.Request) (websock.Handler, error) {
			return &subscriber{ps: ps, pres: p, id: ids.Add(1)}, nil
		}
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
	mux.HandleFunc("GET /presence", func(w http.ResponseWriter, r *http.Request) {
		// What the first node lists: how many entries, and how many of
		// them are its own.
		var n, own int
		if len(pres) > 0 {
			for _, e := range pres[0].List(presenceTopic) {
				n++
				if e.Node == pres[0].Node() {
					own++
				}
			}
		}
		json.NewEncoder(w).Encode(map[string]int{"listed": n, "own": own})
	})
	mux.HandleFunc("POST /kill", func(w http.ResponseWriter, r *http.Request) {
		// Node i stops reaching the others without a word, as if its
		// process had died: what a node sharing this process with
		// others can do.
		i, err := strconv.Atoi(r.URL.Query().Get("node"))
		if err != nil || i < 0 || i >= len(pss) {
			http.Error(w, "node: want the index of a node of this process", http.StatusBadRequest)
			return
		}
		pss[i].Close()
		json.NewEncoder(w).Encode(map[string]any{"err": "<nil>"})
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

// subscriber subscribes to benchTopic and pushes what it gets; with a
// Presence, it also joins presenceTopic.
type subscriber struct {
	ps   *pubsub.PubSub
	pres *pubsub.Presence
	id   uint64
}

func (s *subscriber) Init(c websock.Conn) websock.Result {
	if err := s.ps.Subscribe(c, benchTopic); err != nil {
		return websock.Stop(err)
	}
	if s.pres != nil {
		if err := s.pres.Join(c, presenceTopic, strconv.FormatUint(s.id, 10), nil); err != nil {
			return websock.Stop(err)
		}
	}
	return websock.OK()
}

func (s *subscriber) HandleIn(websock.Frame) websock.Result { return websock.OK() }

func (s *subscriber) HandleInfo(msg any) websock.Result {
	if m, ok := msg.(*pubsub.Message); ok {
		return websock.Push(websock.Binary(m.Data))
	}
	return websock.OK()
}

func (s *subscriber) Terminate(websock.Reason) {}
