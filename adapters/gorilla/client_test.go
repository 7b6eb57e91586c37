package gorilla_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/websock-go/websock/adapters/gorilla"
	"github.com/websock-go/websock/websock"
)

type recorder struct {
	c    websock.Conn
	got  chan string
	init chan websock.Conn
}

func (r *recorder) Init(c websock.Conn) websock.Result { r.init <- c; return websock.Result{} }
func (r *recorder) HandleIn(f websock.Frame) websock.Result {
	r.got <- string(f.Data)
	return websock.Result{}
}
func (r *recorder) HandleInfo(msg any) websock.Result {
	return websock.Push(websock.Frame{Op: websock.OpText, Data: []byte(msg.(string))})
}
func (r *recorder) Terminate(websock.Reason) {}

func TestDialEcho(t *testing.T) {
	h, err := gorilla.New(func(*websock.Request) (websock.Handler, error) { return websock.HandlerFunc(echo), nil }, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	rec := &recorder{got: make(chan string, 10), init: make(chan websock.Conn, 1)}
	c, err := gorilla.Dial(context.Background(), "ws"+strings.TrimPrefix(srv.URL, "http"), rec, &gorilla.DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	<-rec.init
	if err := c.Send("hello"); err != nil {
		t.Fatal(err)
	}
	if got := <-rec.got; got != "hello" {
		t.Fatalf("got %q", got)
	}
	c.Close(websock.CloseNormal, "bye")
	r := c.Wait()
	t.Log(r)
	if r.Kind != websock.KindNormal {
		t.Fatal(r)
	}
	h.Shutdown(context.Background())
}
