package wire

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"fmt"
	"io"
	"unicode/utf8"

	"github.com/websock-go/websock/adapters"
	"github.com/websock-go/websock/websock"
)

// Parser is the server side of RFC 6455 section 5 for bytes fed from
// anywhere: it turns what a client sends into the events of a
// connection, for an adapter whose library pushes the bytes it reads
// (pass [Parser.Parse] to adapters.NewInbox) or that reads raw bytes
// itself. It checks every frame with a strict [Tracker] (so the rules,
// and the fail-fast UTF-8 check, are those of the Conn's), reassembles
// fragments with control frames between them, inflates permessage-deflate
// messages (RFC 7692), enforces MaxMessageSize (after inflation), answers
// nothing itself (pings go to Events.Ping, which the engine answers) and
// ends at the peer's close frame.
//
// A message that arrives whole, in one frame, in the bytes of one Parse
// call is handed to Events.Message in place, unmasked where it lay,
// without a copy; others are gathered in a buffer the Parser reuses.
//
// A Parser is not safe for concurrent use: an Inbox calls Parse on the
// connection's actor, one call at a time.
type Parser struct {
	tr       Tracker
	opts     ParserOptions
	ev       adapters.Events
	op       byte // the opcode of the data message under way; 0 between messages
	deflated bool // the message under way is compressed
	msg      []byte
	direct   []byte // the message in place, when it came whole
	inflate  io.ReadCloser
	history  []byte // the last 32 KiB inflated, with ClientContextTakeover
}

// ParserOptions configures a Parser; the zero value reads uncompressed
// messages of any size and validates text.
type ParserOptions struct {
	// MaxMessageSize is the largest message, after inflation, in bytes; 0
	// means no limit. Pass Options.MaxMessageSize.
	MaxMessageSize int64

	// SkipUTF8Validation turns off the validation of text messages. Pass
	// Options.SkipUTF8Validation.
	SkipUTF8Validation bool

	// Compression: permessage-deflate was negotiated; messages with RSV1
	// set are inflated. Without it RSV1 is a protocol error.
	Compression bool

	// ClientContextTakeover: the negotiation left the client its context
	// (no client_no_context_takeover in the answer), so each message is
	// inflated with the ones before as its dictionary.
	// adapters.DeflateResponse answers with client_no_context_takeover:
	// leave it false then.
	ClientContextTakeover bool
}

// NewParser returns the Parser of one connection.
func NewParser(o ParserOptions) *Parser {
	p := &Parser{opts: o}
	p.tr.opts = TrackerOptions{Strict: true, Compression: o.Compression, ValidateUTF8: !o.SkipUTF8Validation}
	p.tr.unmask = true
	p.tr.start, p.tr.payload, p.tr.control = p.start, p.payload, p.controlFrame
	return p
}

// ValidatesUTF8 reports whether the Parser checks text messages itself,
// for a Transport's adapters.UTF8Validator: the engine then does not
// check them again.
func (p *Parser) ValidatesUTF8() bool { return !p.opts.SkipUTF8Validation }

// Parse reads b, the next bytes the client sent, and reports to ev every
// control frame and every message it completes. It keeps what b holds of
// a frame or message not yet whole for the next call; b itself is not
// kept, and is unmasked in place. It returns an error once reading must
// end, as adapters.Transport.Read does: the close error of the peer's
// close frame, the rule a frame broke, or what ev.Message returned; every
// call after that returns it again.
func (p *Parser) Parse(ev adapters.Events, b []byte) error {
	p.ev = ev
	for len(b) > 0 {
		n, err := p.tr.Feed(b)
		if err != nil {
			return err
		}
		if !p.tr.Following() {
			return p.tr.Err()
		}
		b = b[n:]
	}
	return p.tr.Err()
}

// start begins a data frame.
func (p *Parser) start() error {
	t := &p.tr.t
	if t.op != 0 {
		p.op, p.deflated, p.msg, p.direct = t.op, t.b0&0x40 != 0, p.msg[:0], nil
	}
	limit := p.opts.MaxMessageSize
	if limit <= 0 {
		return nil
	}
	if p.deflated {
		limit += limit/1024 + 64 // a compressed message may take a little more room than inflated
	}
	if uint64(len(p.msg))+t.size > uint64(limit) {
		return fmt.Errorf("%w: more than %d bytes", websock.ErrMessageTooBig, p.opts.MaxMessageSize)
	}
	return nil
}

// payload gathers seg, payload bytes of the current data frame, and
// hands the message over once end comes with its final frame.
func (p *Parser) payload(seg []byte, end bool) error {
	t := &p.tr.t
	if !end {
		if len(p.msg) == 0 && p.direct == nil && uint64(len(seg)) == t.size && t.b0&0x80 != 0 {
			p.direct = seg // the whole message, in place
			return nil
		}
		if p.direct != nil { // not reached: a frame's bytes are fed once
			p.msg, p.direct = append(p.msg, p.direct...), nil
		}
		p.msg = append(p.msg, seg...)
		return nil
	}
	if t.b0&0x80 == 0 {
		return nil // more fragments follow
	}
	data := p.msg
	if p.direct != nil {
		data, p.direct = p.direct, nil
	}
	op := p.op
	p.op = 0
	if p.deflated {
		var err error
		if data, err = p.inflateMessage(data); err != nil {
			return err
		}
		if op == opText && !p.opts.SkipUTF8Validation && !utf8.Valid(data) {
			return errInvalidText
		}
	}
	err := p.ev.Message(websock.Opcode(op), data)
	if len(p.msg) > keepMsg || cap(p.msg) > 2*keepMsg {
		p.msg = nil // the message was big: hold no big buffer while idle
	} else {
		p.msg = p.msg[:0]
	}
	return err
}

// keepMsg is the largest message whose buffer the Parser keeps for the
// next one, as adapters.MessageBuffer does: gathering a message of exactly
// keepMsg bytes grows the buffer a little past it, hence the 2*keepMsg
// bound on its capacity.
const keepMsg = 64 << 10

// controlFrame reports a control frame whose payload was read whole.
func (p *Parser) controlFrame(op byte, payload []byte) error {
	switch op {
	case opPing:
		p.ev.Ping(payload)
	case opPong:
		p.ev.Control(websock.OpPong, payload)
	case opClose:
		return closeFrameError(payload)
	}
	return nil
}

// closeFrameError is what reading ends with at the peer's close frame: a
// *websock.CloseError, which the engine checks further (a code that may
// not be sent and a reason that is not UTF-8 are its to refuse), with
// code 1005 for an empty payload. A payload of one byte, or one that
// carries 1005 itself, which the engine could not tell from an empty one,
// is a protocol error.
func closeFrameError(b []byte) error {
	switch len(b) {
	case 0:
		return &websock.CloseError{Code: websock.CloseNoStatus}
	case 1:
		return protocolError("a close frame with a 1-byte payload")
	}
	code := websock.CloseCode(binary.BigEndian.Uint16(b))
	if code == websock.CloseNoStatus {
		return protocolError("close code 1005, which may not be sent (RFC 6455 section 7.4.1)")
	}
	return &websock.CloseError{Code: code, Text: string(b[2:])}
}

// deflateTail ends a compressed message: RFC 7692 section 7.2.2 has the
// client remove 0x00 0x00 0xff 0xff, and an empty final block follows, so
// that the inflater sees the end of a stream.
var deflateTail = []byte{0x00, 0x00, 0xff, 0xff, 0x01, 0x00, 0x00, 0xff, 0xff}

// inflateMessage inflates a compressed message, reading at most one byte
// more than MaxMessageSize: a small message that inflates to a huge one
// costs no more than the limit.
func (p *Parser) inflateMessage(b []byte) ([]byte, error) {
	src := io.MultiReader(bytes.NewReader(b), bytes.NewReader(deflateTail))
	if p.inflate == nil {
		p.inflate = flate.NewReaderDict(src, p.history)
	} else {
		p.inflate.(flate.Resetter).Reset(src, p.history)
	}
	var r io.Reader = p.inflate
	max := p.opts.MaxMessageSize
	if max > 0 {
		r = io.LimitReader(r, max+1)
	}
	out, err := io.ReadAll(r)
	if err != nil {
		return nil, protocolError("a compressed message does not inflate: %v", err)
	}
	if max > 0 && int64(len(out)) > max {
		return nil, fmt.Errorf("%w: more than %d bytes once inflated", websock.ErrMessageTooBig, max)
	}
	if p.opts.ClientContextTakeover {
		p.history = append(p.history, out...)
		p.history = p.history[len(p.history)-min(len(p.history), 32<<10):]
	}
	return out, nil
}
