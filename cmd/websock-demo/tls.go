package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/websock-go/websock/adapters"
	"github.com/websock-go/websock/adapters/gobws"
	"github.com/websock-go/websock/adapters/longpoll"
	"github.com/websock-go/websock/cmd/internal/builtin"
)

// With -tls, the demo also serves its page over https, with HTTP/2, and
// the chat on the page's own origin, at /chat, through the built-in
// adapter that runs over HTTP/2 streams (gobws). A browser that loaded the
// page over HTTP/2 then opens its WebSocket as a stream of that same
// connection (RFC 8441), provided the server advertises extended CONNECT,
// which Go's server does only with GODEBUG=http2xconnect=1: the demo runs
// itself again with it when -tls is given. Once advertised, every
// WebSocket to that origin must accept extended CONNECT, which is why the
// adapters that cannot stay on their own plain ports.

// chatPath is where the https page's origin serves the chat.
const chatPath = "/chat"

// startTLS serves the https page and its chat on addr, with a certificate
// made for the occasion, and adds the chat's endpoint to what d shuts
// down.
func (d *demo) startTLS(addr string, opts adapters.Options) error {
	cert, err := selfSigned()
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("https listener: %w", err)
	}
	// The page and its WebSockets share one origin: the default origin
	// policy (same origin only) is the right one, unless -origin adds
	// others; the page's own is then listed with them.
	opts.CheckOrigin = nil
	if len(d.hub.origins) > 0 {
		opts.AllowedOrigins = append(pageOrigins("https://"+ln.Addr().String()+"/"), d.hub.origins...)
	}
	h, err := gobws.New(d.hub.accept, &opts)
	if err != nil {
		ln.Close()
		return err
	}
	_, p, _ := net.SplitHostPort(ln.Addr().String())
	port, _ := strconv.Atoi(p)
	d.tlsURL = "https://" + ln.Addr().String() + "/"
	endpoint := server{Name: gobws.Adapter.Name, Port: port, URL: "wss://" + ln.Addr().String() + chatPath, Node: d.hub.self.Node, Path: chatPath}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", servePage)
	mux.HandleFunc("GET /servers", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		json.NewEncoder(w).Encode([]server{endpoint})
	})
	// No method in the pattern: a WebSocket over HTTP/2 is a CONNECT.
	mux.Handle(chatPath, h)
	// The page's client, and its long-poll fallback, as on the plain page.
	mux.Handle("/longpoll", d.poll)
	mux.Handle("GET /websock.js", longpoll.ScriptHandler())
	d.metrics.handle(mux, []string{gobws.Adapter.Name})

	srv := builtin.HTTPServer(mux)
	srv.Protocols.SetHTTP2(true)
	srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
	go srv.ServeTLS(ln, "", "")
	d.tlsPage = srv
	d.running = append(d.running, &builtin.Server{Addr: ln.Addr().String(), Shutdown: h.Shutdown, Restart: h.Restart, Live: h.Live})
	return nil
}

// selfSigned returns a certificate for 127.0.0.1, ::1 and localhost,
// valid for a day, kept in memory only.
func selfSigned() (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return tls.Certificate{}, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "websock-demo"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}
