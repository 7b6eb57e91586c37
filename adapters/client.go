package adapters

import (
	"context"
	"fmt"
	"net/http"
	"runtime/debug"
	"sync"
	"time"

	"github.com/websock-go/websock/websock"
)

// Client is the handle of a WebSocket client: one websock.Handler run over
// a connection the client dialed, and over the next one when the handler
// reconnects (see websock.Reconnector). Its methods are safe for
// concurrent use by any number of goroutines.
//
// The lifecycle of each connection is the server's: Init once connected,
// HandleIn for each message, HandleInfo for each value given to
// [Client.Send] (or to the websock.Conn that Init got), HandleControl when
// the handler implements it, and Terminate exactly once when the
// connection ends, with the Reasons of websock.Reason's table. Keepalive,
// the idle timeout, the size limit and UTF-8 validation work as on the
// server.
type Client struct {
	e     *Engine
	h     websock.Handler
	rc    websock.Reconnector // nil: stop when a connection ends
	newTr NewClientTransport
	opts  *DialOptions

	// ctx ends a dial or a backoff under way once Close is called.
	ctx    context.Context
	cancel context.CancelFunc

	mu      sync.Mutex
	url     string
	header  http.Header
	live    *conn           // the connection whose Init has run, while it lasts
	pending mailbox         // what Send queued while no connection was live
	closing *websock.Reason // set by Close
	final   websock.Reason
	done    chan struct{}
}

// Dial connects to rawURL (ws:// or wss://) with the library of adapter
// a, through newTransport, and runs h over the connection; it is what
// every adapter's Dial calls. It returns once the opening handshake has
// succeeded; Init then runs on the client's own goroutine. The error of a
// failed first dial is returned, unless opts.RetryInitialDial passes it to
// h's HandleDisconnect; a server that answers the handshake wrongly gives
// a *HandshakeError. ctx bounds the first dial only (and the waits between
// retries of it), not the client's life: end that with [Client.Close].
//
// The ConnInfo the handler sees holds the URL dialed, the server's
// address, the response's headers, the subprotocol the server chose and
// whether compression was negotiated.
func Dial(ctx context.Context, a Adapter, newTransport NewClientTransport, rawURL string, h websock.Handler, opts *DialOptions) (*Client, error) {
	var o DialOptions
	if opts != nil {
		o = *opts
		o.Header = opts.Header.Clone()
	}
	if err := a.check(&o.Options); err != nil {
		return nil, err
	}
	if err := checkHeader(o.Header); err != nil {
		return nil, err
	}
	if _, err := parseURL(rawURL); err != nil {
		return nil, err
	}
	if h == nil {
		return nil, fmt.Errorf("websock: dial %s: no Handler given", rawURL)
	}
	o.DialTimeout = pick(o.DialTimeout, DefaultDialTimeout)
	e := &Engine{ad: a, opts: o.Options.withDefaults(a.Lacks), conns: make(map[*conn]struct{}), changed: make(chan struct{})}
	e.start = e.opts.Clock.Now()
	c := &Client{e: e, h: h, newTr: newTransport, opts: &o, url: rawURL, header: o.Header, done: make(chan struct{})}
	c.rc, _ = h.(websock.Reconnector)
	c.ctx, c.cancel = context.WithCancel(context.Background())

	for attempt := 1; ; attempt++ {
		tr, info, err := c.connect(ctx)
		if err == nil {
			go c.run(tr, info)
			return c, nil
		}
		if !o.RetryInitialDial || c.rc == nil || ctx.Err() != nil {
			c.cancel()
			return nil, err
		}
		dec, stop := c.ask(websock.Disconnect{Reason: dialReason(err), Attempt: attempt})
		if stop || !c.sleep(ctx, dec.Delay, attempt) {
			c.cancel()
			return nil, err
		}
	}
}

// dialReason is the Reason of a dial that failed.
func dialReason(err error) websock.Reason {
	return websock.Reason{Kind: websock.KindError, Code: websock.CloseAbnormal, Err: err}
}

// connect dials the current URL and makes the connection's Transport.
func (c *Client) connect(ctx context.Context) (Transport, *websock.ConnInfo, error) {
	c.mu.Lock()
	rawURL, header := c.url, c.header
	c.mu.Unlock()
	u, err := parseURL(rawURL)
	if err == nil {
		err = checkHeader(header)
	}
	if err != nil {
		return nil, nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(c.ctx, cancel) // Close ends the dial
	defer stop()
	if d := c.opts.DialTimeout; d > 0 {
		ctx, cancel = context.WithTimeout(ctx, d)
		defer cancel()
	}
	opts := c.e.opts
	nc, resp, err := dialConn(ctx, u, header, c.opts, &opts)
	if err != nil {
		return nil, nil, err
	}
	d := &Dialed{Conn: nc, URL: u, Subprotocol: resp.sub, Compressed: resp.compressed, Options: opts}
	tr, err := c.newTr(ctx, d)
	if err != nil {
		nc.Close()
		return nil, nil, fmt.Errorf("websock: dial %s: %s: %w", u, c.e.ad.Name, err)
	}
	info := &websock.ConnInfo{RemoteAddr: nc.RemoteAddr().String(), URL: u, Header: resp.header,
		Subprotocol: resp.sub, Compressed: resp.compressed, Adapter: c.e.ad.Name}
	return tr, info, nil
}

// run runs connections until the handler stops reconnecting or Close is
// called.
func (c *Client) run(tr Transport, info *websock.ConnInfo) {
	for {
		reason := c.serve(tr, info)
		for attempt := 0; ; {
			dec, stop := c.ask(websock.Disconnect{Reason: reason, Dialed: attempt == 0, Attempt: attempt})
			if stop {
				c.end(reason, attempt > 0)
				return
			}
			if !c.sleep(c.ctx, dec.Delay, attempt) {
				c.end(reason, true) // Close came during the backoff
				return
			}
			var err error
			tr, info, err = c.connect(c.ctx)
			if err == nil {
				break
			}
			attempt++
			reason = dialReason(err)
		}
	}
}

// serve runs one connection until it ends.
func (c *Client) serve(tr Transport, info *websock.ConnInfo) websock.Reason {
	if rel, ok := tr.(Releaser); ok {
		defer rel.Release()
	}
	cn := newConn(c.e, tr, c.h, info)
	cn.onInit = c.connected
	c.e.add(cn, false)
	r := cn.serve()
	c.mu.Lock()
	c.live = nil
	c.mu.Unlock()
	return r
}

// connected runs once Init's Result is applied: the connection takes the
// messages Send queued while there was none, and Send's next ones.
func (c *Client) connected(cn *conn) {
	c.mu.Lock()
	for c.pending.len() > 0 {
		cn.Send(c.pending.pop())
	}
	c.live = cn
	closing := c.closing
	c.mu.Unlock()
	if closing != nil {
		cn.closeWith(*closing)
	}
}

// ask asks the handler what to do after d, and reports whether to stop.
func (c *Client) ask(d websock.Disconnect) (dec websock.Reconnect, stop bool) {
	c.mu.Lock()
	closing := c.closing != nil
	d.URL, d.Header = c.url, c.header.Clone()
	c.mu.Unlock()
	if closing || c.rc == nil {
		return dec, true
	}
	dec, ok := c.callDisconnect(d)
	if !ok || dec.Stop {
		return dec, true
	}
	c.mu.Lock()
	if dec.URL != "" {
		c.url = dec.URL
	}
	if dec.Header != nil {
		c.header = dec.Header.Clone()
	}
	c.mu.Unlock()
	return dec, false
}

// callDisconnect calls HandleDisconnect; a panic in it stops the client.
func (c *Client) callDisconnect(d websock.Disconnect) (dec websock.Reconnect, ok bool) {
	defer func() {
		if v := recover(); v != nil {
			c.e.opts.Logger.Error("websock: handler panicked in HandleDisconnect; the client stops", "adapter", c.e.ad.Name,
				"url", d.URL, "panic", v, "stack", string(debug.Stack()))
			ok = false
		}
	}()
	return c.rc.HandleDisconnect(d), true
}

// sleep waits before the next dial: delay, or the default backoff for
// attempt when it is 0. It reports false when ctx ended first.
func (c *Client) sleep(ctx context.Context, delay time.Duration, attempt int) bool {
	if delay == 0 {
		delay = websock.Backoff(attempt)
	}
	if delay < 0 {
		return ctx.Err() == nil && c.ctx.Err() == nil
	}
	fired, t := clockTimer(c.e.opts.Clock, delay)
	defer t.Stop()
	select {
	case <-fired:
		return c.ctx.Err() == nil
	case <-ctx.Done():
	case <-c.ctx.Done():
	}
	return false
}

// end stops the client with the reason of its last connection or dial.
// between says no connection was live when the client stopped: if Close
// stopped it then, the final reason is Close's.
func (c *Client) end(r websock.Reason, between bool) {
	c.mu.Lock()
	if c.closing != nil && between {
		r = *c.closing
	}
	c.final = r
	c.pending.reset()
	c.mu.Unlock()
	c.cancel()
	close(c.done)
}

// Send queues msg for the handler's HandleInfo, as websock.Conn.Send does
// on the live connection. While the client is between connections (a
// dial or a backoff under way, or the connection closing), Send queues
// msg for the next connection instead: it is delivered after that
// connection's Init, so that a command sent while disconnected (a
// subscription) reaches the server once the client is back. At most
// MailboxSize messages wait so; Send returns websock.ErrMailboxFull
// beyond. Messages still queued when the client stops are dropped. Send
// returns websock.ErrClosed once Close was called or the client stopped.
func (c *Client) Send(msg any) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closing != nil || c.isDone() {
		return websock.ErrClosed
	}
	if c.live != nil {
		if err := c.live.Send(msg); err != websock.ErrClosed {
			return err
		}
	}
	if c.pending.len() >= c.e.opts.MailboxSize {
		return websock.ErrMailboxFull
	}
	c.pending.push(msg)
	return nil
}

func (c *Client) isDone() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// Close ends the client: the live connection, if any, is closed with code
// and text (code 0 means 1000; text is cut to 123 bytes) and Terminate
// sees a Normal reason with that code; a dial or a backoff under way is
// abandoned; the handler is not asked to reconnect. Close does not wait:
// see Wait. It returns an error wrapping websock.ErrInvalidCloseCode for a
// code that may not be sent, and nil when called again.
func (c *Client) Close(code websock.CloseCode, text string) error {
	if code == 0 {
		code = websock.CloseNormal
	}
	if !code.Sendable() {
		return fmt.Errorf("%w: Close(%d)", websock.ErrInvalidCloseCode, code)
	}
	r := stopReason(nil, code, text)
	c.mu.Lock()
	if c.closing != nil {
		c.mu.Unlock()
		return nil
	}
	c.closing = &r
	live := c.live
	c.mu.Unlock()
	c.cancel()
	if live != nil {
		live.closeWith(r)
	}
	return nil
}

// Done returns a channel that is closed once the client has stopped: its
// last connection has terminated and it will not reconnect.
func (c *Client) Done() <-chan struct{} { return c.done }

// Wait waits until the client has stopped and returns why: the Reason of
// its last connection, or of its last failed dial.
func (c *Client) Wait() websock.Reason {
	<-c.done
	return c.final
}

// Connected reports whether the client has a live connection right now:
// its Init has run and it is not closing.
func (c *Client) Connected() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.live != nil && c.live.state.Load() == stateOpen
}
