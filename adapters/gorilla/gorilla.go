// Package gorilla runs websock handlers on github.com/gorilla/websocket.
//
// [New] returns an http.Handler that upgrades requests through a
// websock.AcceptFunc and runs the returned Handler; [Handler.ServeConn]
// runs one over a connection the caller upgraded itself.
//
// gorilla/websocket cannot tell a close frame with a 1-byte payload from
// one with none, so it answers that protocol error with a normal close;
// everything else in the conformance suite is supported.
package gorilla

import (
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/websock-go/websock/adapters"
	"github.com/websock-go/websock/websock"
)

// Name is this adapter's name, as shown in ConnInfo.Adapter.
const Name = "gorilla"

// Handler is an http.Handler that upgrades WebSocket requests with
// gorilla/websocket and runs websock handlers on them. Its embedded Engine
// gives Shutdown and Live.
type Handler struct {
	*adapters.Engine
	accept websock.AcceptFunc
	up     websocket.Upgrader
}

var _ http.Handler = (*Handler)(nil)

// writePool shares write buffers between connections, so that an idle
// connection holds none.
var writePool sync.Pool

// New returns a Handler that accepts upgrades through accept, configured
// by opts (nil means defaults). gorilla/websocket honours every option, so
// the error is always nil; it is there so that every adapter's New has
// the same shape.
func New(accept websock.AcceptFunc, opts *adapters.Options) (*Handler, error) {
	e, err := adapters.NewEngine(Name, opts, nil)
	if err != nil {
		return nil, err
	}
	return &Handler{
		Engine: e,
		accept: accept,
		up: websocket.Upgrader{
			EnableCompression: e.Options().Compression,
			WriteBufferPool:   &writePool,
			CheckOrigin:       func(*http.Request) bool { return true }, // the engine checked it
			Error: func(w http.ResponseWriter, _ *http.Request, status int, reason error) {
				adapters.WriteRefusal(w, websock.Refuse(status, "websocket: "+strings.TrimPrefix(reason.Error(), "websocket: ")+"\n"))
			},
		},
	}, nil
}

// ServeHTTP upgrades r and returns; the connection runs on a goroutine of
// its own until it ends (Shutdown waits for it).
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if he := adapters.CheckUpgrade(r.Method, r.Header); he != nil {
		adapters.WriteRefusal(w, he)
		return
	}
	req := adapters.NewRequest(r)
	handler, he := h.Accept(req, h.accept)
	if he != nil {
		adapters.WriteRefusal(w, he)
		return
	}
	var hdr http.Header
	sub := h.ChooseSubprotocol(req.Subprotocols)
	if sub != "" {
		hdr = http.Header{"Sec-Websocket-Protocol": {sub}}
	}
	ws, err := h.up.Upgrade(w, r, hdr)
	if err != nil {
		return // Upgrade has answered the request
	}
	compressed := h.Options().Compression && adapters.OffersCompression(r.Header)
	// Serve on a fresh goroutine and let net/http's return: the
	// connection then idles on a small stack, not below the frames of the
	// HTTP server and the upgrade (it is hijacked; net/http is done
	// with it either way).
	go h.serve(ws, adapters.NewInfo(req, sub, compressed), handler)
}

// ServeConn runs handler over ws, a connection the caller upgraded with
// gorilla/websocket, until it ends, and returns why it ended. r is the
// upgrade request, for ConnInfo; it may be nil. The connection is tracked
// by h, so h.Shutdown closes it too.
func (h *Handler) ServeConn(ws *websocket.Conn, r *http.Request, handler websock.Handler) websock.Reason {
	info := &websock.ConnInfo{RemoteAddr: ws.RemoteAddr().String(), Subprotocol: ws.Subprotocol()}
	if r != nil {
		info = adapters.NewInfo(adapters.NewRequest(r), ws.Subprotocol(), false)
	}
	return h.serve(ws, info, handler)
}

func (h *Handler) serve(ws *websocket.Conn, info *websock.ConnInfo, handler websock.Handler) websock.Reason {
	max := h.Options().MaxMessageSize
	t := &transport{ws: ws, max: max}
	c, err := h.NewConn(t, handler, info)
	if err != nil {
		t.WriteClose(websock.CloseGoingAway, "server shutting down")
		ws.Close()
		return websock.Reason{Kind: websock.KindShutdown, Code: websock.CloseGoingAway, Err: err}
	}
	ws.SetReadLimit(max) // 0: no limit
	ws.EnableWriteCompression(info.Compressed)
	ws.SetCloseHandler(func(int, string) error { return nil }) // the engine answers
	ws.SetPingHandler(func(s string) error { c.Ping([]byte(s)); return nil })
	ws.SetPongHandler(func(s string) error { c.Control(websock.OpPong, []byte(s)); return nil })
	return c.Serve()
}

// transport adapts a *websocket.Conn to adapters.Transport.
type transport struct {
	ws       *websocket.Conn
	max      int64
	buf      adapters.MessageBuffer
	deadline time.Time
	libClose atomic.Bool // gorilla sent a close frame itself
}

var (
	_ adapters.Transport = (*transport)(nil)
	_ adapters.NetConner = (*transport)(nil)
)

func (t *transport) ReadMessage() (websock.Opcode, []byte, error) {
	mt, r, err := t.ws.NextReader()
	if err != nil {
		return 0, nil, t.classify(err)
	}
	data, err := t.buf.ReadMessage(r, t.max) // the size after decompression: the library limits wire bytes
	if err == websock.ErrMessageTooBig {
		return 0, nil, err
	}
	if err != nil {
		return 0, nil, t.classify(err)
	}
	return websock.Opcode(mt), data, nil
}

// classify maps a gorilla read error to the errors adapters.Transport
// documents.
func (t *transport) classify(err error) error {
	var ce *websocket.CloseError
	var ne net.Error
	switch {
	case errors.As(err, &ce):
		if ce.Code == websocket.CloseAbnormalClosure {
			return err // unexpected EOF
		}
		return &websock.CloseError{Code: websock.CloseCode(ce.Code), Text: ce.Text}
	case errors.Is(err, websocket.ErrReadLimit):
		t.libClose.Store(true)
		return websock.ErrMessageTooBig
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.As(err, &ne), errors.Is(err, net.ErrClosed):
		return err
	case strings.HasPrefix(err.Error(), "websocket: "):
		// gorilla's protocol errors are plain errors; it has already sent
		// close 1002 for them.
		t.libClose.Store(true)
		return errors.Join(websock.ErrProtocol, err)
	}
	return errors.Join(websock.ErrProtocol, err) // e.g. corrupt compressed data
}

func (t *transport) WriteFrame(op websock.Opcode, data []byte) error {
	if op.IsControl() {
		return t.ws.WriteControl(int(op), data, t.deadline)
	}
	return t.ws.WriteMessage(int(op), data)
}

func (t *transport) WriteClose(code websock.CloseCode, text string) error {
	if t.libClose.Load() {
		return nil
	}
	var payload []byte
	if code != websock.CloseNoStatus {
		payload = websocket.FormatCloseMessage(int(code), text)
	}
	return t.ws.WriteControl(websocket.CloseMessage, payload, t.deadline)
}

func (t *transport) SetWriteDeadline(d time.Time) error {
	t.deadline = d
	return t.ws.SetWriteDeadline(d)
}

func (t *transport) Close() error      { return t.ws.Close() }
func (t *transport) NetConn() net.Conn { return t.ws.NetConn() }
