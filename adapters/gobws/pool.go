package gobws

import (
	"compress/flate"
	"io"
	"sync"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsflate"
)

// Everything a connection needs only while it reads or writes a frame comes
// from these pools, so that an idle connection holds none of it. The
// pools hold pointers, so that getting and putting does not allocate.

const (
	// minBuffer is the capacity a message or write buffer starts with.
	minBuffer = 4 << 10
	// keepBuffer is the largest buffer put back in a pool; a larger one,
	// grown for a big message, is left to the garbage collector.
	keepBuffer = 64 << 10
)

// buffer is a pooled byte buffer. It is an io.Writer that appends, so that
// headers and compressed payloads can be written into it.
type buffer struct {
	b       []byte
	scratch [ws.MaxHeaderSize]byte // for ws.WriteHeaderBuffer
}

func (b *buffer) Write(p []byte) (int, error) {
	b.b = append(b.b, p...)
	return len(p), nil
}

var bufferPool = sync.Pool{New: func() any { return &buffer{b: make([]byte, 0, minBuffer)} }}

func getBuffer() *buffer { return bufferPool.Get().(*buffer) }

func putBuffer(b *buffer) {
	if cap(b.b) > keepBuffer {
		b.b = nil // too big to keep; grown again from minBuffer if needed
	}
	b.b = b.b[:0]
	bufferPool.Put(b)
}

// grow returns b with room for at least one more byte, doubling its
// capacity when full: a buffer grows no faster than the bytes that fill
// it arrive, whatever length the peer declared, and growing it copies
// each byte only a few times. limit, when positive, caps the capacity.
func grow(b []byte, limit int64) []byte {
	if cap(b) > len(b) {
		return b
	}
	c := max(2*cap(b), minBuffer)
	if limit > 0 {
		c = int(min(int64(c), limit))
	}
	c = max(c, len(b)+1)
	nb := make([]byte, len(b), c)
	copy(nb, b)
	return nb
}

// room returns b emptied, with a capacity of at least n.
func room(b []byte, n int) []byte {
	if cap(b) < n {
		return make([]byte, 0, max(n, minBuffer))
	}
	return b[:0]
}

// inflater is a pooled permessage-deflate decompressor. flate's reader
// resets with a dictionary argument, which wsflate does not know; Reset
// here gives it the method wsflate looks for, so that wsflate reuses it
// instead of making a new one for every message.
type inflater struct{ io.ReadCloser }

func (f *inflater) Reset(r io.Reader) { f.ReadCloser.(flate.Resetter).Reset(r, nil) }

var inflaterPool = sync.Pool{New: func() any {
	return wsflate.NewReader(nil, func(r io.Reader) wsflate.Decompressor {
		return &inflater{flate.NewReader(r)}
	})
}}

func getInflater(src io.Reader) *wsflate.Reader {
	fr := inflaterPool.Get().(*wsflate.Reader)
	fr.Reset(src)
	return fr
}

func putInflater(fr *wsflate.Reader) {
	fr.Reset(nil)
	inflaterPool.Put(fr)
}

// compressLevel trades ratio for speed: messages are compressed one by one
// without context, so a higher level gains little.
const compressLevel = flate.BestSpeed

// deflaterPool holds compressors with the 32 KiB window of compress/flate,
// huffmanPool those that make no back-references, for a connection whose
// client asked for a smaller window. A pooled compressor still refers to
// the buffer it last wrote to, which is pooled too: getDeflater resets it
// before any write.
var (
	deflaterPool = newDeflaterPool(compressLevel)
	huffmanPool  = newDeflaterPool(flate.HuffmanOnly)
)

func newDeflaterPool(level int) sync.Pool {
	return sync.Pool{New: func() any {
		return wsflate.NewWriter(nil, func(w io.Writer) wsflate.Compressor {
			fw, _ := flate.NewWriter(w, level) // the level is valid: no error
			return fw
		})
	}}
}

func getDeflater(pool *sync.Pool, dst io.Writer) *wsflate.Writer {
	fw := pool.Get().(*wsflate.Writer)
	fw.Reset(dst)
	return fw
}
