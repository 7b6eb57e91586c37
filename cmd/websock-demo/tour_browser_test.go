package main

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"os"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// screenshotEnv names the environment variable that makes
// TestBrowserTour write its screenshot to docs/demo.png, the picture in
// the README (make screenshot sets it).
const screenshotEnv = "WEBSOCK_UPDATE_SCREENSHOT"

// TestBrowserTour opens the demo's page as a newcomer does, with no
// parameters: it shows one chat panel per adapter, each connected at once
// under a generated name, and a message typed in one panel appears in
// every other. The test then takes the screenshot the README shows.
func TestBrowserTour(t *testing.T) {
	chromium := findChromium(t)
	d, err := start(config{pageAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { d.shutdown(context.Background()) }()

	browser := newBrowser(t, chromium, chromedp.WindowSize(1500, 1000))
	p := &tab{t: t, ctx: browser, name: "the tour"}
	if err := chromedp.Do(browser, chromedp.Navigate(d.pageURL)); err != nil {
		t.Fatalf("opening %s: %v", d.pageURL, err)
	}
	// frames is the list of the panels' documents, in the page's order.
	const frames = `[...document.querySelectorAll("#panels iframe")].map((f) => f.contentDocument)`
	p.waitFor(fmt.Sprintf(`document.querySelectorAll("#panels iframe").length === %d`, len(d.servers)),
		fmt.Sprintf("the page shows %d panels, one per adapter", len(d.servers)))
	p.waitFor(frames+`.every((doc) => doc && doc.getElementById("status") &&
		doc.getElementById("status").textContent.startsWith("connected to "))`,
		"every panel connected through its adapter without a click")
	for i, s := range d.servers {
		p.waitFor(fmt.Sprintf(`%s[%d].getElementById("status").textContent.startsWith("connected to %s on ")`, frames, i, s.Name),
			fmt.Sprintf("panel %d connected through %s", i, s.Name))
	}
	p.waitFor(frames+fmt.Sprintf(`.every((doc) => doc.getElementById("online").children.length === %d)`, len(d.servers)),
		"every panel's roster lists every panel's user")

	// Speak in the first panel and in the last.
	say := func(i int, text string) {
		t.Helper()
		js := fmt.Sprintf(`(() => { const doc = %s[%d]; doc.getElementById("text").value = %q;
			doc.getElementById("say").requestSubmit(); return true; })()`, frames, i, text)
		if _, err := chromedp.Run(browser, chromedp.Evaluate[bool](js)); err != nil {
			t.Fatalf("typing %q in panel %d: %v", text, i, err)
		}
	}
	first, last := d.servers[0].Name, d.servers[len(d.servers)-1].Name
	say(0, "hello from "+first)
	say(len(d.servers)-1, "and hello back from "+last)
	for _, text := range []string{"hello from " + first, "and hello back from " + last} {
		p.waitFor(frames+fmt.Sprintf(`.every((doc) => doc.getElementById("log").innerText.includes(%q))`, text),
			fmt.Sprintf("every panel shows %q", text))
	}
	p.waitFor(fmt.Sprintf(`document.querySelectorAll("#counters tbody tr").length === %d`, len(d.servers)+1),
		"the counters list every adapter and the long-poll fallback")
	time.Sleep(1200 * time.Millisecond) // the counters refresh every second: let the picture show this run's

	shot, err := chromedp.Run(browser, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("taking the screenshot: %v", err)
	}
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Fatalf("the screenshot is not a PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() < 1000 || b.Dy() < 600 {
		t.Errorf("the screenshot is %d×%d pixels; want at least 1000×600", b.Dx(), b.Dy())
	}
	if os.Getenv(screenshotEnv) != "" {
		if err := os.WriteFile("../../docs/demo.png", shot, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote docs/demo.png (%d bytes)", len(shot))
	}
}
