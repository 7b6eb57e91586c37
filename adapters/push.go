package adapters

import (
	"errors"
	"math/bits"
	"sync"

	"github.com/websock-go/websock/websock"
)

// PushTransport is implemented by the Transport of a library whose own
// loop reads the connection and calls back with what it read (a push
// library, such as github.com/lesismal/nbio): it has no Read and no Wait.
// The library's callbacks hand what they read to the connection's
// [Inbox], on whatever goroutine they run; the engine runs the handler
// for it on the connection's serial actor, a goroutine it starts when
// something is queued and that ends once the queue is empty. No handler
// code runs on the library's goroutine, and an idle connection holds no
// goroutine of the engine's.
//
// Every guarantee of Transport holds: callbacks are serial, Terminate is
// called once and last, and no goroutine of the connection outlives it.
// Close may be called from any goroutine at any time; the library must
// then report the end of the connection to the Inbox (Inbox.End,
// usually from its close callback) promptly: the connection ends when
// the actor reaches it.
type PushTransport interface {
	Writer

	// Inbox returns the connection's Inbox, the same one every time,
	// which the adapter made with [NewInbox] before the upgrade's answer
	// went out, so that nothing the peer sends after it is lost.
	Inbox() *Inbox
}

// Inbox is the queue between a push library's callbacks and the
// connection's serial actor. Its methods may be called from any
// goroutine, before the engine runs the connection (what is queued then
// waits for Init) and after it ended (what is pushed then is dropped);
// calls from several goroutines are queued in the order they take the
// Inbox's lock, so a library reports one connection's input from one
// goroutine at a time.
//
// Bytes and whole messages may be mixed. A slice handed over as owned
// becomes the Inbox's: the library must not touch it again, and it is
// not copied. Anything else is copied before the call returns, so the
// library may reuse its buffer; the copies Bytes makes (up to 64 KiB
// each) come from buffers shared by every connection, each given back
// once parsed, so neither a stream of reads nor an idle connection holds
// one of its own.
type Inbox struct {
	parse func(ev Events, p []byte) error

	mu      sync.Mutex
	c       *conn // nil until the engine runs the connection
	q       []inItem
	queued  int // bytes in q
	running bool
	ended   bool

	high   int             // pause reading above this many queued bytes; 0: never
	pause  func(stop bool) // tells the library to stop or resume reading
	paused bool
}

// An inItem is one thing pushed into an Inbox.
type inItem struct {
	kind  uint8
	op    websock.Opcode
	data  []byte
	chunk *[]byte // the pooled buffer data is in, from getChunk; it goes back once parsed
	err   error
}

const (
	inBytes uint8 = iota
	inMessage
	inPing
	inControl
	inEnd
)

// NewInbox returns the Inbox of one connection. parse, when not nil,
// turns what [Inbox.Bytes] queued into events (wire.Parser.Parse does, for
// the server side of RFC 6455); it runs on the connection's actor, one
// call at a time, in order, and a non-nil error ends reading as
// Transport.Read's does. A library that hands over whole messages passes
// nil and never calls Bytes.
func NewInbox(parse func(ev Events, p []byte) error) *Inbox {
	return &Inbox{parse: parse}
}

// PauseAbove makes the Inbox call pause(true) once more than high bytes
// are queued and not yet handled (a slow HandleIn, a fast peer), and
// pause(false) once the actor has caught up to half of it: a library
// that can stop reading a connection then stops, so that neither the
// queue nor the library's buffers grow. pause runs on the goroutine that
// crossed the mark, with no lock of the Inbox held. Without it, what
// the peer sends is queued however much it is; MaxMessageSize bounds each
// message, not the queue.
func (in *Inbox) PauseAbove(high int, pause func(stop bool)) {
	in.mu.Lock()
	in.high, in.pause = high, pause
	in.mu.Unlock()
}

// Bytes queues p, bytes the library read from the peer, for the parse
// function given to NewInbox. owned says p is the Inbox's from now on.
func (in *Inbox) Bytes(p []byte, owned bool) {
	if len(p) == 0 {
		return
	}
	if owned {
		in.push(inItem{kind: inBytes, data: p})
		return
	}
	b := getChunk(len(p))
	if b == nil {
		in.push(inItem{kind: inBytes, data: append([]byte(nil), p...)})
		return
	}
	*b = append(*b, p...)
	in.push(inItem{kind: inBytes, data: *b, chunk: b})
}

// chunkPools hold the copies Bytes makes, by size class: 2^9 to 2^16
// bytes. A parse function keeps nothing of the bytes it is given, so each
// copy goes back once parsed, and a stream of reads allocates nothing.
var chunkPools [8]sync.Pool

// chunkClass returns the pool for n bytes, or -1 above the largest class.
func chunkClass(n int) int {
	c := max(bits.Len(uint(n-1))-9, 0)
	if c >= len(chunkPools) {
		return -1
	}
	return c
}

// getChunk returns an empty buffer from the pools with room for n bytes;
// nil for more than the largest class holds.
func getChunk(n int) *[]byte {
	c := chunkClass(n)
	if c < 0 {
		return nil
	}
	if b, ok := chunkPools[c].Get().(*[]byte); ok {
		*b = (*b)[:0]
		return b
	}
	b := make([]byte, 0, 512<<c)
	return &b
}

// putChunk gives b, from getChunk, back to its pool. It keeps the pointer
// it got, so that giving back allocates nothing.
func putChunk(b *[]byte) {
	if c := chunkClass(cap(*b)); c >= 0 && cap(*b) == 512<<c {
		chunkPools[c].Put(b)
	}
}

// Message queues a complete text or binary message, fragments
// reassembled, for HandleIn. owned says data is the Inbox's from now on.
func (in *Inbox) Message(op websock.Opcode, data []byte, owned bool) {
	if !owned && len(data) > 0 {
		data = append([]byte(nil), data...)
	}
	in.push(inItem{kind: inMessage, op: op, data: data})
}

// Ping queues a ping the library received and did not answer: the engine
// answers it, as [Events.Ping] says.
func (in *Inbox) Ping(payload []byte) {
	in.push(inItem{kind: inPing, data: append([]byte(nil), payload...)})
}

// Control queues a pong, or a ping the library answered, as
// [Events.Control] says.
func (in *Inbox) Control(op websock.Opcode, payload []byte) {
	in.push(inItem{kind: inControl, op: op, data: append([]byte(nil), payload...)})
}

// End queues the end of reading, with the error that ended it, as
// Transport.Read returns it: what was queued before is handled first.
// Only the first End counts.
func (in *Inbox) End(err error) {
	in.push(inItem{kind: inEnd, err: err})
}

// Queued returns how many bytes are queued and not yet handled.
func (in *Inbox) Queued() int {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.queued
}

// push queues it, and starts the actor if the connection runs and no
// actor does.
func (in *Inbox) push(it inItem) {
	in.mu.Lock()
	if in.ended {
		in.mu.Unlock()
		return
	}
	in.q = append(in.q, it)
	in.queued += len(it.data)
	pause := in.high > 0 && !in.paused && in.queued > in.high && in.pause != nil
	if pause {
		in.paused = true
	}
	start := in.c != nil && !in.running
	if start {
		in.running = true
	}
	f := in.pause
	in.mu.Unlock()
	if pause {
		f(true)
	}
	if start {
		go in.run()
	}
}

// start hands the Inbox to c, once Init has run, and runs what was
// queued before.
func (in *Inbox) start(c *conn) {
	in.mu.Lock()
	in.c = c
	start := len(in.q) > 0 && !in.running
	if start {
		in.running = true
	}
	in.mu.Unlock()
	if start {
		in.run() // on the goroutine that ran Init: it is the actor now
	}
}

// run is the connection's actor: it handles what is queued, in order,
// until the queue is empty or reading ended.
func (in *Inbox) run() {
	for {
		in.mu.Lock()
		if len(in.q) == 0 {
			in.running = false
			in.q = in.q[:0:0]
			in.mu.Unlock()
			return
		}
		it := in.q[0]
		in.q[0] = inItem{}
		in.q = in.q[1:]
		in.queued -= len(it.data)
		resume := in.paused && in.queued <= in.high/2
		if resume {
			in.paused = false
		}
		f, c := in.pause, in.c
		in.mu.Unlock()
		if resume {
			f(false)
		}
		if err, end := in.handle(c, it); end {
			in.mu.Lock()
			in.ended, in.q, in.queued = true, nil, 0
			in.mu.Unlock()
			c.endEvents(err)
			return
		}
	}
}

// handle hands one item to c; end says reading ended, with err.
func (in *Inbox) handle(c *conn, it inItem) (err error, end bool) {
	switch it.kind {
	case inBytes:
		if in.parse == nil {
			return errNoParse, true
		}
		err = in.parse(c, it.data)
		if it.chunk != nil {
			putChunk(it.chunk)
		}
	case inMessage:
		err = c.Message(it.op, it.data)
	case inPing:
		c.Ping(it.data)
	case inControl:
		c.Control(it.op, it.data)
	case inEnd:
		return it.err, true
	}
	return err, err != nil
}

var errNoParse = errors.New("websock: Inbox.Bytes was called on an Inbox made with no parse function; pass one (such as wire.Parser.Parse) to NewInbox")

// servePush runs the connection over a PushTransport: Init on the calling
// goroutine, then what the library pushes, on the connection's actor,
// until reading ends; then it closes the Transport, calls Terminate and
// Release, and calls done with the Reason.
func (c *conn) servePush(pt PushTransport, done func(websock.Reason)) {
	c.done = done
	c.begin()
	pt.Inbox().start(c)
}

// Start runs h over tr, a connection already upgraded, as [Engine.Run]
// does, but returns as soon as the connection runs: on its events for an
// EventTransport or a PushTransport (an idle connection then holds no
// goroutine), on a goroutine of its own for a Transport. done, when not
// nil, gets the Reason once Terminate has been called. It is the
// ServeConn of an event-driven adapter, whose caller upgraded the
// connection and has no goroutine to lend it.
func (e *Engine) Start(tr Writer, h websock.Handler, info *websock.ConnInfo, done func(websock.Reason)) {
	if done == nil {
		done = func(websock.Reason) {}
	}
	if !runsOnEvents(tr) {
		go func() { done(e.Run(tr, h, info)) }()
		return
	}
	if r, started := e.run(tr, h, info, nil, done, false); !started {
		done(r)
	}
}
