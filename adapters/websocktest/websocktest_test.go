package websocktest_test

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/websock-go/websock/adapters/websocktest"
	"github.com/websock-go/websock/websock"
)

var echo = websock.HandlerFunc(func(f websock.Frame) websock.Result { return websock.Push(f) })

func TestEcho(t *testing.T) {
	c := websocktest.New(t, echo, nil)
	c.SendText("hello")
	c.ExpectText(t, "hello")
	c.SendBinary([]byte{1, 2, 3})
	c.ExpectBinary(t, []byte{1, 2, 3})
	c.SendFragmented(websock.OpText, []byte("frag"), []byte("ment"), []byte("ed"))
	c.ExpectText(t, "fragmented")
	c.Ping([]byte("p"))
	c.ExpectPong(t, []byte("p"))
	c.Close(websock.CloseNormal, "done")
	c.ExpectClose(t, websock.CloseNormal)
	if r := c.Reason(t); r.Kind != websock.KindRemote || r.Code != websock.CloseNormal {
		t.Errorf("Reason = %v; want Remote 1000", r)
	}
}

func TestInvalidUTF8(t *testing.T) {
	c := websocktest.New(t, echo, nil)
	c.SendText("\xff")
	c.ExpectClose(t, websock.CloseInvalidPayload)
	if r := c.Reason(t); !errors.Is(r.Err, websock.ErrInvalidUTF8) {
		t.Errorf("Reason = %v; want ErrInvalidUTF8", r)
	}
}

func TestMessageTooBig(t *testing.T) {
	c := websocktest.New(t, echo, &websocktest.Options{MaxMessageSize: 4})
	c.SendFragmented(websock.OpBinary, []byte("abc"), []byte("de"))
	c.ExpectClose(t, websock.CloseMessageTooBig)
	if r := c.Reason(t); !errors.Is(r.Err, websock.ErrMessageTooBig) {
		t.Errorf("Reason = %v; want ErrMessageTooBig", r)
	}
}

func TestIdleTimeout(t *testing.T) {
	c := websocktest.New(t, echo, &websocktest.Options{IdleTimeout: time.Minute, PingInterval: -1})
	c.Advance(30 * time.Second)
	c.SendText("still here")
	c.ExpectText(t, "still here")
	c.Advance(59 * time.Second) // 59 s since the last message
	c.SendText("yes")
	c.ExpectText(t, "yes")
	c.Advance(time.Minute)
	c.ExpectClose(t, websock.CloseGoingAway)
	if r := c.Reason(t); !errors.Is(r.Err, websock.ErrIdleTimeout) {
		t.Errorf("Reason = %v; want ErrIdleTimeout", r)
	}
}

func TestKeepalive(t *testing.T) {
	c := websocktest.New(t, echo, &websocktest.Options{PingInterval: 10 * time.Second, PongTimeout: 5 * time.Second})
	c.Advance(10 * time.Second)
	c.Pong(c.ExpectPing(t))
	c.SendText("after the pong") // the pong was read once the echo arrives
	c.ExpectText(t, "after the pong")
	c.Advance(10 * time.Second)
	c.ExpectPing(t)
	c.Advance(5 * time.Second) // no pong
	c.ExpectClose(t, websock.CloseGoingAway)
	if r := c.Reason(t); !errors.Is(r.Err, websock.ErrPongTimeout) {
		t.Errorf("Reason = %v; want ErrPongTimeout", r)
	}
}

// TestIdleTimeoutWithKeepalive: one timer serves both; each fires at its
// own time: the idle timeout can come before the pong timeout.
func TestIdleTimeoutWithKeepalive(t *testing.T) {
	c := websocktest.New(t, echo, &websocktest.Options{IdleTimeout: 10 * time.Second,
		PingInterval: 8 * time.Second, PongTimeout: 6 * time.Second})
	c.Advance(8 * time.Second)
	c.Pong(c.ExpectPing(t))
	c.SendText("after the pong") // read once the echo arrives
	c.ExpectText(t, "after the pong")
	c.Advance(8 * time.Second) // 16 s in, 8 s silent
	c.ExpectPing(t)
	c.Advance(2 * time.Second) // 10 s silent, 4 s before the pong timeout
	c.ExpectClose(t, websock.CloseGoingAway)
	if r := c.Reason(t); !errors.Is(r.Err, websock.ErrIdleTimeout) {
		t.Errorf("Reason = %v; want ErrIdleTimeout", r)
	}
}

type greeter struct{ conn websock.Conn }

func (g *greeter) Init(c websock.Conn) websock.Result {
	g.conn = c
	return websock.Push(websock.TextString("hello " + c.Info().Subprotocol))
}
func (g *greeter) HandleIn(f websock.Frame) websock.Result {
	if string(f.Data) == "/quit" {
		return websock.StopCode(nil, websock.CloseNormal, "bye")
	}
	return websock.OK()
}
func (g *greeter) HandleInfo(msg any) websock.Result {
	return websock.Push(websock.TextString(msg.(string)))
}
func (g *greeter) Terminate(websock.Reason) {}

func TestAcceptFunc(t *testing.T) {
	s := websocktest.NewServer(t, func(r *websock.Request) (websock.Handler, error) {
		if r.HTTPRequest().Header.Get("Authorization") != "Bearer ok" {
			return nil, websock.Refuse(http.StatusUnauthorized, "who are you?")
		}
		return &greeter{}, nil
	}, &websocktest.Options{Subprotocols: []string{"v2", "v1"}})

	if c, refused := s.Dial(nil); c != nil || refused.Status != http.StatusUnauthorized || refused.Body != "who are you?" {
		t.Fatalf("Dial without credentials: %v, %v; want 401", c, refused)
	}
	r := websocktest.NewRequest("/chat")
	r.Header.Set("Authorization", "Bearer ok")
	r.Header.Set("Sec-WebSocket-Protocol", "v1, v2")
	c, refused := s.Dial(r)
	if refused != nil {
		t.Fatalf("Dial: %v", refused)
	}
	if c.Subprotocol() != "v2" {
		t.Errorf("Subprotocol = %q; want v2", c.Subprotocol())
	}
	c.ExpectText(t, "hello v2")
	c.Info("from the mailbox")
	c.ExpectText(t, "from the mailbox")
	c.SendText("/quit")
	if text := c.ExpectClose(t, websock.CloseNormal); text != "bye" {
		t.Errorf("close text %q; want bye", text)
	}
	if r := c.Reason(t); r.Kind != websock.KindNormal {
		t.Errorf("Reason = %v; want Normal", r)
	}
}

func TestDrain(t *testing.T) {
	s := websocktest.NewServer(t, func(*websock.Request) (websock.Handler, error) { return &greeter{}, nil },
		&websocktest.Options{DrainBatch: 1, DrainInterval: 3 * time.Second})
	a, _ := s.Dial(nil)
	b, _ := s.Dial(nil)
	a.ExpectText(t, "hello ")
	b.ExpectText(t, "hello ")
	wait := s.Shutdown(t.Context())
	first := websocktest.WaitAny(t, a, b)
	first.ExpectClose(t, websock.CloseGoingAway)
	second := a
	if first == a {
		second = b
	}
	s.Advance(3 * time.Second) // the pause between the two batches
	second.ExpectClose(t, websock.CloseGoingAway)
	if err := wait(); err != nil {
		t.Fatal(err)
	}
}

// TestCloseTimeout checks that a client that never answers the close
// frame is dropped after CloseTimeout on the test's clock.
func TestCloseTimeout(t *testing.T) {
	quit := websock.HandlerFunc(func(websock.Frame) websock.Result {
		return websock.StopCode(nil, websock.CloseNormal, "bye")
	})
	c := websocktest.New(t, quit, &websocktest.Options{CloseTimeout: 3 * time.Second})
	c.SendText("quit")
	if f, err := c.Next(websocktest.Timeout); err != nil || f.Op != websock.OpClose {
		t.Fatalf("Next: %v, %v; want the close frame", f.Op, err)
	}
	select {
	case <-c.Done():
		t.Fatal("the connection ended before the close timeout")
	default:
	}
	c.Clock().WaitTimer(t, 3*time.Second) // set once the close frame went out
	c.Advance(3 * time.Second)            // no answer: the engine closes the connection
	if r := c.Reason(t); r.Kind != websock.KindNormal || r.Code != websock.CloseNormal {
		t.Errorf("Reason = %v; want Normal 1000", r)
	}
}

// watcher sees the pings its peer sends.
type watcher struct{ greeter }

func (w *watcher) HandleControl(f websock.Frame) websock.Result {
	return websock.Push(websock.TextString("saw " + f.Op.String() + " " + string(f.Data)))
}

// TestHandleControl checks that a handler's HandleControl runs, after
// the engine's own pong.
func TestHandleControl(t *testing.T) {
	c := websocktest.New(t, &watcher{}, nil)
	c.ExpectText(t, "hello ")
	c.Ping([]byte("x"))
	c.ExpectPong(t, []byte("x"))
	c.ExpectText(t, "saw "+websock.OpPing.String()+" x")
}

// TestPanic checks the engine's panic policy through the kit: close
// 1011, and Terminate sees the panic.
func TestPanic(t *testing.T) {
	boom := websock.HandlerFunc(func(websock.Frame) websock.Result { panic("boom") })
	c := websocktest.New(t, boom, &websocktest.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	c.SendText("x")
	c.ExpectClose(t, websock.CloseInternalError)
	var pe *websock.PanicError
	if r := c.Reason(t); !errors.As(r.Err, &pe) || pe.Value != "boom" {
		t.Errorf("Reason = %v; want the panic", r)
	}
}
