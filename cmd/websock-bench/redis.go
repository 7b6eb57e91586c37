package main

import (
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/websock-go/websock/internal/redisproc"
)

// redisServer is a redis-server process the nodes workloads run, on a
// free loopback port, with no persistence, in a temporary directory.
type redisServer struct {
	*redisproc.Server
	dir string
}

// errNoRedis: redis-server is not installed.
var errNoRedis = redisproc.ErrNotInstalled

func startRedis() (*redisServer, error) {
	dir, err := os.MkdirTemp("", "websock-bench-redis")
	if err != nil {
		return nil, err
	}
	p, err := redisproc.New(dir, "--maxclients", "1000")
	if err == nil {
		err = p.Start()
	}
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return &redisServer{Server: p, dir: dir}, nil
}

func (r *redisServer) url() string { return r.URL() }

func (r *redisServer) stop() {
	r.Kill()
	os.RemoveAll(r.dir)
}

// waitRedisSubscribers waits until n connections subscribe to the Redis
// channel of topic (one per node): a node's SUBSCRIBE is on its way when
// its connections count as subscribed.
func (r *redisServer) waitRedisSubscribers(topic string, n int) error {
	got := ""
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		var err error
		got, err = r.Do("EVAL", "return redis.call('PUBSUB','NUMSUB',ARGV[1])[2]", "0", "websock."+topic)
		if err != nil {
			return err
		}
		if got == ":"+strconv.Itoa(n) {
			return nil
		}
	}
	return fmt.Errorf("after 30 s, Redis counts %s subscribers of %s, want %d", got, topic, n)
}
