package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/websock-go/websock/adapters"
	"github.com/websock-go/websock/adapters/gorilla"
	"github.com/websock-go/websock/cmd/internal/builtin"
	"github.com/websock-go/websock/websock"
)

// TestDialTLS dials a wss:// echo server with every client adapter, with
// the server's certificate trusted through DialOptions.TLSConfig.
func TestDialTLS(t *testing.T) {
	h, err := gorilla.New(func(*websock.Request) (websock.Handler, error) {
		return websock.HandlerFunc(func(f websock.Frame) websock.Result { return websock.Push(f) }), nil
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewTLSServer(h)
	defer srv.Close()
	defer h.Shutdown(context.Background())
	url := "wss" + strings.TrimPrefix(srv.URL, "https") + "/"
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	for _, c := range builtin.Clients() {
		t.Run(c.Name, func(t *testing.T) {
			ch := &crossHandler{got: make(chan websock.Frame, 1), init: make(chan *websock.ConnInfo, 1)}
			cl, err := c.Dial(context.Background(), url, ch, &adapters.DialOptions{TLSConfig: &tls.Config{RootCAs: roots}})
			if err != nil {
				t.Fatal(err)
			}
			defer func() {
				cl.Close(websock.CloseNormal, "")
				cl.Wait()
			}()
			<-ch.init
			cl.Send(websock.Frame{Op: websock.OpText, Data: []byte("over TLS")})
			if f := <-ch.got; string(f.Data) != "over TLS" {
				t.Errorf("echo %q, want \"over TLS\"", f.Data)
			}
		})
	}
	if _, err := gorilla.Dial(context.Background(), url, websock.HandlerFunc(nil), nil); err == nil || !strings.Contains(err.Error(), "TLS") {
		t.Errorf("Dial without trusting the test certificate: %v, want a TLS error", err)
	}
}
