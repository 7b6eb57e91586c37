package gws

import (
	"bytes"
	"io"
	"reflect"
	"sync"
	"unsafe"

	"github.com/klauspost/compress/flate"
	"github.com/lxzan/gws"
)

// gws (v1.8.9) inflates a compressed message into a buffer of a
// decompressor the connection shares with others (PermessageDeflate's
// PoolSize of them per upgrader, 32 by default), grown to the largest
// message it inflated, or as far as an inflate bomb got before
// ReadMaxPayloadSize stopped it, and replaced by a small one only when
// that decompressor next inflates. Each of them then keeps up to twice
// MaxMessageSize for as long as the process runs: a third of a GiB with a
// limit of 4 MiB, after every connection has ended. The library has no
// way to give it back, so the adapter does what gws itself does before
// its next inflate, at once: after a large message, and when a
// connection ends, it replaces a buffer over gws's own threshold by an
// empty one, under the decompressor's lock.
//
// The compressor beside it keeps the buffer of the last frame it
// compressed into (the whole frame, sized for the message uncompressed)
// as the writer it writes to, until it next compresses: after a large
// message the adapter points it at io.Discard.
//
// It reaches them through the unexported fields Conn.deflater,
// deflater.dpsLocker, deflater.dpsBuffer, deflater.cpsLocker and
// deflater.cpsWriter, found once by name and type: if a version of gws
// lays them out otherwise, nothing is released
// (TestInflateBuffersReleased fails) and nothing else changes.

// keepInflated is the capacity above which an idle inflate buffer is
// dropped: gws's own threshold (SetBufferThreshold, 256 KiB by default),
// above which it drops the buffer before its next inflate.
const keepInflated = 256 << 10

// inflateFields locates the decompressor's lock and buffer; ok is false
// when the library's layout is not the one expected.
var inflateFields = sync.OnceValue(func() (f struct {
	deflater, dpsLocker, dpsBuffer, cpsLocker, cpsWriter uintptr
	ok                                                   bool
}) {
	conn := reflect.TypeFor[gws.Conn]()
	d, found := conn.FieldByName("deflater")
	if !found || d.Type.Kind() != reflect.Pointer || d.Type.Elem().Kind() != reflect.Struct {
		return f
	}
	field := func(name string, want reflect.Type) (uintptr, bool) {
		sf, ok := d.Type.Elem().FieldByName(name)
		return sf.Offset, ok && sf.Type == want
	}
	var ok [4]bool
	f.dpsLocker, ok[0] = field("dpsLocker", reflect.TypeFor[sync.Mutex]())
	f.dpsBuffer, ok[1] = field("dpsBuffer", reflect.TypeFor[*bytes.Buffer]())
	f.cpsLocker, ok[2] = field("cpsLocker", reflect.TypeFor[sync.Mutex]())
	f.cpsWriter, ok[3] = field("cpsWriter", reflect.TypeFor[*flate.Writer]())
	f.deflater, f.ok = d.Offset, ok == [4]bool{true, true, true, true}
	return f
})

// deflaterOf returns the decompressor and compressor s uses, nil without
// compression or with a layout not the one expected.
func deflaterOf(s *gws.Conn) unsafe.Pointer {
	if !inflateFields().ok || s == nil {
		return nil
	}
	return *(*unsafe.Pointer)(unsafe.Add(unsafe.Pointer(s), inflateFields().deflater))
}

// releaseCompressed points the compressor s uses at io.Discard, so that
// it no longer holds the frame it last compressed into.
func releaseCompressed(s *gws.Conn) {
	d := deflaterOf(s)
	if d == nil {
		return
	}
	f := inflateFields()
	mu := (*sync.Mutex)(unsafe.Add(d, f.cpsLocker))
	w := *(**flate.Writer)(unsafe.Add(d, f.cpsWriter))
	mu.Lock()
	if w != nil {
		w.Reset(io.Discard)
	}
	mu.Unlock()
}

// releaseInflated drops the inflate buffer of the decompressor s uses, if
// it holds more than keepInflated bytes of capacity.
func releaseInflated(s *gws.Conn) {
	d := deflaterOf(s)
	if d == nil {
		return
	}
	f := inflateFields()
	mu := (*sync.Mutex)(unsafe.Add(d, f.dpsLocker))
	buf := (**bytes.Buffer)(unsafe.Add(d, f.dpsBuffer))
	mu.Lock()
	if *buf != nil && (*buf).Cap() > keepInflated {
		*buf = bytes.NewBuffer(nil)
	}
	mu.Unlock()
}
