package gobws

import (
	"bytes"
	"compress/flate"
	"errors"
	"io"
	"net"
	"testing"
	"unicode/utf8"

	"github.com/gobwas/ws"

	"github.com/websock-go/websock/adapters"
	"github.com/websock-go/websock/adapters/wire"
	"github.com/websock-go/websock/websock"
)

// cutConn is a net.Conn whose reads return the bytes of a stream in
// pieces whose lengths cycle through cuts (no cuts: all at once), then
// io.EOF. Nothing else of it is used by the read side.
type cutConn struct {
	net.Conn
	p    []byte
	cuts []byte
	i    int
}

func (c *cutConn) Read(b []byte) (int, error) {
	if len(c.p) == 0 {
		return 0, io.EOF
	}
	n := len(c.p)
	if len(c.cuts) > 0 {
		n = 1 + int(c.cuts[c.i%len(c.cuts)])
		c.i++
	}
	n = copy(b, c.p[:min(n, len(c.p))])
	c.p = c.p[n:]
	return n, nil
}

// events records what the read side reports, and checks each report.
type events struct {
	t    *testing.T
	max  int64
	utf8 bool
	log  []string
}

func (e *events) Message(op websock.Opcode, data []byte) error {
	if e.max > 0 && int64(len(data)) > e.max {
		e.t.Fatalf("a message of %d bytes, over the maximum of %d", len(data), e.max)
	}
	if op == websock.OpText && e.utf8 && !utf8.Valid(data) {
		e.t.Fatalf("a text message that is not UTF-8: %x", data)
	}
	if op != websock.OpText && op != websock.OpBinary {
		e.t.Fatalf("a message with opcode %d", op)
	}
	e.log = append(e.log, op.String()+":"+string(data))
	return nil
}

func (e *events) Ping(p []byte) { e.control(websock.OpPing, p) }

func (e *events) Control(op websock.Opcode, p []byte) { e.control(op, p) }

func (e *events) control(op websock.Opcode, p []byte) {
	if len(p) > ws.MaxControlFramePayloadSize {
		e.t.Fatalf("a %v frame of %d bytes", op, len(p))
	}
	e.log = append(e.log, op.String()+":"+string(p))
}

// readStream runs the read side over stream, cut into reads by cuts, and
// returns what it reported and the error that ended it.
func readStream(t *testing.T, stream, cuts []byte, deflate, skipUTF8 bool, max int64) ([]string, error) {
	nc := &cutConn{p: stream, cuts: cuts}
	tr := newTransport(nc, nil, deflate, &adapters.Options{MaxMessageSize: max, SkipUTF8Validation: skipUTF8})
	ev := &events{t: t, max: max, utf8: !skipUTF8}
	err := tr.Read(ev)
	tr.Release()
	if err == nil {
		t.Fatal("Read returned nil")
	}
	return ev.log, err
}

// errorClass names what kind of end err is, for comparing two reads of one
// stream.
func errorClass(err error) string {
	var ce *websock.CloseError
	switch {
	case errors.As(err, &ce):
		return "close " + ce.Code.String() + " " + ce.Text
	case errors.Is(err, websock.ErrProtocol):
		return "protocol"
	case errors.Is(err, websock.ErrInvalidUTF8):
		return "utf8"
	case errors.Is(err, websock.ErrMessageTooBig):
		return "too big"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, errNoProgress):
		return "ended"
	}
	return "other: " + err.Error()
}

func clientFrame(fin bool, rsv byte, op ws.OpCode, p []byte) []byte {
	var buf bytes.Buffer
	f := ws.MaskFrameWith(ws.Frame{Header: ws.Header{Fin: fin, Rsv: rsv, OpCode: op, Length: int64(len(p))}, Payload: p}, [4]byte{0x37, 0xfa, 0x21, 0x3d})
	ws.WriteFrame(&buf, f)
	return buf.Bytes()
}

func deflated(p []byte) []byte {
	var buf bytes.Buffer
	w, _ := flate.NewWriter(&buf, flate.BestCompression)
	w.Write(p)
	w.Flush()
	return bytes.TrimSuffix(buf.Bytes(), []byte{0, 0, 0xff, 0xff})
}

// FuzzReadFrames feeds the read side any byte stream, cut into reads
// anywhere, with and without permessage-deflate, and checks what it
// reports: no message over the maximum, no invalid text, no control frame
// over 125 bytes, an error that says why reading ended; and that how the
// stream was cut changes nothing: the same messages and control frames,
// and the same kind of end, as when it arrives all at once.
func FuzzReadFrames(f *testing.F) {
	cat := func(bs ...[]byte) []byte { return bytes.Join(bs, nil) }
	f.Add(cat(clientFrame(true, 0, ws.OpText, []byte("héllo")), clientFrame(true, 0, ws.OpClose, []byte{3, 232, 'b', 'y', 'e'})), []byte{0, 3}, false, false, uint16(0))
	f.Add(cat(clientFrame(false, 0, ws.OpText, []byte{0xE2, 0x82}), clientFrame(true, 0, ws.OpPing, []byte("p")), clientFrame(true, 0, ws.OpContinuation, []byte{0xAC})), []byte{1}, false, false, uint16(10))
	f.Add(cat(clientFrame(true, 4, ws.OpText, deflated([]byte("a compressed message, a compressed message"))), clientFrame(true, 0, ws.OpBinary, []byte{1, 2, 3})), []byte{}, true, false, uint16(20))
	f.Add(cat(clientFrame(false, 4, ws.OpBinary, deflated(bytes.Repeat([]byte{0}, 5000))[:3]), clientFrame(true, 0, ws.OpPong, nil), clientFrame(true, 0, ws.OpContinuation, deflated(bytes.Repeat([]byte{0}, 5000))[3:])), []byte{5, 0}, true, false, uint16(1000))
	f.Add(cat(clientFrame(true, 0, ws.OpText, []byte{0xFF})), []byte{}, false, true, uint16(0))
	f.Add(cat(clientFrame(true, 0, ws.OpClose, []byte{3})), []byte{}, false, false, uint16(0))
	f.Add([]byte{0x81, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4}, []byte{}, false, false, uint16(0))
	f.Fuzz(func(t *testing.T, stream, cuts []byte, deflate, skipUTF8 bool, max uint16) {
		limit := int64(max)
		if deflate && limit == 0 {
			limit = 1 << 20 // a few bytes may inflate to gigabytes: bound each run
		}
		log, err := readStream(t, stream, cuts, deflate, skipUTF8, limit)
		whole, werr := readStream(t, stream, nil, deflate, skipUTF8, limit)
		if len(log) != len(whole) {
			t.Fatalf("cut into reads: %d reports, then %v; all at once: %d, then %v", len(log), err, len(whole), werr)
		}
		for i := range log {
			if log[i] != whole[i] {
				t.Fatalf("report %d: cut into reads %q, all at once %q", i, log[i], whole[i])
			}
		}
		if c, w := errorClass(err), errorClass(werr); c != w {
			t.Fatalf("cut into reads, reading ended with %v (%s); all at once with %v (%s)", err, c, werr, w)
		}
		if c := errorClass(err); len(c) > 5 && c[:5] == "other" {
			t.Fatalf("reading ended with an unexpected error: %v", err)
		}
	})
}

// FuzzCloseError checks the parse of a close frame payload against that
// of package wire, which also checks the reason's UTF-8, left to the
// engine here.
func FuzzCloseError(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{3})
	f.Add([]byte{3, 232, 'o', 'k'})
	f.Add([]byte{3, 237})
	f.Add([]byte{15, 160, 0xFF})
	f.Fuzz(func(t *testing.T, p []byte) {
		if len(p) > ws.MaxControlFramePayloadSize {
			p = p[:ws.MaxControlFramePayloadSize]
		}
		got, want := closeError(p), wire.CloseError(p)
		var gce, wce *websock.CloseError
		switch {
		case errors.As(want, &wce):
			if !errors.As(got, &gce) || *gce != *wce {
				t.Fatalf("payload %x: %v, want %v", p, got, want)
			}
		case errors.As(got, &gce):
			if utf8.ValidString(gce.Text) {
				t.Fatalf("payload %x: %v, want %v", p, got, want)
			}
		case !errors.Is(got, websock.ErrProtocol):
			t.Fatalf("payload %x: %v, want an error wrapping ErrProtocol", p, got)
		}
	})
}
