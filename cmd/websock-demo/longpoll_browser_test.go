package main

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// blockWebSockets makes window.WebSocket throw in every page the tab
// loads from now on, as a browser behind a proxy that breaks WebSockets
// cannot open one.
func blockWebSockets(t *testing.T, ctx context.Context) {
	t.Helper()
	block := func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		_, err := cdp.Call(ctx, tg, cdppage.AddScriptToEvaluateOnNewDocument, cdppage.AddScriptToEvaluateOnNewDocumentParams{
			Source: `window.WebSocket = function () { throw new Error("WebSockets are blocked on this page"); };`,
		})
		return chromedp.Void{}, err
	}
	err := chromedp.Do(ctx, block)
	if err != nil {
		t.Fatalf("blocking WebSockets: %v", err)
	}
}

// TestBrowserLongPollFallback drives two pages of the demo in a real
// headless Chromium: one whose WebSockets are blocked, which falls back to
// long-polling through websock.js, and one on a WebSocket. They chat both
// ways, each page shows the transport it uses, and the long-poll page sees
// close 1001 when the demo shuts down.
func TestBrowserLongPollFallback(t *testing.T) {
	chromium := findChromium(t)
	d, err := start(config{pageAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { d.shutdown(context.Background()) }()
	browser := newBrowser(t, chromium)

	ws := &tab{t: t, ctx: browser, name: "user-ws", server: "gorilla"}
	ws.open(d.pageURL)
	ws.waitFor(`document.getElementById("transport").textContent === "websocket"`, "the WebSocket page shows its transport")

	ctx, cancel := chromedp.NewContext(browser)
	defer cancel()
	blockWebSockets(t, ctx)
	// The page picks its first server, whose WebSocket cannot open, and
	// falls back: it connects through the longpoll adapter.
	lp := &tab{t: t, ctx: ctx, name: "user-lp", server: "longpoll"}
	lp.open(d.pageURL)
	lp.waitFor(`typeof WebSocket === "function" && (() => { try { new WebSocket("ws://127.0.0.1:1/"); return false } catch (e) { return true } })()`,
		"the long-poll page cannot open a WebSocket")
	lp.waitFor(`document.getElementById("transport").textContent === "longpoll"`, "the long-poll page shows its transport")

	for _, p := range []*tab{ws, lp} {
		p.waitFor(`document.getElementById("online").children.length === 2`, p.name+"'s page lists both users online")
	}
	ws.say("hello over a WebSocket")
	lp.waitForMessage(ws, "hello over a WebSocket")
	lp.say("hello over long-polling")
	ws.waitForMessage(lp, "hello over long-polling")
	lp.say("héllo again, ünïcode")
	ws.waitForMessage(lp, "héllo again, ünïcode")

	ctx, cancelShutdown := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancelShutdown()
	if err := d.shutdown(ctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	lp.waitFor(`document.getElementById("lastclose").textContent.startsWith("longpoll closed with 1001")`,
		"the long-poll page saw close 1001 on shutdown")
}
