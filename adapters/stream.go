package adapters

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/websock-go/websock/websock"
)

// WebSockets over HTTP/2 (RFC 8441). A browser opens one as a stream of an
// HTTP/2 connection it already holds, with a CONNECT request whose
// :protocol pseudo-header is websocket, once the server has advertised
// SETTINGS_ENABLE_CONNECT_PROTOCOL. Go's HTTP/2 server advertises it only
// when the environment holds GODEBUG=http2xconnect=1 as the program
// starts; from then on, browsers open every WebSocket to that server over
// HTTP/2 and never fall back to HTTP/1.1.

// StreamUpgradeFunc runs a library over s, the HTTP/2 stream of an
// extended CONNECT request that the engine accepted: it puts in s.Header()
// the response headers the library negotiates (Sec-WebSocket-Extensions;
// the engine sets Sec-WebSocket-Protocol itself) and returns the
// connection, without writing to s. The engine then answers 200 and runs
// the connection over s on the request's goroutine, which net/http keeps
// until the connection ends. On failure, the engine answers 500.
type StreamUpgradeFunc func(s *Stream, u Upgrade) (Upgraded, error)

// ServeHTTPStreams is [Engine.ServeHTTP] for an adapter whose library can
// also run over an HTTP/2 stream: a request with the extended CONNECT
// method of RFC 8441 is upgraded with stream, any other with up. Unlike an
// HTTP/1.1 connection, which runs on a goroutine of its own once
// ServeHTTPStreams returned, a stream runs on the calling goroutine and
// ServeHTTPStreams returns once it has ended: net/http ends the stream
// when its handler returns. [Engine.Shutdown] closes streams as it closes
// every connection; call it before the http.Server's own Shutdown, which
// waits for them.
func (e *Engine) ServeHTTPStreams(w http.ResponseWriter, r *http.Request, up HTTPUpgradeFunc, stream StreamUpgradeFunc) {
	e.Serve(&httpHandshake{w: w, r: r, up: up, stream: stream, detach: true})
}

// checkStream refuses an extended CONNECT request (RFC 8441, section 5)
// that does not ask for a WebSocket (400) or that the adapter cannot serve
// (501), and one with an unsupported version (426).
func (e *Engine) checkStream(header http.Header) *websock.HTTPError {
	switch {
	case !strings.EqualFold(header.Get(":protocol"), "websocket"):
		return websock.Refuse(http.StatusBadRequest, "websocket: a CONNECT request opens a WebSocket only with the :protocol pseudo-header websocket (RFC 8441 section 4)\n")
	case e.ad.Lacks.HTTP2 != "":
		return websock.Refuse(http.StatusNotImplemented, fmt.Sprintf(
			"websocket: adapter %s cannot serve WebSockets over HTTP/2 (%s); connect over HTTP/1.1, and do not enable extended CONNECT (GODEBUG=http2xconnect=1) on a server that runs this adapter\n",
			e.ad.Name, e.ad.Lacks.HTTP2))
	}
	return checkVersion(header)
}

// errNoStream is the error of an extended CONNECT request that reached an
// adapter which declared HTTP/2 support but gave no StreamUpgradeFunc.
var errNoStream = errors.New("websock: the adapter declares HTTP/2 support but serves requests with Engine.ServeHTTP; use Engine.ServeHTTPStreams")

// upgradeStream answers an extended CONNECT request with 200, once the
// library runs over its stream, and runs the connection until it ends.
func (h *httpHandshake) upgradeStream(u Upgrade, serve func(Upgraded)) error {
	if h.stream == nil {
		h.Refuse(websock.Refuse(http.StatusNotImplemented, "websocket: this endpoint does not serve WebSockets over HTTP/2\n"))
		return errNoStream
	}
	s := newStream(h.w, h.r)
	// The server's ReadTimeout and WriteTimeout apply to each stream; they
	// would end a WebSocket that lives longer, whatever it does. The
	// engine's IdleTimeout and WriteTimeout govern it instead.
	s.rc.SetReadDeadline(time.Time{})
	s.rc.SetWriteDeadline(time.Time{})
	up, err := h.stream(s, u)
	if err != nil {
		h.Refuse(websock.Refuse(http.StatusInternalServerError, "websocket upgrade failed\n"))
		return err
	}
	if u.Subprotocol != "" {
		h.w.Header().Set("Sec-WebSocket-Protocol", u.Subprotocol)
	}
	// The answer must go out now: net/http holds a response's headers
	// until its body is written, and the client writes nothing before it
	// sees them.
	h.w.WriteHeader(http.StatusOK)
	if err := s.rc.Flush(); err != nil {
		up.Transport.Close()
		if rel, ok := up.Transport.(Releaser); ok {
			rel.Release()
		}
		return fmt.Errorf("answering the extended CONNECT request: %w", err)
	}
	defer s.end()
	serve(up)
	return nil
}

// Stream is the HTTP/2 stream of a WebSocket (RFC 8441), as a net.Conn for
// a library to run over: Read reads the request's body; Write writes to
// the response and flushes it; Close ends both, at once, from any
// goroutine. The engine makes it (see [StreamUpgradeFunc]); once the
// connection has ended, every method fails with net.ErrClosed.
//
// The read deadline is the stream's own, set through
// http.ResponseController: once it passes, net/http ends reading for good,
// unlike on a TCP connection. The write deadline applies to each Write,
// as on a TCP connection.
type Stream struct {
	w             http.ResponseWriter
	r             *http.Request
	rc            *http.ResponseController
	local, remote net.Addr

	wmu      sync.Mutex    // held by a Write under way
	timedOut bool          // a Write outlived the write deadline; guarded by wmu
	timer    *time.Timer   // resets the stream when a Write outlives the deadline; guarded by wmu
	done     chan struct{} // closed by Close

	mu      sync.Mutex
	wdl     time.Time // the write deadline
	writing bool      // a Write is under way
	closed  bool      // Close was called
	ended   bool      // the request's handler is returning: w may not be used
}

var _ net.Conn = (*Stream)(nil)

func newStream(w http.ResponseWriter, r *http.Request) *Stream {
	s := &Stream{w: w, r: r, rc: http.NewResponseController(w), remote: streamAddr(r.RemoteAddr), done: make(chan struct{})}
	if a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		s.local = a
	} else {
		s.local = streamAddr("")
	}
	return s
}

// Request returns the extended CONNECT request that opened the stream.
func (s *Stream) Request() *http.Request { return s.r }

// Header returns the headers of the response, to be set before the
// engine answers the request.
func (s *Stream) Header() http.Header { return s.w.Header() }

// Read reads what the peer sent on the stream.
func (s *Stream) Read(p []byte) (int, error) {
	n, err := s.r.Body.Read(p)
	if err != nil {
		// A write that times out resets the whole stream, and so fails
		// reading too: let the write's failure end the connection (the
		// engine closes the stream once it has), so that it ends as one
		// whose peer stopped reading, as over TCP.
		s.wmu.Lock()
		timedOut := s.timedOut
		s.wmu.Unlock()
		if timedOut {
			select {
			case <-s.done:
			case <-time.After(time.Second):
			}
		}
		if s.isClosed() {
			err = net.ErrClosed
		}
	}
	return n, err
}

// Write writes p to the stream and flushes it, within the write
// deadline.
func (s *Stream) Write(p []byte) (int, error) {
	s.mu.Lock()
	if s.closed || s.ended {
		s.mu.Unlock()
		return 0, net.ErrClosed
	}
	s.writing = true
	deadline := s.wdl
	s.mu.Unlock()
	s.wmu.Lock()
	if !deadline.IsZero() {
		if s.timer == nil {
			s.timer = time.AfterFunc(time.Until(deadline), s.reset)
		} else {
			s.timer.Reset(time.Until(deadline))
		}
	}
	n, err := s.w.Write(p)
	if err == nil {
		err = s.rc.Flush()
	}
	timedOut := !deadline.IsZero() && !s.timer.Stop()
	if timedOut {
		s.timedOut = true
	}
	s.wmu.Unlock()
	s.mu.Lock()
	s.writing = false
	switch {
	case timedOut:
		err = os.ErrDeadlineExceeded
	case err != nil && s.closed:
		err = net.ErrClosed
	}
	s.mu.Unlock()
	return n, err
}

// Close ends the stream's reading at once, and its writing: a Write under
// way fails, by resetting the stream; otherwise the stream ends
// gracefully, after what was written, when the request's handler returns.
func (s *Stream) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.done)
	writing := s.writing
	s.mu.Unlock()
	s.r.Body.Close()
	if writing {
		s.reset()
	}
	return nil
}

// reset resets the stream, failing a Write under way, unless the
// request's handler has returned.
func (s *Stream) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.ended {
		s.rc.SetWriteDeadline(time.Unix(1, 0)) // net/http resets the stream at once
	}
}

// end marks the stream as no longer usable, as its handler returns.
func (s *Stream) end() {
	s.mu.Lock()
	s.ended = true
	s.mu.Unlock()
	s.r.Body.Close()
}

func (s *Stream) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed || s.ended
}

// LocalAddr returns the server's address of the HTTP/2 connection.
func (s *Stream) LocalAddr() net.Addr { return s.local }

// RemoteAddr returns the peer's address of the HTTP/2 connection.
func (s *Stream) RemoteAddr() net.Addr { return s.remote }

// SetDeadline sets both deadlines of the stream.
func (s *Stream) SetDeadline(t time.Time) error {
	if err := s.SetReadDeadline(t); err != nil {
		return err
	}
	return s.SetWriteDeadline(t)
}

// SetReadDeadline sets the stream's read deadline; once it passes, the
// stream can no longer be read.
func (s *Stream) SetReadDeadline(t time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended {
		return net.ErrClosed
	}
	return s.rc.SetReadDeadline(t)
}

// SetWriteDeadline sets the deadline of the writes that follow, as on a
// TCP connection: a Write that has not ended by then fails, and resets
// the stream; a deadline that passes between writes does nothing.
func (s *Stream) SetWriteDeadline(t time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended {
		return net.ErrClosed
	}
	s.wdl = t
	return nil
}

// streamAddr is the address of a peer as net/http reports it.
type streamAddr string

func (a streamAddr) Network() string { return "tcp" }
func (a streamAddr) String() string  { return string(a) }
