package longpoll

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/websock-go/websock/adapters"
	"github.com/websock-go/websock/websock"
)

// Adapter describes this transport: its name, shown in ConnInfo.Adapter,
// and what long-polling cannot give.
var Adapter = adapters.Adapter{
	Name:    "longpoll",
	Library: "none (HTTP long-polling, standard library)",
	Server:  "net/http",
	// The session's own goroutine, blocked in Read, plus the two net/http
	// runs for the poll the client holds open: the connection's and the
	// one that watches it for the client going away.
	IdleGoroutines: 3,
	Lacks: adapters.Lacks{
		HandleControl: "long-polling carries no ping or pong frames, so there is nothing for HandleControl to see",
		Keepalive:     "long-polling has no ping frames; a client that stops polling is ended by IdleTimeout instead",
		Compression:   "long-polling carries messages in HTTP bodies, without permessage-deflate; compress the HTTP responses in a proxy instead",
		HTTP2:         "long-polling is plain HTTP requests, which run over HTTP/2 when the server speaks it; extended CONNECT (RFC 8441) opens WebSocket connections, which this transport does not serve",
		Frames: "long-polling carries whole messages in HTTP requests, not RFC 6455 frames over a TCP connection: " +
			"the cases about frames, the WebSocket handshake, the TCP connection and a silent client (a long-poll client polls) do not apply",
	},
}

// Options configures a Handler; nil means defaults. The engine's options
// apply as on every adapter (see adapters.Options), except those the
// transport lacks (see Adapter).
type Options struct {
	adapters.Options

	// Key signs session tokens with HMAC-SHA256. Give every node that
	// serves the same sessions the same key, at least 32 bytes of it.
	// Default: 32 random bytes chosen by New, so that a token is valid on
	// this Handler only, and none survives a restart.
	Key []byte

	// Node names this server in the tokens it issues, so that a load
	// balancer can send a session's requests to the node that holds it
	// (the token starts with "Node."); a request for another node's
	// session is answered 421 Misdirected Request. Letters, digits, '-'
	// and '_' only. Default "": tokens name no node.
	Node string

	// PollTimeout is how long a poll is held open while there is nothing
	// to send; it is then answered 204 and the client polls again.
	// Default 25 s, and never more than half of IdleTimeout.
	PollTimeout time.Duration
}

// DefaultPollTimeout is the default of Options.PollTimeout.
const DefaultPollTimeout = 25 * time.Second

// Handler is an http.Handler that serves long-poll sessions at one URL
// and runs websock handlers on them.
type Handler struct {
	e    *adapters.Engine
	key  []byte
	macs sync.Pool // of *macState, under key
	node string
	hold time.Duration // how long a poll is held
	max  int64         // Options.MaxMessageSize, with its default

	mu       sync.Mutex
	sessions map[string]*session  // by session id
	left     map[string]*leftover // what ended sessions left for their clients, by session id
	retiring []retiring           // the leftovers, oldest first
	sweeper  *time.Timer          // forgets the oldest leftover when its time is up; nil when none
}

var _ http.Handler = (*Handler)(nil)

// ErrInvalidNode is matched (with errors.Is) by the error New returns for
// an Options.Node with characters other than letters, digits, '-' and
// '_'.
var ErrInvalidNode = errors.New("websock: longpoll: Options.Node may hold only letters, digits, '-' and '_'")

// New returns a Handler that opens sessions through accept, configured by
// opts. Its error matches adapters.ErrUnsupportedOption for an option
// long-polling cannot honour (Compression, PingInterval), and
// ErrInvalidNode for a node name that a token cannot carry.
func New(accept websock.AcceptFunc, opts *Options) (*Handler, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if strings.ContainsFunc(o.Node, func(r rune) bool {
		return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '-' || r == '_')
	}) {
		return nil, fmt.Errorf("%w; got %q", ErrInvalidNode, o.Node)
	}
	e, err := adapters.NewEngine(Adapter, accept, &o.Options)
	if err != nil {
		return nil, err
	}
	h := &Handler{e: e, node: o.Node, sessions: make(map[string]*session), left: make(map[string]*leftover)}
	h.key = append([]byte(nil), o.Key...)
	if len(h.key) == 0 {
		h.key = make([]byte, 32)
		rand.Read(h.key)
	}
	eo := e.Options()
	h.max = eo.MaxMessageSize
	h.hold = o.PollTimeout
	if h.hold <= 0 {
		h.hold = DefaultPollTimeout
	}
	if eo.IdleTimeout > 0 {
		h.hold = min(h.hold, eo.IdleTimeout/2)
	}
	return h, nil
}

// The headers of the protocol: the session's token on every request
// after the opening, and on a poll the sequence number of the last
// message received.
const (
	HeaderSession = "Websock-Session"
	HeaderAck     = "Websock-Ack"
	// HeaderProtocol offers subprotocols on the opening, as
	// Sec-WebSocket-Protocol does, which a browser's fetch may not set.
	HeaderProtocol = "Websock-Protocol"
)

// The values of the headers set on every answer, and on every poll's
// batch, shared rather than allocated by Header.Set for each request. The
// server copies them when it writes the header, and a Set or an Add
// replaces them rather than writing into them.
var (
	noStore     = []string{"no-store"}
	octetStream = []string{"application/octet-stream"}
)

// ServeHTTP serves the requests of the protocol (see the package
// documentation): POST without a token opens a session; with a token,
// GET polls, POST sends and DELETE abandons.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header()["Cache-Control"] = noStore
	token := r.Header.Get(HeaderSession)
	if token == "" {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			httpError(w, http.StatusMethodNotAllowed, "longpoll: open a session with a POST; then poll, send and close with its token in "+HeaderSession)
			return
		}
		if p := r.Header.Values(HeaderProtocol); len(p) > 0 {
			// A browser may not set Sec- headers: it offers its
			// subprotocols here instead.
			r.Header = r.Header.Clone()
			r.Header["Sec-Websocket-Protocol"] = append(r.Header["Sec-Websocket-Protocol"], p...)
		}
		h.e.ServeSession(w, r, h.open)
		return
	}
	s, lo, id, status, msg := h.lookup(token)
	if lo != nil {
		h.serveLeftover(id, lo, w, r)
		return
	}
	if s == nil {
		httpError(w, status, msg)
		return
	}
	switch r.Method {
	case http.MethodGet:
		s.poll(w, r)
	case http.MethodPost:
		s.receive(w, r)
	case http.MethodDelete:
		s.abandon(w, r)
	default:
		w.Header().Set("Allow", "GET, POST, DELETE")
		httpError(w, http.StatusMethodNotAllowed, "longpoll: a session takes GET (poll), POST (send) and DELETE (abandon)")
	}
}

// open is the engine's upgrade: it makes the session, answers its token,
// and hands the session to the engine as the connection's Transport.
func (h *Handler) open(w http.ResponseWriter, _ *http.Request, u adapters.Upgrade) (adapters.Upgraded, error) {
	s := newSession(h)
	h.mu.Lock()
	h.sessions[s.id] = s
	h.mu.Unlock()
	if u.Subprotocol != "" {
		w.Header().Set("Sec-WebSocket-Protocol", u.Subprotocol)
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	w.Write([]byte(h.sign(s.id)))
	return adapters.Upgraded{Transport: s, Status: http.StatusOK}, nil
}

// lookup returns the session of token, or what it left if it ended, or
// the status and message to refuse the request with.
func (h *Handler) lookup(token string) (s *session, lo *leftover, id string, status int, msg string) {
	node, id, err := h.verify(token)
	switch {
	case errors.Is(err, errMalformed):
		return nil, nil, "", http.StatusBadRequest, "longpoll: malformed session token; use the token the opening POST answered"
	case err != nil:
		return nil, nil, "", http.StatusForbidden, "longpoll: invalid session token; open a new session"
	case node != h.node:
		return nil, nil, "", http.StatusMisdirectedRequest, fmt.Sprintf("longpoll: the session is held by node %q, not %q; send its requests there", node, h.node)
	}
	h.mu.Lock()
	s, lo = h.sessions[id], h.left[id]
	h.mu.Unlock()
	if s == nil && lo == nil {
		return nil, nil, "", http.StatusGone, "longpoll: the session has ended; open a new one"
	}
	return s, lo, id, 0, ""
}

// serveLeftover serves a request of a session that ended: a poll takes
// what is left; nothing else is taken.
func (h *Handler) serveLeftover(id string, lo *leftover, w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		lo.poll(h, id, w, r)
	case http.MethodPost, http.MethodDelete:
		httpError(w, http.StatusGone, "longpoll: the session has ended; open a new one")
	default:
		w.Header().Set("Allow", "GET, POST, DELETE")
		httpError(w, http.StatusMethodNotAllowed, "longpoll: a session takes GET (poll), POST (send) and DELETE (abandon)")
	}
}

// forget drops s from the sessions, once it has ended and its client has
// had what was left for it.
func (h *Handler) forget(s *session) {
	h.mu.Lock()
	if h.sessions[s.id] == s {
		delete(h.sessions, s.id)
	}
	h.mu.Unlock()
}

// Shutdown closes every session gracefully: each client gets close 1001
// in its next poll and Terminate sees a Shutdown reason; new sessions are
// refused with 503. See adapters.Engine.Shutdown. Call it before the HTTP
// server's own Shutdown, which waits for the polls held open.
func (h *Handler) Shutdown(ctx context.Context) error { return h.e.Shutdown(ctx) }

// Restart is Shutdown with close 1012 (service restart).
func (h *Handler) Restart(ctx context.Context) error { return h.e.Restart(ctx) }

// Live returns how many sessions are running.
func (h *Handler) Live() int { return h.e.Live() }

func httpError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	w.Write([]byte(msg + "\n"))
}
