package conformance

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/websock-go/websock/adapters"
	"github.com/websock-go/websock/websock"
)

// The suite's long-poll client, for a transport that speaks the protocol
// of package adapters/longpoll. It carries each connection a case opens
// and shows it to the case as a WebSocket connection, so that the cases
// run unchanged: it answers the case's opening handshake with the
// session's opening (origin, subprotocols and refusals included), turns
// the text, binary and close frames the case writes into POSTs, and polls
// for the server's messages, which it writes back as frames. When the
// session ends (410), it closes the connection, as a server closes TCP.
//
// What long-polling cannot carry it refuses, so that the cases about it
// fail rather than pass by accident: a ping, a pong, a fragment, reserved
// bits or an unmasked frame make it abandon the session and close the
// connection. A whole frame of any other opcode goes as a message of that
// type, for the server to refuse. A case that drops the connection makes it abandon the
// session (DELETE without a code): the nearest a long-poll client comes to
// a TCP connection lost.

// LongPollDial returns the Dial of a Server whose endpoint at rawURL (an
// http:// URL) speaks long-poll: each connection it returns is carried by
// the suite's long-poll client. Its host must tell the endpoint apart from
// every other endpoint running at the same time (see Server.Dial).
//
// The connections share their HTTP connections to the endpoint, as a
// browser's pages do; once none is left, the idle ones are closed.
func LongPollDial(rawURL string) func(ctx context.Context) (net.Conn, error) {
	u, err := url.Parse(rawURL)
	client := &http.Client{Transport: &http.Transport{
		DisableCompression:  true,
		MaxIdleConnsPerHost: 1 << 10,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			var d net.Dialer
			nc, err := d.DialContext(ctx, "tcp", u.Host)
			if err != nil {
				return nil, err
			}
			// net/http runs two goroutines per connection.
			longPollGoroutines.Add(2)
			return &countedConn{Conn: nc}, nil
		},
	}}
	var mu sync.Mutex
	live := 0 // bridges running
	ended := func() {
		mu.Lock()
		live--
		last := live == 0
		mu.Unlock()
		if last {
			client.CloseIdleConnections()
		}
	}
	return func(context.Context) (net.Conn, error) {
		if err != nil {
			return nil, err
		}
		mu.Lock()
		live++
		mu.Unlock()
		caseEnd, end := net.Pipe()
		b := &pollBridge{base: u, nc: end, caseEnd: &bridgedConn{Conn: caseEnd}, http: client, ended: ended}
		longPollGoroutines.Add(1)
		go b.run()
		return b.caseEnd, nil
	}
}

// ServeLongPoll returns the ServeFunc of a long-poll adapter on net/http
// whose constructor is newHandler: ServeHTTP's, with the suite's
// long-poll client as the Server's Dial, over HTTP/1.1 only. (To tell
// HTTP/2 without TLS apart, net/http reads a new connection's first 14
// bytes on their own; a server starved of CPU past its read-header
// timeout between that read and the next then answers 400 to a request
// it never read whole, where it would otherwise close the connection
// unanswered, which the long-poll client makes again.)
func ServeLongPoll[H HTTPHandler](newHandler func(websock.AcceptFunc, *adapters.Options) (H, error)) ServeFunc {
	serve := serveHTTP(newHandler, false)
	return func(accept websock.AcceptFunc, opts *adapters.Options) (*Server, error) {
		srv, err := serve(accept, opts)
		if err != nil {
			return nil, err
		}
		srv.Dial = LongPollDial("http" + strings.TrimPrefix(srv.URL, "ws"))
		return srv, nil
	}
}

// longPollGoroutines counts the goroutines the suite's long-poll clients
// run, those of net/http for their connections included, so that case
// IdleCost counts the server's alone.
var longPollGoroutines atomic.Int64

// countedConn is a connection of a long-poll client, counted in
// longPollGoroutines until it is closed.
type countedConn struct {
	net.Conn
	once sync.Once
}

func (c *countedConn) Close() error {
	c.once.Do(func() { longPollGoroutines.Add(-2) })
	return c.Conn.Close()
}

// bridgedConn is the case's end of a connection: its local address is
// that of the session's opening request, as the server sees it.
type bridgedConn struct {
	net.Conn
	local atomic.Pointer[net.Addr]
}

func (c *bridgedConn) LocalAddr() net.Addr {
	if a := c.local.Load(); a != nil {
		return *a
	}
	return c.Conn.LocalAddr()
}

// pollBridge carries one connection of a case over a long-poll session.
type pollBridge struct {
	base     *url.URL
	caseEnd  *bridgedConn
	nc       net.Conn // the bridge's end of the case's connection
	ended    func()   // called once the bridge has stopped
	requests atomic.Uint64
	http     *http.Client
	token    string
	path     string

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	sends  chan frame // what the case wrote, for the sender
}

func (b *pollBridge) run() {
	defer longPollGoroutines.Add(-1)
	defer b.ended()
	defer b.nc.Close()
	b.ctx, b.cancel = context.WithCancel(context.Background())
	defer b.cancel()
	br := bufio.NewReader(b.nc)
	if !b.open(br) {
		return
	}
	b.sends = make(chan frame, 256)
	b.wg.Add(2)
	longPollGoroutines.Add(2)
	go b.send()
	go b.poll()
	b.read(br)
	b.wg.Wait()
}

// open reads the case's opening handshake and opens the session with it.
// A request that is no WebSocket upgrade is passed on as it is. It
// reports whether the session opened.
func (b *pollBridge) open(br *bufio.Reader) bool {
	req, err := http.ReadRequest(br)
	if err != nil {
		return false
	}
	b.path = req.URL.RequestURI()
	upgrade := req.Method == http.MethodGet && strings.EqualFold(req.Header.Get("Upgrade"), "websocket")
	body, _ := io.ReadAll(req.Body)
	method := req.Method
	h := req.Header.Clone()
	if upgrade {
		method, body = http.MethodPost, nil
		for _, k := range []string{"Upgrade", "Connection", "Sec-Websocket-Key", "Sec-Websocket-Version", "Sec-Websocket-Extensions"} {
			h.Del(k)
		}
	}
	trace := httptrace.WithClientTrace(b.ctx, &httptrace.ClientTrace{
		GotConn: func(ci httptrace.GotConnInfo) {
			a := ci.Conn.LocalAddr()
			b.caseEnd.local.Store(&a)
		},
	})
	resp, err := b.do(trace, method, body, func(out *http.Request) {
		key := out.Header.Get("Idempotency-Key")
		out.Header, out.Host = h.Clone(), req.Host
		out.Header.Set("Idempotency-Key", key)
	})
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(resp.Body)
	if !upgrade || resp.StatusCode != http.StatusOK {
		resp.Body = io.NopCloser(bytes.NewReader(answer))
		resp.ContentLength, resp.TransferEncoding = int64(len(answer)), nil
		resp.Close = true
		resp.Write(b.nc)
		return false
	}
	b.token = string(answer)
	sum := sha1.Sum([]byte(req.Header.Get("Sec-WebSocket-Key") + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	var hs strings.Builder
	hs.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n")
	fmt.Fprintf(&hs, "Sec-WebSocket-Accept: %s\r\n", base64.StdEncoding.EncodeToString(sum[:]))
	if p := resp.Header.Get("Sec-WebSocket-Protocol"); p != "" {
		fmt.Fprintf(&hs, "Sec-WebSocket-Protocol: %s\r\n", p)
	}
	hs.WriteString("\r\n")
	_, err = io.WriteString(b.nc, hs.String())
	return err == nil
}

// do makes a request to the endpoint, set up by setup if not nil, and
// makes it again, up to three times, when it fails without an answer: a
// loopback server starved of CPU may close a connection before reading
// its request (its read-header timeout), and every request of the
// protocol may be made again.
func (b *pollBridge) do(ctx context.Context, method string, body []byte, setup func(*http.Request)) (*http.Response, error) {
	for attempt := 0; ; attempt++ {
		req, err := b.request(ctx, method, body)
		if err != nil {
			return nil, err
		}
		if setup != nil {
			setup(req)
		}
		resp, err := b.http.Do(req)
		if err == nil || attempt == 3 || ctx.Err() != nil {
			return resp, err
		}
		select {
		case <-time.After(time.Duration(50<<attempt) * time.Millisecond):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// request returns a request to the endpoint, with the session's token
// once there is one.
func (b *pollBridge) request(ctx context.Context, method string, body []byte) (*http.Request, error) {
	u := *b.base
	u.Path, u.RawQuery = "", ""
	req, err := http.NewRequestWithContext(ctx, method, u.String()+b.path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	if b.token != "" {
		req.Header.Set("Websock-Session", b.token)
	}
	// Every request of the protocol may be sent again (a POST's messages
	// are numbered): net/http then retries one that met a keep-alive
	// connection the server was closing, as a browser does.
	req.Header.Set("Idempotency-Key", strconv.FormatUint(b.requests.Add(1), 10))
	return req, nil
}

// read hands the frames the case writes to the sender until the case
// closes its end, or writes what long-polling cannot carry.
func (b *pollBridge) read(br *bufio.Reader) {
	defer close(b.sends)
	c := &client{nc: b.nc, br: br}
	for {
		f, err := c.readFrameMasked(24*time.Hour, true)
		if err != nil || !f.fin || f.rsv != 0 || f.op == opPing || f.op == opPong {
			if b.ctx.Err() == nil {
				b.abandon()
			}
			return
		}
		select {
		case b.sends <- f:
		case <-b.ctx.Done():
			return
		}
	}
}

// abandon ends the session as a client that is gone does, and stops the
// bridge.
func (b *pollBridge) abandon() {
	b.cancel()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if resp, err := b.do(ctx, http.MethodDelete, nil, nil); err == nil {
		resp.Body.Close()
	}
}

// send POSTs what the case wrote, in batches of what is waiting.
func (b *pollBridge) send() {
	defer longPollGoroutines.Add(-1)
	defer b.wg.Done()
	seq := uint64(1)
	for f := range b.sends {
		batch := binary.AppendUvarint(nil, seq)
		for n := 0; ; n++ {
			batch = appendLongPoll(batch, f)
			seq++
			if n == 100 || len(batch) > 1<<20 {
				break
			}
			var ok bool
			select {
			case f, ok = <-b.sends:
			default:
			}
			if !ok {
				break
			}
		}
		resp, err := b.do(b.ctx, http.MethodPost, batch, nil)
		if err != nil {
			return
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}

func appendLongPoll(b []byte, f frame) []byte {
	b = append(b, f.op)
	b = binary.AppendUvarint(b, uint64(len(f.payload)))
	return append(b, f.payload...)
}

// poll takes the server's messages and writes them to the case as
// frames, until the session ends.
func (b *pollBridge) poll() {
	defer longPollGoroutines.Add(-1)
	defer b.wg.Done()
	defer b.cancel()   // the session ended: stop the reader and the sender
	defer b.nc.Close() // as the server closing TCP
	var ack uint64
	for {
		resp, err := b.do(b.ctx, http.MethodGet, nil, func(req *http.Request) {
			req.Header.Set("Websock-Ack", strconv.FormatUint(ack, 10))
		})
		if err != nil {
			return
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		switch {
		case err != nil:
			return
		case resp.StatusCode == http.StatusNoContent:
			continue
		case resp.StatusCode != http.StatusOK:
			return
		}
		r := bufio.NewReader(bytes.NewReader(body))
		first, err := binary.ReadUvarint(r)
		if err != nil || first > ack+1 {
			return
		}
		for seq := first; ; seq++ {
			op, data, err := readLongPoll(r)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return
			}
			if seq <= ack {
				continue // had it already
			}
			c := &client{nc: b.nc}
			if c.writeFrame(frame{fin: true, op: op, payload: data}, true) != nil {
				return
			}
			ack = seq
		}
	}
}

// readLongPoll reads one message of a batch.
func readLongPoll(r *bufio.Reader) (byte, []byte, error) {
	op, err := r.ReadByte()
	if err != nil {
		return 0, nil, err
	}
	n, err := binary.ReadUvarint(r)
	if err != nil {
		return 0, nil, io.ErrUnexpectedEOF
	}
	data := make([]byte, n)
	if _, err := io.ReadFull(r, data); err != nil {
		return 0, nil, io.ErrUnexpectedEOF
	}
	return op, data, nil
}

// needSilentClient skips a case whose client must fall silent, on a
// transport whose client never does: a long-poll client polls while it
// waits for the server's messages, and the server counts every poll (a
// timing-dependent pass through the suite's long-poll client would prove
// nothing). Such a case is declared with the Frames feature.
func (e *env) needSilentClient() {
	if why := e.adapter.Lacks.Frames; why != "" {
		e.Skip("the case needs a client that falls silent; adapter " + e.adapter.Name + "'s client polls while it waits (" + why + ")")
	}
}
