package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// node is a demo process.
type node struct {
	t       *testing.T
	cmd     *exec.Cmd
	pageURL string
	natsURL string
	exited  chan error
}

// startNode runs the demo in a process of its own with args, and waits
// until it prints its page's URL.
func startNode(t *testing.T, args ...string) *node {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), asMainEnv+"=1")
	cmd.Stderr = io.Discard
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	n := &node{t: t, cmd: cmd, exited: make(chan error, 1)}
	pageRE := regexp.MustCompile(`chat page on (http://\S+)`)
	natsRE := regexp.MustCompile(`through NATS at (nats://\S+)`)
	lines := bufio.NewScanner(out)
	found := make(chan bool, 1)
	go func() {
		for lines.Scan() {
			if m := natsRE.FindStringSubmatch(lines.Text()); m != nil {
				n.natsURL = m[1]
			}
			if m := pageRE.FindStringSubmatch(lines.Text()); m != nil {
				n.pageURL = m[1]
			}
			if strings.Contains(lines.Text(), "gws") { // the last adapter listed
				found <- true
			}
		}
		found <- false
		n.exited <- cmd.Wait()
	}()
	t.Cleanup(func() { n.stop() })
	select {
	case ok := <-found:
		if !ok || n.pageURL == "" {
			t.Fatalf("demo %q exited before listing its servers", args)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("demo %q did not start within 30 s", args)
	}
	return n
}

// stop sends SIGTERM and waits for the process to end.
func (n *node) stop() error {
	if n.cmd.ProcessState != nil {
		return nil
	}
	n.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-n.exited:
		n.exited <- err
		return err
	case <-time.After(30 * time.Second):
		n.cmd.Process.Kill()
		return fmt.Errorf("demo did not stop within 30 s of SIGTERM")
	}
}

// kill kills the process at once, as a crash would: no drain, no
// goodbye to the other nodes.
func (n *node) kill() {
	n.t.Helper()
	if n.cmd.ProcessState != nil {
		return
	}
	n.cmd.Process.Kill()
	err := <-n.exited
	n.exited <- err
}

// knows waits until n lists a server of the node named other.
func (n *node) knows(other string) {
	n.t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		resp, err := http.Get(n.pageURL + "servers")
		if err != nil {
			continue
		}
		var servers []server
		json.NewDecoder(resp.Body).Decode(&servers)
		resp.Body.Close()
		for _, s := range servers {
			if s.Node == other {
				return
			}
		}
	}
	n.t.Fatalf("%s never heard of node %s", n.pageURL, other)
}

// TestBrowserTwoNodes runs two demo processes joined by the NATS server
// the first embeds, and a page on each in a real headless Chromium: a
// message typed on node 1's page reaches node 2's, both list everyone
// online; a third node is killed, and its members leave the others'
// lists (presence expires a node no longer heard from); and when node 1
// is drained with 1012 its page moves to node 2 by itself and keeps
// chatting.
func TestBrowserTwoNodes(t *testing.T) {
	chromium := findChromium(t)
	n1 := startNode(t, "-node", "node-1", "-addr", "127.0.0.1:0", "-nats", "embedded", "-nats-addr", "127.0.0.1:0",
		"-restart", "-drain-batch", "1", "-drain-interval", "100ms")
	if n1.natsURL == "" {
		t.Fatal("node 1 did not print the URL of its NATS server")
	}
	n2 := startNode(t, "-node", "node-2", "-addr", "127.0.0.1:0", "-nats", n1.natsURL)
	n2.knows("node-1")
	n1.knows("node-2")

	browser := newBrowser(t, chromium)
	ctx2, cancel := chromedp.NewContext(browser)
	defer cancel()
	alice := &tab{t: t, ctx: browser, name: "alice", server: "gorilla"}
	bob := &tab{t: t, ctx: ctx2, name: "bob", server: "gobws"}
	alice.open(n1.pageURL)
	bob.open(n2.pageURL)
	for _, p := range []*tab{alice, bob} {
		p.waitFor(`[...document.querySelectorAll("#online li")].map((li) => li.textContent).join("|") ===
			"alice (gorilla on node-1)|bob (gobws on node-2)"`, p.name+"'s page lists alice on node 1 and bob on node 2")
	}
	alice.say("hello from node 1")
	bob.waitForMessage(alice, "hello from node 1")
	bob.say("hello from node 2")
	alice.waitForMessage(bob, "hello from node 2")

	n3 := startNode(t, "-node", "node-3", "-addr", "127.0.0.1:0", "-nats", n1.natsURL)
	n3.knows("node-1")
	ctx3, cancel3 := chromedp.NewContext(browser)
	defer cancel3()
	carol := &tab{t: t, ctx: ctx3, name: "carol", server: "gws"}
	carol.open(n3.pageURL)
	const online = `[...document.querySelectorAll("#online li")].map((li) => li.textContent).join("|")`
	for _, p := range []*tab{alice, bob} {
		p.waitFor(online+`.includes("carol (gws on node-3)")`, p.name+"'s page lists carol on node 3")
	}
	n3.kill()
	// Carol's page may move to another node and join again from there;
	// what must go is every member of node 3.
	for _, p := range []*tab{alice, bob} {
		p.waitFor(`!`+online+`.includes("on node-3)")`, p.name+"'s page no longer lists anyone on node 3, killed")
	}

	if err := n1.stop(); err != nil {
		t.Fatalf("node 1: %v", err)
	}
	alice.waitFor(`document.getElementById("log").innerText.includes("gorilla on node-1 closed with 1012")`,
		"alice's page saw close 1012 when node 1 was drained")
	alice.waitFor(`document.getElementById("status").textContent.startsWith("connected to gorilla on node-2 as alice")`,
		"alice's page moved to gorilla on node 2")
	bob.waitFor(`[...document.querySelectorAll("#online li")].map((li) => li.textContent).join("|") ===
		"alice (gorilla on node-2)|bob (gobws on node-2)"`, "bob's page lists alice, now on node 2")
	alice.say("still chatting")
	bob.waitForMessage(alice, "still chatting")
}
