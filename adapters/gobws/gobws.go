// Package gobws runs websock handlers on github.com/gobwas/ws.
//
// gobwas/ws reads and writes frames, not messages; this adapter does the
// rest itself, per RFC 6455: it reassembles fragmented messages (control
// frames may come between fragments), answers pings through the engine,
// validates the close frames it receives, checks text messages for valid
// UTF-8 as their bytes arrive, enforces MaxMessageSize from the frame
// headers before it buffers a message, and speaks permessage-deflate
// (RFC 7692) through github.com/gobwas/ws/wsflate when
// adapters.Options.Compression is on.
//
// [New] returns an http.Handler that upgrades requests with
// ws.HTTPUpgrader; [Handler.ServeConn] runs a handler over a connection
// the caller upgraded with gobwas/ws itself.
//
// An idle connection holds one goroutine and a few hundred bytes of its
// own: read and write buffers, and the compressor and decompressor, come
// from pools and are held only while a frame is being read or written, so
// a steady stream of messages allocates nothing.
//
// Everything in the conformance suite is supported. The limits are in
// compression: permessage-deflate is negotiated without context takeover
// in either direction, so that no compression state outlives a message
// (repetitive streams of small messages compress less than with context
// takeover), and an offer that restricts the server's window
// (server_max_window_bits) is declined, so the connection runs
// uncompressed. The adapter serves the server side of a connection only.
package gobws

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/gobwas/httphead"
	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsflate"

	"github.com/websock-go/websock/adapters"
	"github.com/websock-go/websock/websock"
)

// Name is this adapter's name, as shown in ConnInfo.Adapter.
const Name = "gobws"

// keyLen is the length of a valid Sec-WebSocket-Key: 16 bytes in base64.
const keyLen = 24

// Handler is an http.Handler that upgrades WebSocket requests with
// gobwas/ws and runs websock handlers on them. Its embedded Engine gives
// Shutdown and Live.
type Handler struct {
	*adapters.Engine
	accept websock.AcceptFunc
	opts   adapters.Options
}

var _ http.Handler = (*Handler)(nil)

// New returns a Handler that accepts upgrades through accept, configured
// by opts (nil means defaults). gobwas/ws honours every option, so the
// error is always nil; every adapter's New has the same shape.
func New(accept websock.AcceptFunc, opts *adapters.Options) (*Handler, error) {
	e, err := adapters.NewEngine(Name, opts, nil)
	if err != nil {
		return nil, err
	}
	return &Handler{Engine: e, accept: accept, opts: e.Options()}, nil
}

// ServeHTTP upgrades r and returns; the connection runs until it ends.
//
// The connection runs on a goroutine of its own and ServeHTTP returns as
// soon as the upgrade is done, so that the buffers net/http keeps for the
// request are freed rather than held for the connection's whole life.
// Shutdown waits for every such goroutine's connection to terminate.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if he := adapters.CheckUpgrade(r.Method, r.Header); he != nil {
		adapters.WriteRefusal(w, he)
		return
	}
	if len(r.Header.Get("Sec-WebSocket-Key")) != keyLen {
		// Refused here rather than by the upgrade, so that no handler is
		// made for a request that cannot be upgraded.
		adapters.WriteRefusal(w, websock.Refuse(http.StatusBadRequest,
			"websocket: Sec-WebSocket-Key must be 16 bytes in base64 (RFC 6455, section 4.1)\n"))
		return
	}
	req := adapters.NewRequest(r)
	handler, he := h.Accept(req, h.accept)
	if he != nil {
		adapters.WriteRefusal(w, he)
		return
	}
	u := ws.HTTPUpgrader{Timeout: h.opts.WriteTimeout}
	sub := h.ChooseSubprotocol(req.Subprotocols)
	if sub != "" {
		u.Protocol = func(p string) bool { return p == sub }
	}
	var ext *wsflate.Extension
	if h.opts.Compression && adapters.OffersCompression(r.Header) {
		ext = &wsflate.Extension{Parameters: wsflate.DefaultParameters}
		u.Negotiate = func(offer httphead.Option) (httphead.Option, error) {
			accept, err := ext.Negotiate(offer)
			if err != nil {
				// An offer with parameters RFC 7692 does not define is
				// declined (section 5), not a reason to fail the upgrade.
				return httphead.Option{}, nil
			}
			return accept, nil
		}
	}
	nc, rw, _, err := u.Upgrade(r, w)
	if err != nil {
		if nc != nil {
			nc.Close() // Upgrade has written the refusal
		}
		return
	}
	compressed := false
	if ext != nil {
		_, compressed = ext.Accepted()
	}
	pre := readAhead(rw.Reader)
	info := adapters.NewInfo(req, sub, compressed)
	go h.serve(nc, pre, compressed, info, handler)
}

// ServeConn runs handler over nc, a connection the caller upgraded with
// gobwas/ws (ws.Upgrader or ws.HTTPUpgrader), until it ends, and returns
// why it ended. br is the reader the upgrade returned, if any: the bytes
// it buffered past the handshake are read first. hs is the upgrade's
// result: its subprotocol goes to ConnInfo, and permessage-deflate is used
// if it was negotiated. r is the upgrade request, for ConnInfo; it may be
// nil. The connection is tracked by h, so h.Shutdown closes it too.
//
// Permessage-deflate must have been negotiated with client_no_context_takeover,
// as wsflate.DefaultParameters does; otherwise, and when h is shutting
// down, the handler is not run: ServeConn closes nc and returns the reason.
func (h *Handler) ServeConn(nc net.Conn, br *bufio.Reader, hs ws.Handshake, r *http.Request, handler websock.Handler) websock.Reason {
	info := &websock.ConnInfo{RemoteAddr: nc.RemoteAddr().String()}
	if r != nil {
		info = adapters.NewInfo(adapters.NewRequest(r), "", false)
	}
	info.Subprotocol = hs.Protocol
	compressed, err := deflateNegotiated(hs)
	if err != nil {
		refuse(nc, h.opts.WriteTimeout, websock.CloseInternalError, "unsupported permessage-deflate parameters")
		return websock.Reason{Kind: websock.KindError, Code: websock.CloseInternalError, Err: err}
	}
	info.Compressed = compressed
	return h.serve(nc, readAhead(br), compressed, info, handler)
}

// errContextTakeover refuses a connection whose permessage-deflate
// parameters let the client compress a message with the previous ones as
// context, which the pooled per-message decompressors cannot follow.
var errContextTakeover = errors.New("gobws: permessage-deflate negotiated without client_no_context_takeover; negotiate wsflate.DefaultParameters")

// deflateNegotiated reports whether hs negotiated permessage-deflate, and
// fails if it did so with parameters the adapter cannot serve.
func deflateNegotiated(hs ws.Handshake) (bool, error) {
	for _, opt := range hs.Extensions {
		if !bytes.Equal(opt.Name, wsflate.ExtensionNameBytes) {
			continue
		}
		var p wsflate.Parameters
		if err := p.Parse(opt); err != nil {
			return false, fmt.Errorf("gobws: negotiated permessage-deflate parameters: %w", err)
		}
		if !p.ClientNoContextTakeover {
			return false, errContextTakeover
		}
		return true, nil
	}
	return false, nil
}

// readAhead returns a copy of what br buffered past the handshake, or nil,
// so that br itself need not be kept.
func readAhead(br *bufio.Reader) []byte {
	if br == nil || br.Buffered() == 0 {
		return nil
	}
	p, _ := br.Peek(br.Buffered())
	return bytes.Clone(p)
}

// refuse writes a close frame and closes nc, for a connection the engine
// will not run.
func refuse(nc net.Conn, timeout time.Duration, code websock.CloseCode, text string) {
	if timeout > 0 {
		nc.SetWriteDeadline(time.Now().Add(timeout))
	}
	t := &transport{nc: nc}
	t.WriteClose(code, text)
	nc.Close()
}

// serve runs handler over nc until the connection ends.
func (h *Handler) serve(nc net.Conn, pre []byte, compressed bool, info *websock.ConnInfo, handler websock.Handler) websock.Reason {
	t := newTransport(nc, pre, compressed, &h.opts)
	c, err := h.NewConn(t, handler, info)
	if err != nil {
		refuse(nc, h.opts.WriteTimeout, websock.CloseGoingAway, "server shutting down")
		return websock.Reason{Kind: websock.KindShutdown, Code: websock.CloseGoingAway, Err: err}
	}
	t.conn = c
	reason := c.Serve()
	t.release()
	return reason
}
