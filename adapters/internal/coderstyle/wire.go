package coderstyle

import (
	"bufio"
	"encoding/binary"
	"net"
	"net/http"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/websock-go/websock/websock"
)

// hijacker wraps the http.ResponseWriter handed to the library's Accept,
// so that the connection the library hijacks is a wire: every byte the
// library writes then passes through it.
type hijacker struct {
	http.ResponseWriter
	wire *wire // set by Hijack
}

var _ http.Hijacker = (*hijacker)(nil)

// Hijack hijacks the underlying connection, wraps it in a wire, and points
// the buffered writer the library will write through at the wire.
func (h *hijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	nc, brw, err := http.NewResponseController(h.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	h.wire = &wire{Conn: nc}
	brw.Writer.Reset(h.wire) // empty: net/http flushed the response before handing it over
	return h.wire, brw, nil
}

// wire is the network connection under a library connection the adapter
// accepted itself. The libraries have no way to write a close frame
// without then waiting for the peer's, nor any to write a ping or pong of
// one's choice; the wire does both. It follows the frames the library
// writes, so it knows when a close frame has gone out, from either side,
// and drops whatever would follow one: the library's echo of a close the
// engine started, or the engine's close after the library's own.
type wire struct {
	net.Conn

	mu        sync.Mutex
	closeSent bool
	out       frameTracker
	ctl       [2 + maxControl]byte // a control frame being written
}

// maxControl is the largest payload of a control frame (RFC 6455, section
// 5.5).
const maxControl = 125

// Write writes p, the library's output, up to and including the first
// close frame; it drops what follows, and everything once a close frame
// has gone out.
func (w *wire) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closeSent {
		return len(p), nil
	}
	n, closed := w.out.track(p)
	w.closeSent = closed
	if closed && w.out.start >= 0 && !validCloseReason(w.out.closePayload) {
		// The library is echoing a close whose reason is not UTF-8,
		// which RFC 6455 section 7.1.6 says fails the connection: send
		// 1002 in its place, as the engine will report.
		if m, err := w.Conn.Write(p[:w.out.start]); err != nil {
			return m, err
		}
		b := append(binary.BigEndian.AppendUint16(w.ctl[:2], uint16(websock.CloseProtocolError)), badReasonText...)
		b[0], b[1] = 0x80|opClose, byte(len(b)-2)
		if _, err := w.Conn.Write(b); err != nil {
			return w.out.start, err
		}
		return len(p), nil
	}
	if m, err := w.Conn.Write(p[:n]); err != nil {
		return m, err
	}
	return len(p), nil
}

// badReasonText is the reason of the close the wire sends in place of the
// echo of a close whose reason is not UTF-8.
const badReasonText = "invalid UTF-8 in close reason"

// validCloseReason reports whether the reason in the close payload p, if
// any, is UTF-8.
func validCloseReason(p []byte) bool { return len(p) <= 2 || utf8.Valid(p[2:]) }

// closed reports whether a close frame has gone out.
func (w *wire) closed() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.closeSent
}

// writeControl writes a ping or pong frame, with deadline, unless a close
// frame has gone out, after which nothing may be written.
func (w *wire) writeControl(op websock.Opcode, payload []byte, deadline time.Time) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closeSent {
		return nil
	}
	return w.writeFrameLocked(op, append(w.ctl[:2], payload...), deadline)
}

// writeClose writes a close frame with code and text, or an empty one for
// 1005, unless a close frame has gone out already.
func (w *wire) writeClose(code websock.CloseCode, text string, deadline time.Time) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closeSent {
		return nil
	}
	w.closeSent = true
	b := w.ctl[:2]
	if code != websock.CloseNoStatus {
		b = binary.BigEndian.AppendUint16(b, uint16(code))
		b = append(b, text[:min(len(text), maxControl-2)]...)
	}
	return w.writeFrameLocked(websock.OpClose, b, deadline)
}

// writeFrameLocked writes the control frame whose payload follows the two
// header bytes in b. Called with mu held. Control frames are written whole,
// between the library's frames: the library flushes every frame it ends.
func (w *wire) writeFrameLocked(op websock.Opcode, b []byte, deadline time.Time) error {
	if len(b)-2 > maxControl {
		return errControlTooLong
	}
	b[0] = 0x80 | byte(op) // FIN
	b[1] = byte(len(b) - 2)
	w.Conn.SetWriteDeadline(deadline)
	_, err := w.Conn.Write(b)
	w.Conn.SetWriteDeadline(time.Time{})
	return err
}

// frameTracker follows the frames of the stream a server writes, which are
// never masked (RFC 6455, section 5.1), by their headers.
type frameTracker struct {
	hdr  [10]byte // the header being read
	hn   int      // how many bytes of it were seen
	left uint64   // payload bytes of the current frame still to come
	op   byte     // the current frame's opcode

	// start is where, in the p of the last track call, the current frame
	// began; -1 when it began in an earlier call.
	start int
	// closePayload holds what has been seen of the payload of the
	// current frame, when it is a close frame.
	closePayload []byte
	closeBuf     [maxControl]byte
}

const opClose = 0x8

// track follows p through the stream. It returns how many bytes of p run
// up to the end of the first close frame that ends in p, and whether one
// does; if none does, all of p.
func (t *frameTracker) track(p []byte) (n int, closed bool) {
	t.start = -1
	for n < len(p) {
		if t.left > 0 {
			k := uint64(len(p) - n)
			if k > t.left {
				k = t.left
			}
			if t.op == opClose && len(t.closePayload)+int(k) <= maxControl {
				t.closePayload = append(t.closePayload, p[n:n+int(k)]...)
			}
			n += int(k)
			if t.left -= k; t.left == 0 && t.op == opClose {
				return n, true
			}
			continue
		}
		if t.hn == 0 {
			t.start, t.closePayload = n, t.closeBuf[:0]
		}
		t.hdr[t.hn] = p[n]
		t.hn++
		n++
		if t.hn < 2 || t.hn < headerLen(t.hdr[1]) {
			continue
		}
		t.op, t.left = t.hdr[0]&0x0f, payloadLen(t.hdr[:t.hn])
		t.hn = 0
		if t.left == 0 && t.op == opClose {
			return n, true
		}
	}
	return n, false
}

// headerLen returns the length of an unmasked frame header whose second
// byte is b1.
func headerLen(b1 byte) int {
	switch b1 & 0x7f {
	case 126:
		return 4
	case 127:
		return 10
	}
	return 2
}

// payloadLen returns the payload length a whole unmasked header gives.
func payloadLen(hdr []byte) uint64 {
	switch len(hdr) {
	case 4:
		return uint64(binary.BigEndian.Uint16(hdr[2:]))
	case 10:
		return binary.BigEndian.Uint64(hdr[2:])
	}
	return uint64(hdr[1] & 0x7f)
}
