package websock

import (
	"sync"
	"sync/atomic"
)

// Prepared is a message made once and pushed to many connections, the way
// a broadcast is: the adapters put it on the wire once per distinct
// encoding (framed, and compressed for the connections whose
// permessage-deflate parameters let them share one compressed frame)
// rather than once per connection, and share the bytes.
//
// Push it with [Prepared.Frame], from any callback:
//
//	return websock.Push(p.Frame())
//
// A Prepared usually reaches the handlers through [Conn.Send], one Send
// per connection, each HandleInfo pushing it. An adapter that cannot write
// shared frame bytes writes the Frame's opcode and data as it writes any
// other frame: the message was still encoded once, by whoever made it.
// Each adapter's documentation says what it does.
//
// A Prepared is safe for concurrent use. Its data must not be modified
// once it is made.
type Prepared struct {
	op   Opcode
	data []byte

	mu   sync.Mutex                // serialises the making of encodings
	encs atomic.Pointer[[]encoded] // the encodings made so far; replaced, never changed
}

// encoded is one encoding of a Prepared, as an adapter made it.
type encoded struct {
	key string
	b   []byte
	err error
}

// NewPrepared returns a Prepared message of opcode op (usually [OpText] or
// [OpBinary]) holding data, which it keeps: do not modify data afterwards.
// The rules of any pushed frame apply to it: text must be valid UTF-8, a
// ping or pong carries at most 125 bytes.
func NewPrepared(op Opcode, data []byte) *Prepared {
	return &Prepared{op: op, data: data}
}

// Op returns the message's opcode.
func (p *Prepared) Op() Opcode { return p.op }

// Data returns the message's payload. It is shared: do not modify it.
func (p *Prepared) Data() []byte { return p.data }

// Frame returns the Frame that pushes p: its Op and Data are p's, and it
// refers to p, so that the engine writes p's shared encoding. Pushing it
// does not allocate. Changing the Frame's fields makes a Frame that still
// writes p.
func (p *Prepared) Frame() Frame { return Frame{Op: p.op, Data: p.data, prepared: p} }

// Prepared returns the Prepared message f was made from by
// [Prepared.Frame], or nil.
func (f Frame) Prepared() *Prepared { return f.prepared }

// Encoded returns what encode makes of the message for key: the first
// call for a key runs encode, with the message's opcode and data, and
// every call for that key, from any goroutine, gets the same bytes and
// error. Calls for a key another call is encoding wait for it. The bytes
// are shared: do not modify them.
//
// It is for adapters, which encode a message once per way of putting it
// on the wire (such as "a server frame, compressed with a 32 KiB window").
// A key names one such way; two adapters that use the same key must make
// the same bytes of it.
func (p *Prepared) Encoded(key string, encode func(op Opcode, data []byte) ([]byte, error)) ([]byte, error) {
	if e := p.find(key); e != nil {
		return e.b, e.err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if e := p.find(key); e != nil {
		return e.b, e.err
	}
	b, err := encode(p.op, p.data)
	var encs []encoded
	if old := p.encs.Load(); old != nil {
		encs = append(encs, *old...)
	}
	encs = append(encs, encoded{key: key, b: b, err: err})
	p.encs.Store(&encs)
	return b, err
}

// find returns the encoding made for key, or nil.
func (p *Prepared) find(key string) *encoded {
	encs := p.encs.Load()
	if encs == nil {
		return nil
	}
	for i := range *encs {
		if (*encs)[i].key == key {
			return &(*encs)[i]
		}
	}
	return nil
}
