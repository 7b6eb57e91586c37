package main

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// redisServer is a redis-server process the nodes workloads run, on a
// free loopback port, with no persistence, in a temporary directory.
type redisServer struct {
	addr string
	cmd  *exec.Cmd
	dir  string
	done chan struct{}
}

// errNoRedis: redis-server is not installed.
var errNoRedis = errors.New("redis-server is not installed (Debian package redis-server)")

func startRedis() (*redisServer, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, errNoRedis
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	dir, err := os.MkdirTemp("", "websock-bench-redis")
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", dir, "--loglevel", "warning", "--maxclients", "1000")
	cmd.Dir = dir
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("starting redis-server: %w", err)
	}
	r := &redisServer{addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), cmd: cmd, dir: dir, done: make(chan struct{})}
	go func() { cmd.Wait(); close(r.done) }()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if _, err := r.do("PING"); err == nil {
			return r, nil
		} else if time.Now().After(deadline) {
			r.stop()
			return nil, fmt.Errorf("redis-server on %s did not answer within 10 s: %w", r.addr, err)
		}
	}
}

func (r *redisServer) url() string { return "redis://" + r.addr }

func (r *redisServer) stop() {
	r.cmd.Process.Kill()
	<-r.done
	os.RemoveAll(r.dir)
}

// do sends one command and returns the first line of the answer.
func (r *redisServer) do(words ...string) (string, error) {
	c, err := net.DialTimeout("tcp", r.addr, time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(words))
	for _, w := range words {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(w), w)
	}
	if _, err := c.Write([]byte(b.String())); err != nil {
		return "", err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return strings.TrimRight(line, "\r\n"), err
}

// waitRedisSubscribers waits until n connections subscribe to the Redis
// channel of topic (one per node): a node's SUBSCRIBE is on its way when
// its connections count as subscribed.
func (r *redisServer) waitRedisSubscribers(topic string, n int) error {
	got := ""
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		var err error
		got, err = r.do("EVAL", "return redis.call('PUBSUB','NUMSUB',ARGV[1])[2]", "0", "websock."+topic)
		if err != nil {
			return err
		}
		if got == ":"+strconv.Itoa(n) {
			return nil
		}
	}
	return fmt.Errorf("after 30 s, Redis counts %s subscribers of %s, want %d", got, topic, n)
}
