package gobws

import (
	"encoding/binary"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsflate"

	"github.com/websock-go/websock/adapters"
	"github.com/websock-go/websock/websock"
)

// writeCopyMax is the largest payload copied behind its header into a
// pooled buffer, to be written with one call; a larger one is written
// after its header, from where it is, saving the copy.
const writeCopyMax = 32 << 10

// WriteFrame writes one unfragmented frame, compressing text and binary
// payloads when permessage-deflate was negotiated.
func (t *transport) WriteFrame(op websock.Opcode, data []byte) error {
	h := ws.Header{Fin: true, OpCode: ws.OpCode(op), Length: int64(len(data))}
	if t.deflate && !op.IsControl() {
		return t.writeCompressed(h, data)
	}
	return t.write(h, data)
}

// WriteClose writes a close frame with code and text, or with no payload
// when code is 1005. It does not wait for the peer's.
func (t *transport) WriteClose(code websock.CloseCode, text string) error {
	h := ws.Header{Fin: true, OpCode: ws.OpClose}
	if code == websock.CloseNoStatus {
		return t.write(h, nil)
	}
	text = text[:min(len(text), ws.MaxControlFramePayloadSize-2)] // the engine keeps it shorter already
	h.Length = int64(2 + len(text))
	if t.client {
		var p [ws.MaxControlFramePayloadSize]byte
		binary.BigEndian.PutUint16(p[:], uint16(code))
		return t.write(h, p[:2+copy(p[2:], text)])
	}
	b := getBuffer()
	defer putBuffer(b)
	if err := ws.WriteHeaderBuffer(b, h, b.scratch[:]); err != nil {
		return err
	}
	b.b = binary.BigEndian.AppendUint16(b.b, uint16(code))
	b.b = append(b.b, text...)
	_, err := t.nc.Write(b.b)
	return err
}

// writeCompressed compresses data as one permessage-deflate message, with
// a pooled compressor that keeps no context between messages. When the
// client limited the server's window below the 32 KiB compress/flate
// uses, the compressor makes no back-references at all (Huffman codes
// only), which fits any window (RFC 7692 section 7.1.2.1).
func (t *transport) writeCompressed(h ws.Header, data []byte) error {
	c := getBuffer()
	defer putBuffer(c)
	pool := &deflaterPool
	if t.huffman {
		pool = &huffmanPool
	}
	fw := getDeflater(pool, c)
	defer pool.Put(fw)
	if _, err := fw.Write(data); err != nil {
		return err
	}
	if err := fw.Flush(); err != nil {
		return err
	}
	h.Length = int64(len(c.b))
	h, err := wsflate.SetBit(h)
	if err != nil {
		return err
	}
	return t.write(h, c.b)
}

// write writes the frame with header h and payload p; on the client's
// side, masked, from a copy.
func (t *transport) write(h ws.Header, p []byte) error {
	b := getBuffer()
	defer putBuffer(b)
	if t.client {
		h.Masked, h.Mask = true, ws.NewMask()
	}
	if err := ws.WriteHeaderBuffer(b, h, b.scratch[:]); err != nil {
		return err
	}
	if t.client {
		start := len(b.b)
		b.b = append(b.b, p...)
		ws.Cipher(b.b[start:], h.Mask, 0)
		_, err := t.nc.Write(b.b)
		return err
	}
	if len(p) > writeCopyMax {
		if _, err := t.nc.Write(b.b); err != nil {
			return err
		}
		_, err := t.nc.Write(p)
		return err
	}
	b.b = append(b.b, p...)
	_, err := t.nc.Write(b.b)
	return err
}

// WritePrepared writes a prepared message's frame, shared with every
// connection that writes it with the same compression, in one write. The
// client's side masks each frame with a key of its own, so it writes the
// message as WriteFrame does.
func (t *transport) WritePrepared(p *websock.Prepared) error {
	if t.client {
		return t.WriteFrame(p.Op(), p.Data())
	}
	bits := 15
	if t.huffman {
		bits = 8 // any window under 32 KiB: Huffman codes only, as writeCompressed does
	}
	b, err := adapters.ServerFrame(p, t.deflate, bits)
	if err != nil {
		return err
	}
	_, err = t.nc.Write(b)
	return err
}
