//lint:file-ignore SA1019 net/http's own client refuses the :protocol pseudo-header of RFC 8441, which golang.org/x/net/http2's sends

package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
	gorillaws "github.com/gorilla/websocket"
	"golang.org/x/net/http2"
)

// startTLSDemo starts the demo with its https page, shut down when the
// test ends, and returns it with a certificate pool that trusts it.
func startTLSDemo(t *testing.T) (*demo, *x509.CertPool) {
	t.Helper()
	d, err := start(config{pageAddr: "127.0.0.1:0", tlsAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := d.shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	leaf, err := x509.ParseCertificate(d.tlsPage.TLSConfig.Certificates[0].Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(leaf)
	return d, roots
}

// TestTLSChatOverHTTP2 opens the https page's chat as an RFC 8441 client
// does (golang.org/x/net/http2: extended CONNECT on a TLS connection that
// negotiated h2), and chats with a client connected over HTTP/1.1 to a
// plain port: the server reports HTTP/2.0 to the first, HTTP/1.1 to the
// second, and their messages cross.
func TestTLSChatOverHTTP2(t *testing.T) {
	d, roots := startTLSDemo(t)
	u, _ := url.Parse(d.tlsURL)

	tcp, err := tls.Dial("tcp", u.Host, &tls.Config{RootCAs: roots, NextProtos: []string{"h2"}, ServerName: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	defer tcp.Close()
	if p := tcp.ConnectionState().NegotiatedProtocol; p != "h2" {
		t.Fatalf("the https page's server negotiated %q; want h2", p)
	}
	cc, err := (&http2.Transport{}).NewClientConn(tcp)
	if err != nil {
		t.Fatal(err)
	}
	pr, pw := io.Pipe()
	defer pw.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodConnect, d.tlsURL+strings.TrimPrefix(chatPath, "/")+"?name=h2-client", pr)
	req.Header = http.Header{":protocol": {"websocket"}, "Sec-Websocket-Version": {"13"}, "Origin": {strings.TrimSuffix(d.tlsURL, "/")}}
	resp, err := cc.RoundTrip(req)
	if err != nil {
		t.Fatalf("extended CONNECT to %s: %v", chatPath, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("extended CONNECT to %s answered %s; want 200", chatPath, resp.Status)
	}
	h2 := struct {
		io.Reader
		io.Writer
	}{bufio.NewReader(resp.Body), pw}
	welcome := readEvent(t, h2, "welcome")
	if welcome.Proto != "HTTP/2.0" || welcome.Server != "gobws" {
		t.Fatalf("the chat over HTTP/2 was welcomed as %+v; want server gobws over HTTP/2.0", welcome)
	}

	var plain server
	for _, s := range d.servers {
		if s.Name == "gorilla" {
			plain = s
		}
	}
	h1, _, err := gorillaws.DefaultDialer.Dial(plain.URL+"?name=h1-client", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer h1.Close()
	h1.SetReadDeadline(time.Now().Add(20 * time.Second))
	var w event
	for w.Type != "welcome" {
		if err := h1.ReadJSON(&w); err != nil {
			t.Fatal(err)
		}
	}
	if w.Proto != "HTTP/1.1" {
		t.Fatalf("the chat over HTTP/1.1 was welcomed as %+v; want HTTP/1.1", w)
	}

	say, _ := json.Marshal(command{Type: "say", Text: "hello over h2"})
	if err := wsutil.WriteClientText(h2, say); err != nil {
		t.Fatal(err)
	}
	for {
		var ev event
		if err := h1.ReadJSON(&ev); err != nil {
			t.Fatalf("the HTTP/1.1 client waiting for the HTTP/2 client's message: %v", err)
		}
		if ev.Type == "message" && ev.Text == "hello over h2" && ev.Name == "h2-client" {
			break
		}
	}
	if err := h1.WriteJSON(command{Type: "say", Text: "hello over h1"}); err != nil {
		t.Fatal(err)
	}
	for {
		ev := readEvent(t, h2, "message")
		if ev.Text == "hello over h1" && ev.Name == "h1-client" {
			break
		}
	}
}

// readEvent reads events from the server over rw until one of type typ.
func readEvent(t *testing.T, rw io.ReadWriter, typ string) event {
	t.Helper()
	for range 100 {
		data, op, err := wsutil.ReadServerData(rw)
		if err != nil {
			t.Fatalf("waiting for a %s event: %v", typ, err)
		}
		var ev event
		if op != ws.OpText || json.Unmarshal(data, &ev) != nil {
			t.Fatalf("the server sent %v %q; want JSON text", op, data)
		}
		if ev.Type == typ {
			return ev
		}
	}
	t.Fatalf("no %s event in 100", typ)
	return event{}
}

// TestBrowserChatOverHTTP2 opens the https page in headless Chromium,
// whose WebSocket to the page's own origin goes over the page's HTTP/2
// connection, and a plain http page whose WebSocket goes over HTTP/1.1:
// each page shows the protocol the server saw its WebSocket arrive on
// (the Proto of the request, sent in the welcome), and they chat.
func TestBrowserChatOverHTTP2(t *testing.T) {
	chromium := findChromium(t)
	d, _ := startTLSDemo(t)
	browser := newBrowser(t, chromium, chromedp.Flag("ignore-certificate-errors", true))

	h2 := &tab{t: t, ctx: browser, name: "h2-user", server: "gobws"}
	h2.open(d.tlsURL)
	h2.waitFor(`document.getElementById("status").dataset.proto === "HTTP/2.0"`,
		"the https page's WebSocket runs over HTTP/2")
	h2.waitFor(`document.getElementById("status").textContent.endsWith(", compressed")`,
		"the https page's WebSocket negotiated permessage-deflate over HTTP/2")

	ctx, cancel := chromedp.NewContext(browser)
	defer cancel()
	h1 := &tab{t: t, ctx: ctx, name: "h1-user", server: "gorilla"}
	h1.open(d.pageURL)
	h1.waitFor(`document.getElementById("status").dataset.proto === "HTTP/1.1"`,
		"the http page's WebSocket runs over HTTP/1.1")

	for _, p := range []*tab{h1, h2} {
		p.waitFor(`[...document.querySelectorAll("#online li")].map((li) => li.textContent).sort().join("|") ===
			"h1-user (gorilla on `+d.hub.self.Node+`)|h2-user (gobws on `+d.hub.self.Node+`, HTTP/2.0)"`,
			fmt.Sprintf("%s's page lists both users, the one over HTTP/2 marked so", p.name))
	}
	h2.say("hello over h2")
	h1.waitForMessage(h2, "hello over h2")
	h1.say("hello over h1")
	h2.waitForMessage(h1, "hello over h1")
}
