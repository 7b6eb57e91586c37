package adapters

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"sync"

	"github.com/websock-go/websock/websock"
)

// PreparedWriter is implemented by a Transport that writes a prepared
// message (see websock.Prepared) from bytes shared between connections,
// usually those of [ServerFrame]. The engine calls WritePrepared, in
// place of WriteFrame and under the same rules, for every frame made by
// Prepared.Frame. A Transport that cannot use shared bytes on some
// connection (a client's frames are masked, each with its own key)
// writes p.Op() and p.Data() as WriteFrame would.
//
// When a Transport does not implement it, the engine calls WriteFrame with
// the message's opcode and data: the message is framed, and compressed,
// once per connection.
type PreparedWriter interface {
	WritePrepared(p *websock.Prepared) error
}

// ServerFrame returns p as one whole frame from a server (unmasked, FIN
// set), made on first use and then shared by every connection that asks
// for the same encoding. With deflate set, a text or binary message is
// compressed for permessage-deflate (RFC 7692, RSV1 set) as a message of
// its own, with no context from earlier ones: any connection may share
// it whose server side keeps no compression context between messages.
// windowBits is the server window negotiated (server_max_window_bits, 8
// to 15; 0 means 15): below 15 the message is compressed with Huffman
// codes only, which refer back to nothing and so fit every window. A
// control frame is never compressed.
//
// The bytes are shared: do not modify them.
func ServerFrame(p *websock.Prepared, deflate bool, windowBits int) ([]byte, error) {
	switch {
	case !deflate || p.Op().IsControl():
		return p.Encoded("server", encodePlain)
	case windowBits == 0 || windowBits >= 15:
		return p.Encoded("server+deflate", encodeDeflate)
	}
	return p.Encoded("server+deflate-huffman", encodeHuffman)
}

func encodePlain(op websock.Opcode, data []byte) ([]byte, error) {
	b := appendHeader(make([]byte, 0, maxHeader+len(data)), op, false, len(data))
	return append(b, data...), nil
}

func encodeDeflate(op websock.Opcode, data []byte) ([]byte, error) {
	return encodeCompressed(&fastDeflaters, op, data)
}

func encodeHuffman(op websock.Opcode, data []byte) ([]byte, error) {
	return encodeCompressed(&huffmanDeflaters, op, data)
}

// maxHeader is the longest frame header from a server: 2 bytes and a
// 64-bit length.
const maxHeader = 10

// The compressors of prepared messages, pooled: compress/flate's are
// large, and a broadcast compresses one message at a time. BestSpeed, as
// a message is compressed without context, where a higher level gains
// little.
var (
	fastDeflaters    = deflaterPool(flate.BestSpeed)
	huffmanDeflaters = deflaterPool(flate.HuffmanOnly)
)

func deflaterPool(level int) sync.Pool {
	return sync.Pool{New: func() any {
		fw, _ := flate.NewWriter(nil, level) // the level is valid: no error
		return fw
	}}
}

// encodeCompressed compresses data with a compressor from pool and frames
// it: RFC 7692 section 7.2.1, the output of a sync flush without its last
// four bytes (0x00 0x00 0xff 0xff).
func encodeCompressed(pool *sync.Pool, op websock.Opcode, data []byte) ([]byte, error) {
	var out bytes.Buffer
	out.Grow(maxHeader + len(data)/2 + 64)
	out.Write(make([]byte, maxHeader)) // room for the header, filled in below
	fw := pool.Get().(*flate.Writer)
	defer pool.Put(fw)
	fw.Reset(&out)
	if _, err := fw.Write(data); err != nil {
		return nil, err
	}
	if err := fw.Flush(); err != nil {
		return nil, err
	}
	fw.Reset(nil) // let go of out
	b := bytes.TrimSuffix(out.Bytes(), []byte{0x00, 0x00, 0xff, 0xff})
	payload := len(b) - maxHeader
	h := appendHeader(nil, op, true, payload)
	start := maxHeader - len(h)
	copy(b[start:], h)
	return b[start:], nil
}

// appendHeader appends the header of an unmasked, final frame of opcode
// op with a payload of n bytes; compressed sets RSV1.
func appendHeader(b []byte, op websock.Opcode, compressed bool, n int) []byte {
	b0 := 0x80 | byte(op)
	if compressed {
		b0 |= 0x40
	}
	switch {
	case n < 126:
		return append(b, b0, byte(n))
	case n <= 0xffff:
		return binary.BigEndian.AppendUint16(append(b, b0, 126), uint16(n))
	}
	return binary.BigEndian.AppendUint64(append(b, b0, 127), uint64(n))
}
