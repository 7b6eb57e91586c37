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
	if testing.Short() {
		t.Skip("drives a real Chromium; skipped with -short (make check), run by make test")
	}
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

// TestBrowserChatAcrossAdapters drives one page of the demo per adapter in
// a real headless Chromium, so that a real browser's WebSocket client, with
// its permessage-deflate offer, talks to every adapter. A message typed in
// one page appears in every other, naming the server it came through; every
// page sees close 1001 when the demo shuts down, and reconnects by itself
// when the demo comes back on the same addresses.
func TestBrowserChatAcrossAdapters(t *testing.T) {
	chromium := findChromium(t)
	d, err := start(config{pageAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { d.shutdown(context.Background()) }()

	browser := newBrowser(t, chromium)

	// One tab per adapter, the first in the browser's first tab.
	var tabs []*tab
	for i, s := range d.servers {
		ctx := browser
		if i > 0 {
			var cancel context.CancelFunc
			ctx, cancel = chromedp.NewContext(browser)
			defer cancel()
		}
		p := &tab{t: t, ctx: ctx, name: "user-" + s.Name, server: s.Name}
		p.open(d.pageURL)
		p.waitFor(`document.getElementById("status").textContent.endsWith(", compressed")`,
			p.name+"'s page negotiated permessage-deflate with "+s.Name)
		tabs = append(tabs, p)
	}
	first, last := tabs[0], tabs[len(tabs)-1]
	for _, p := range tabs {
		p.waitFor(fmt.Sprintf(`document.getElementById("online").children.length === %d`, len(tabs)),
			fmt.Sprintf("%s's page lists all %d users online", p.name, len(tabs)))
	}

	// The counters section shows every adapter; the first server's count
	// of messages received goes up when the first page speaks.
	inCell := fmt.Sprintf(`document.querySelector('#counters tr[data-adapter="%s"] .in')`, first.server)
	first.waitFor(fmt.Sprintf(`document.querySelectorAll("#counters tbody tr").length === %d && %s.textContent !== ""`, len(tabs)+1, inCell),
		"the counters section lists every adapter and the long-poll fallback")
	before := first.number(inCell + ".textContent")
	first.say("hello from " + first.server)
	for _, p := range tabs {
		p.waitForMessage(first, "hello from "+first.server)
	}
	first.waitFor(fmt.Sprintf(`Number(%s.textContent) > %d`, inCell, before),
		fmt.Sprintf("the counters section shows %s's messages in going up from %d", first.server, before))
	last.waitFor(fmt.Sprintf(`Number(document.querySelector('#counters tr[data-adapter="%s"] .live').textContent) >= 1`, last.server),
		"the counters section shows a live connection on "+last.server)
	last.say("hello back from " + last.server)
	first.waitForMessage(last, "hello back from "+last.server)

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
	for _, p := range tabs {
		p.waitFor(fmt.Sprintf(`document.getElementById("lastclose").textContent.startsWith("%s closed with 1001")`, p.server),
			p.name+"'s page saw close 1001 from "+p.server+" on shutdown")
	}

	// Restart on the same addresses: every page reconnects by itself and
	// can talk again.
	d, err = start(config{pageAddr: pageAddr, adapterAddrs: addrs})
	if err != nil {
		t.Fatalf("restarting the demo on %s: %v", pageAddr, err)
	}
	for _, p := range tabs {
		p.waitFor(fmt.Sprintf(`document.getElementById("status").textContent.startsWith("connected to %s")`, p.server),
			p.name+"'s page reconnected to "+p.server+" after the restart")
	}
	first.waitFor(fmt.Sprintf(`document.getElementById("online").children.length === %d`, len(tabs)),
		"the first page lists every user again after the restart")
	last.say("still here")
	first.waitForMessage(last, "still here")
}

// newBrowser starts a headless Chromium, with extra options if any, closed
// when the test ends, and returns the context of its first tab.
func newBrowser(t *testing.T, chromium string, extra ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), append(opts, extra...)...)
	t.Cleanup(cancelAlloc)
	browser, cancelBrowser := chromedp.NewContext(allocCtx)
	t.Cleanup(cancelBrowser)
	if err := chromedp.Do(browser); err != nil { // starts the browser with its first tab
		t.Fatalf("starting %s: %v", chromium, err)
	}
	return browser
}

// tab is one page of the demo in the browser.
type tab struct {
	t      *testing.T
	ctx    context.Context
	name   string
	server string // the adapter it connects through
}

// open loads the page with the user's name and server, which makes it
// connect at once.
func (p *tab) open(pageURL string) {
	p.t.Helper()
	server := p.server
	q := url.Values{"name": {p.name}, "server": {server}}
	if err := chromedp.Do(p.ctx, chromedp.Navigate(pageURL+"?"+q.Encode())); err != nil {
		p.t.Fatalf("%s: opening the page: %v", p.name, err)
	}
	p.waitFor(fmt.Sprintf(`document.getElementById("status").textContent.startsWith("connected to %s on ") &&
		document.getElementById("status").textContent.includes(" as %s")`, server, p.name),
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

// waitForMessage waits until the page's log shows text from the user of
// tab from, marked as having come through from's server.
func (p *tab) waitForMessage(from *tab, text string) {
	p.t.Helper()
	server, name := from.server, from.name
	want, _ := json.Marshal([]string{server, name, ": " + text})
	p.waitFor(fmt.Sprintf(`[...document.querySelectorAll("#log li")].some((li) =>
		JSON.stringify([...li.children].map((c) => c.textContent)) === %q)`, want),
		fmt.Sprintf("%s's page shows %q from %s via %s", p.name, text, name, server))
}

// number evaluates the JavaScript expression js in the page as a number.
func (p *tab) number(js string) int {
	p.t.Helper()
	n, err := chromedp.Run(p.ctx, chromedp.Evaluate[float64](`Number(`+js+`)`))
	if err != nil {
		p.t.Fatalf("%s: evaluating %s: %v", p.name, js, err)
	}
	return int(n)
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
