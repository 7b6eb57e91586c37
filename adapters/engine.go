package adapters

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"

	"github.com/websock-go/websock/websock"
)

// ErrServerClosed is returned by [Engine.NewConn] after Shutdown has begun;
// adapters refuse new upgrades with 503 from then on.
var ErrServerClosed = errors.New("websock: server is shutting down; no new connections are accepted")

// Engine runs connections for one adapter endpoint and tracks them, so
// that Shutdown can close every one of them gracefully. Make one with
// [NewEngine]; it is safe for concurrent use.
type Engine struct {
	name string
	opts Options

	mu       sync.Mutex
	conns    map[*Conn]struct{}
	shutdown bool
	idle     chan struct{} // closed when shutdown began and no connection is left
}

// NewEngine returns an Engine for the adapter called name, configured by
// opts (nil means defaults; opts is copied, not kept). unsupported names
// the options the adapter's library cannot honour: when opts sets one of
// them, NewEngine returns an error matching ErrUnsupportedOption instead
// of ignoring it.
func NewEngine(name string, opts *Options, unsupported Unsupported) (*Engine, error) {
	if err := unsupported.check(name, opts); err != nil {
		return nil, err
	}
	return &Engine{name: name, opts: opts.withDefaults(), conns: make(map[*Conn]struct{})}, nil
}

// Name returns the adapter name the Engine was made with.
func (e *Engine) Name() string { return e.name }

// Options returns the options in force, with defaults filled in; a limit
// of 0 means none.
func (e *Engine) Options() Options { return e.opts }

// Live returns how many connections are running.
func (e *Engine) Live() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.conns)
}

// Accept runs the upgrade hook for req, before the adapter upgrades. It
// returns the Handler to run, or an *websock.HTTPError the adapter must
// answer the request with instead of upgrading: 503 while shutting down,
// 403 when the origin policy refuses the request, 400 when a required
// subprotocol is missing, the hook's own refusal,
// or 500 when the hook failed, panicked or
// returned no Handler.
func (e *Engine) Accept(req *websock.Request, accept websock.AcceptFunc) (websock.Handler, *websock.HTTPError) {
	e.mu.Lock()
	closing := e.shutdown
	e.mu.Unlock()
	if closing {
		return nil, websock.Refuse(http.StatusServiceUnavailable, "server is shutting down\n")
	}
	if he := checkOrigin(&e.opts, req); he != nil {
		return nil, he
	}
	if e.opts.RequireSubprotocol && e.ChooseSubprotocol(req.Subprotocols) == "" {
		return nil, websock.Refuse(http.StatusBadRequest, fmt.Sprintf(
			"websocket: none of the offered subprotocols %q is spoken here; offer one of %q in Sec-WebSocket-Protocol\n",
			req.Subprotocols, e.opts.Subprotocols))
	}
	h, err := callAccept(req, accept)
	if err != nil {
		var he *websock.HTTPError
		if errors.As(err, &he) {
			return nil, he
		}
		e.opts.Logger.Error("websock: upgrade hook failed", "adapter", e.name, "url", req.URL.String(), "err", err)
		return nil, websock.Refuse(http.StatusInternalServerError, "websocket upgrade failed\n")
	}
	if h == nil {
		e.opts.Logger.Error("websock: upgrade hook returned neither a Handler nor an error", "adapter", e.name)
		return nil, websock.Refuse(http.StatusInternalServerError, "websocket upgrade failed\n")
	}
	return h, nil
}

func callAccept(req *websock.Request, accept websock.AcceptFunc) (h websock.Handler, err error) {
	defer func() {
		if v := recover(); v != nil {
			h, err = nil, fmt.Errorf("upgrade hook panicked: %v", v)
		}
	}()
	if accept == nil {
		return nil, errors.New("no AcceptFunc given to the adapter")
	}
	return accept(req)
}

// ChooseSubprotocol returns the first of the server's subprotocols (from
// Options.Subprotocols, in preference order) that the client offered, or
// "".
func (e *Engine) ChooseSubprotocol(offered []string) string {
	for _, s := range e.opts.Subprotocols {
		for _, o := range offered {
			if o == s {
				return s
			}
		}
	}
	return ""
}

// NewConn registers a connection that an adapter has upgraded and returns
// it, ready for the adapter to wire control frames to and then [Conn.Serve].
// info is kept, not copied. It fails with ErrServerClosed once Shutdown has
// begun; the adapter must then close the connection itself.
func (e *Engine) NewConn(tr Transport, h websock.Handler, info *websock.ConnInfo) (*Conn, error) {
	c := newConn(e, tr, h, info)
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.shutdown {
		return nil, ErrServerClosed
	}
	e.conns[c] = struct{}{}
	return c, nil
}

func (e *Engine) remove(c *Conn) {
	e.mu.Lock()
	delete(e.conns, c)
	if e.shutdown && len(e.conns) == 0 && e.idle != nil {
		close(e.idle)
		e.idle = nil
	}
	e.mu.Unlock()
}

// Shutdown closes every live connection gracefully: each gets close 1001
// and Terminate(Shutdown), and new upgrades are refused with 503. It waits
// until every connection has terminated or ctx is done; in the latter case
// it closes the remaining connections at once, waits for their Terminate,
// and returns ctx's error. Calling it again waits again.
//
// http.Server.Shutdown does not close hijacked connections: call both.
func (e *Engine) Shutdown(ctx context.Context) error {
	e.mu.Lock()
	e.shutdown = true
	conns := make([]*Conn, 0, len(e.conns))
	for c := range e.conns {
		conns = append(conns, c)
	}
	var idle chan struct{}
	if len(e.conns) > 0 {
		if e.idle == nil {
			e.idle = make(chan struct{})
		}
		idle = e.idle
	}
	e.mu.Unlock()
	if idle == nil {
		return nil
	}

	// Send the close frames from a few workers: a write may block for up
	// to the write timeout on a slow client, and should not hold up the
	// others.
	work := make(chan *Conn)
	var wg sync.WaitGroup
	for i := 0; i < min(len(conns), 16); i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range work {
				c.tracked(func() {
					c.closeWith(websock.Reason{Kind: websock.KindShutdown, Code: websock.CloseGoingAway,
						Text: "server shutting down", Err: websock.ErrShutdown})
				})
			}
		}()
	}
	for _, c := range conns {
		work <- c
	}
	close(work)
	wg.Wait()

	select {
	case <-idle:
		return nil
	case <-ctx.Done():
	}
	e.mu.Lock()
	for c := range e.conns {
		c.tr.Close()
	}
	e.mu.Unlock()
	<-idle
	return ctx.Err()
}
