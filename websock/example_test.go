package websock_test

import (
	"fmt"
	"net/http/httptest"
	"net/url"
	"strings"
	"time"

	"github.com/gorilla/websocket"

	"github.com/websock-go/websock/adapters/gorilla"
	"github.com/websock-go/websock/websock"
)

// counter is a Handler: it numbers every message it echoes, and stops when
// told to. Its fields need no lock: callbacks never run concurrently.
type counter struct {
	n     int
	ended chan<- websock.Reason // receives the Reason from Terminate, if set
}

func (c *counter) Init(conn websock.Conn) websock.Result {
	return websock.Push(websock.TextString("welcome"))
}

func (c *counter) HandleIn(f websock.Frame) websock.Result {
	if string(f.Data) == "bye" {
		return websock.StopCode(nil, websock.CloseNormal, "see you")
	}
	c.n++
	return websock.Push(websock.TextString(fmt.Sprintf("%d: %s", c.n, f.Data)))
}

func (c *counter) HandleInfo(msg any) websock.Result {
	return websock.Push(websock.TextString(fmt.Sprint("info: ", msg)))
}

// Terminate runs on the server's goroutine; it hands the Reason over
// rather than printing it, so that the example prints in a fixed order.
func (c *counter) Terminate(r websock.Reason) {
	if c.ended != nil {
		c.ended <- r
	}
}

// A Handler written once runs on any adapter; here it is served by the
// gorilla adapter.
func ExampleHandler() {
	ended := make(chan websock.Reason, 1)
	h, err := gorilla.New(func(*websock.Request) (websock.Handler, error) {
		return &counter{ended: ended}, nil
	}, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	srv := httptest.NewServer(h)
	defer srv.Close()

	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer ws.Close()
	read := func() {
		_, msg, err := ws.ReadMessage()
		if err != nil {
			fmt.Println("closed:", err)
			return
		}
		fmt.Println(string(msg))
	}
	read()
	ws.WriteMessage(websocket.TextMessage, []byte("hello"))
	read()
	ws.WriteMessage(websocket.TextMessage, []byte("bye"))
	read()
	select {
	case r := <-ended: // Terminate has run
		fmt.Println("terminated:", r.Kind, r.Code)
	case <-time.After(5 * time.Second):
		fmt.Println("Terminate did not run")
	}
	// Output:
	// welcome
	// 1: hello
	// closed: websocket: close 1000 (normal): see you
	// terminated: normal 1000 (normal closure)
}

// HandlerFunc is enough for a connection that only answers messages.
func ExampleHandlerFunc() {
	echo := websock.HandlerFunc(func(f websock.Frame) websock.Result {
		return websock.Push(f)
	})
	r := echo.HandleIn(websock.TextString("ping"))
	fmt.Println(r.NumFrames(), string(r.Frame(0).Data), r.IsStop())
	// Output: 1 ping false
}

// An AcceptFunc sees the upgrade request on every adapter and may refuse
// it with an HTTP status.
func ExampleAcceptFunc() {
	var accept websock.AcceptFunc = func(r *websock.Request) (websock.Handler, error) {
		if r.URL.Query().Get("token") != "secret" {
			return nil, websock.Refuse(401, "a valid token is required")
		}
		return &counter{}, nil
	}
	_, err := accept(&websock.Request{URL: mustURL("/chat?token=wrong")})
	fmt.Println(err)
	// Output: websock: upgrade refused with HTTP 401: a valid token is required
}

// Stop maps a reason to the close code of the table on Reason.
func ExampleStop() {
	for _, r := range []websock.Result{
		websock.Stop(nil),
		websock.Stop(websock.ErrRestart),
		websock.Stop(fmt.Errorf("database down")),
		websock.StopCode(nil, 4000, "kicked"),
	} {
		reason, code, text := r.StopReason()
		fmt.Printf("stop=%v reason=%v code=%d text=%q\n", r.IsStop(), reason, code, text)
	}
	// Output:
	// stop=true reason=<nil> code=0 text=""
	// stop=true reason=websock: service restart code=0 text=""
	// stop=true reason=database down code=0 text=""
	// stop=true reason=<nil> code=4000 text="kicked"
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}
