//go:build unix

package main

import (
	"bufio"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// childEnv, when set in the environment of this test binary, makes it
// websock-echo itself, run with the arguments after "--" and with a soft
// descriptor limit of childEnv's value.
const childEnv = "WEBSOCK_ECHO_TEST_NOFILE"

func TestMain(m *testing.M) {
	if v := os.Getenv(childEnv); v != "" {
		n, _ := strconv.ParseUint(v, 10, 64)
		var rl syscall.Rlimit
		syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl)
		rl.Cur = n
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
			os.Stderr.WriteString("setrlimit: " + err.Error() + "\n")
			os.Exit(2)
		}
		args := os.Args
		for i, a := range args {
			if a == "--" {
				args = args[i+1:]
				break
			}
		}
		if err := run(args, os.Stdout, os.Stderr, nil); err != nil {
			os.Stderr.WriteString(err.Error() + "\n")
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestDescriptorCapKeepsMetrics runs websock-echo with a descriptor limit
// of 128, so that its default connection cap is 64: the 65th connection
// gets 503 instead of starving the accept loop, and /metrics still
// answers, counting the refusal.
func TestDescriptorCapKeepsMetrics(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^$", "--", "-adapter", "gorilla", "-addr", "127.0.0.1:0", "-debug", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), childEnv+"=128")
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			default:
			}
		}
		exited <- cmd.Wait()
	}()
	defer func() {
		cmd.Process.Signal(os.Interrupt)
		select {
		case err := <-exited:
			if err != nil {
				t.Errorf("websock-echo: %v", err)
			}
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			t.Error("websock-echo did not end within 30s of SIGINT")
		}
	}()
	urlRE := regexp.MustCompile(`listening on (ws://\S+)`)
	dbgRE := regexp.MustCompile(`metrics on (http://\S+/metrics)`)
	var url, metrics string
	for timeout := time.After(30 * time.Second); url == "" || metrics == ""; {
		select {
		case l := <-lines:
			if m := urlRE.FindStringSubmatch(l); m != nil {
				url = m[1]
			}
			if m := dbgRE.FindStringSubmatch(l); m != nil {
				metrics = m[1]
			}
		case <-timeout:
			t.Fatal("websock-echo printed no URLs within 30s")
		}
	}

	const limit = 64
	for i := range limit {
		c, _, err := websocket.DefaultDialer.Dial(url, nil)
		if err != nil {
			t.Fatalf("connection %d of %d under the default cap: %v", i+1, limit, err)
		}
		defer c.Close()
	}
	c, resp, err := websocket.DefaultDialer.Dial(url, nil)
	if err == nil {
		c.Close()
		t.Fatalf("connection %d accepted with a descriptor limit of 128; want 503 (the default cap is the limit minus half of it)", limit+1)
	}
	if resp == nil || resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("connection %d: %v; want 503 with Retry-After", limit+1, err)
	}
	body := get(t, metrics)
	if want := `websock_upgrades_total{adapter="gorilla",outcome="connection_cap"} 1`; !strings.Contains(body, want) {
		t.Errorf("/metrics lacks %s", want)
	}
}
