package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// findChromium returns the path of a Chromium to drive, or skips the test
// saying how to get one. In CI (CI set) a missing Chromium fails the test:
// .ci/run installs it, so its absence there is a broken setup.
func findChromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	const why = "no chromium on PATH; the browser test needs a real Chromium (Debian: apt-get install chromium)"
	if os.Getenv("CI") != "" {
		t.Fatal(why)
	}
	t.Skip(why)
	return ""
}

// TestBrowserChatAcrossAdapters drives two pages of the demo in a real
// headless Chromium, each connected through a different adapter: a message
// typed in one appears in the other, naming the server it came through;
// both see close 1001 when the demo shuts down, and both reconnect when it
// comes back on the same addresses.
func TestBrowserChatAcrossAdapters(t *testing.T) {
	chromium := findChromium(t)
	d, err := start(config{pageAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { d.shutdown(context.Background()) }()

	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		append(chromedp.DefaultExecAllocatorOptions[:],
			chromedp.ExecPath(chromium),
			chromedp.NoSandbox,
			chromedp.DisableGPU,
			chromedp.UserDataDir(t.TempDir()),
			chromedp.Flag("disable-quic", true),
			chromedp.Flag("disable-component-update", true),
		)...)
	defer cancelAlloc()
	first, cancelFirst := chromedp.NewContext(allocCtx)
	defer cancelFirst()
	if err := chromedp.Do(first); err != nil { // starts the browser
		t.Fatalf("starting %s: %v", chromium, err)
	}
	second, cancelSecond := chromedp.NewContext(first) // a second tab
	defer cancelSecond()

	ann := &tab{t: t, ctx: first, name: "ann"}
	bob := &tab{t: t, ctx: second, name: "bob"}
	ann.open(d.pageURL, "gorilla")
	bob.open(d.pageURL, "fasthttp")
	ann.waitFor(`document.getElementById("online").textContent.includes("bob (fasthttp)")`,
		"ann's page lists bob, online through fasthttp")

	ann.say("hello from gorilla")
	bob.waitForMessage("gorilla", "ann", "hello from gorilla")
	bob.say("hello back from fasthttp")
	ann.waitForMessage("fasthttp", "bob", "hello back from fasthttp")

	// Shut down: every page sees close 1001.
	addrs := map[string]string{}
	for _, s := range d.servers {
		addrs[s.Name] = fmt.Sprintf("127.0.0.1:%d", s.Port)
	}
	u, _ := url.Parse(d.pageURL)
	pageAddr := u.Host
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := d.shutdown(ctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	ann.waitFor(`document.getElementById("lastclose").textContent.startsWith("gorilla closed with 1001")`,
		"ann's page saw close 1001 from gorilla on shutdown")
	bob.waitFor(`document.getElementById("lastclose").textContent.startsWith("fasthttp closed with 1001")`,
		"bob's page saw close 1001 from fasthttp on shutdown")

	// Restart on the same addresses: both pages reconnect by themselves
	// and can talk again.
	d, err = start(config{pageAddr: pageAddr, adapterAddrs: addrs})
	if err != nil {
		t.Fatalf("restarting the demo on %s: %v", pageAddr, err)
	}
	ann.waitFor(`document.getElementById("status").textContent.startsWith("connected to gorilla")`,
		"ann's page reconnected to gorilla after the restart")
	bob.waitFor(`document.getElementById("status").textContent.startsWith("connected to fasthttp")`,
		"bob's page reconnected to fasthttp after the restart")
	bob.waitFor(`document.getElementById("online").textContent.includes("ann (gorilla)")`,
		"bob's page lists ann again after the restart")
	bob.say("still here")
	ann.waitForMessage("fasthttp", "bob", "still here")
}

// tab is one page of the demo in the browser.
type tab struct {
	t    *testing.T
	ctx  context.Context
	name string
}

// open loads the page with the user's name and server, which makes it
// connect at once.
func (p *tab) open(pageURL, server string) {
	p.t.Helper()
	q := url.Values{"name": {p.name}, "server": {server}}
	if err := chromedp.Do(p.ctx, chromedp.Navigate(pageURL+"?"+q.Encode())); err != nil {
		p.t.Fatalf("%s: opening the page: %v", p.name, err)
	}
	p.waitFor(fmt.Sprintf(`document.getElementById("status").textContent.startsWith("connected to %s as %s")`, server, p.name),
		p.name+"'s page connected through "+server)
}

// say types text into the page and sends it.
func (p *tab) say(text string) {
	p.t.Helper()
	err := chromedp.Do(p.ctx,
		chromedp.SendKeys(chromedp.ID("text"), text),
		chromedp.Click(chromedp.ID("send")),
	)
	if err != nil {
		p.t.Fatalf("%s: typing %q: %v", p.name, text, err)
	}
}

// waitForMessage waits until the page's log shows text from name, marked
// as having come through server.
func (p *tab) waitForMessage(server, name, text string) {
	p.t.Helper()
	want, _ := json.Marshal([]string{server, name, ": " + text})
	p.waitFor(fmt.Sprintf(`[...document.querySelectorAll("#log li")].some((li) =>
		JSON.stringify([...li.children].map((c) => c.textContent)) === %q)`, want),
		fmt.Sprintf("%s's page shows %q from %s via %s", p.name, text, name, server))
}

// waitFor waits until the JavaScript expression js is true in the page.
func (p *tab) waitFor(js, what string) {
	p.t.Helper()
	_, err := chromedp.Run(p.ctx, chromedp.Poll[bool](js,
		chromedp.WithPollingInterval(50*time.Millisecond),
		chromedp.WithPollingTimeout(20*time.Second)))
	if err != nil {
		status, _ := chromedp.Run(p.ctx, chromedp.Evaluate[string](`document.getElementById("status").textContent`))
		log, _ := chromedp.Run(p.ctx, chromedp.Evaluate[string](`document.getElementById("log").innerText`))
		p.t.Fatalf("waiting until %s: %v\nstatus: %s\nlog:\n%s", what, err, status, log)
	}
}
