package conformance

import (
	"bytes"
	"compress/flate"
	"fmt"
	"strconv"
	"strings"
)

// Client-side permessage-deflate (RFC 7692), for the compression cases.

// offerDeflate is the extension offer the client makes: no context
// takeover either way, which every library that compresses accepts.
const offerDeflate = "permessage-deflate; client_no_context_takeover; server_no_context_takeover"

// deflateAgreed reports whether the server's response accepted
// permessage-deflate.
func deflateAgreed(ext string) bool {
	return strings.Contains(strings.ToLower(ext), "permessage-deflate")
}

// compress returns p as one compressed message payload (RFC 7692 section
// 7.2.1: the trailing 0x00 0x00 0xff 0xff removed).
func compress(p []byte) []byte {
	var buf bytes.Buffer
	w, _ := flate.NewWriter(&buf, flate.BestCompression)
	w.Write(p)
	w.Flush()
	return bytes.TrimSuffix(buf.Bytes(), []byte{0x00, 0x00, 0xff, 0xff})
}

// deflateTail ends a message's compressed payload for the decoder: the
// 0x00 0x00 0xff 0xff the sender removed, then an empty final block.
var deflateTail = []byte{0x00, 0x00, 0xff, 0xff, 0x01, 0x00, 0x00, 0xff, 0xff}

// inflate decompresses a message payload, with dict as the server's
// previous output when it keeps context, and at most limit bytes; no
// back-reference may reach further than window bytes.
func inflate(p, dict []byte, window int, limit int64) ([]byte, error) {
	return inflateWindow(append(p[:len(p):len(p)], deflateTail...), dict, window, limit)
}

// extParam is one extension parameter.
type extParam struct {
	name, value string
	hasValue    bool
}

// extension is one element of a Sec-WebSocket-Extensions list.
type extension struct {
	name   string
	params []extParam
}

// parseExtensions splits a Sec-WebSocket-Extensions value into its
// extensions (RFC 6455 section 9.1), unquoting quoted-string values.
func parseExtensions(v string) []extension {
	var out []extension
	for e := range strings.SplitSeq(v, ",") {
		if strings.TrimSpace(e) == "" {
			continue
		}
		parts := strings.Split(e, ";")
		x := extension{name: strings.TrimSpace(parts[0])}
		for _, p := range parts[1:] {
			k, val, has := strings.Cut(p, "=")
			val = strings.TrimSpace(val)
			if len(val) >= 2 && val[0] == '"' && val[len(val)-1] == '"' {
				val = strings.ReplaceAll(val[1:len(val)-1], `\`, "")
			}
			x.params = append(x.params, extParam{name: strings.TrimSpace(k), value: val, hasValue: has})
		}
		out = append(out, x)
	}
	return out
}

// deflateParams are permessage-deflate parameters, of an offer or a
// response. A window of 0 means the parameter is absent, -1 (offers of
// client_max_window_bits only) present without a value.
type deflateParams struct {
	serverNoContext, clientNoContext bool
	serverBits, clientBits           int
}

// parseDeflateParams validates the parameters of a permessage-deflate
// offer or response (RFC 7692 section 7.1): only those defined, each at
// most once, with valid values; only an offer's client_max_window_bits
// may lack its value.
func parseDeflateParams(x extension, offer bool) (deflateParams, error) {
	var d deflateParams
	seen := map[string]bool{}
	for _, p := range x.params {
		if seen[p.name] {
			return d, fmt.Errorf("parameter %s given twice", p.name)
		}
		seen[p.name] = true
		switch p.name {
		case "server_no_context_takeover", "client_no_context_takeover":
			if p.hasValue {
				return d, fmt.Errorf("parameter %s has a value", p.name)
			}
			if p.name == "server_no_context_takeover" {
				d.serverNoContext = true
			} else {
				d.clientNoContext = true
			}
		case "server_max_window_bits", "client_max_window_bits":
			bits := -1
			if p.hasValue {
				n, err := strconv.Atoi(p.value)
				if err != nil || n < 8 || n > 15 || p.value[0] == '0' || p.value[0] == '+' {
					return d, fmt.Errorf("parameter %s=%s: not a decimal integer from 8 to 15", p.name, p.value)
				}
				bits = n
			} else if !offer || p.name == "server_max_window_bits" {
				return d, fmt.Errorf("parameter %s has no value", p.name)
			}
			if p.name == "server_max_window_bits" {
				d.serverBits = bits
			} else {
				d.clientBits = bits
			}
		default:
			return d, fmt.Errorf("parameter %q is not defined", p.name)
		}
	}
	return d, nil
}

// checkDeflateResponse checks that resp, the server's permessage-deflate
// parameters, accept the offer o (RFC 7692 sections 7.1.1.1 to 7.1.2.2).
func checkDeflateResponse(o, resp deflateParams) error {
	if o.serverNoContext && !resp.serverNoContext {
		return fmt.Errorf("the offer has server_no_context_takeover and the response does not (RFC 7692 section 7.1.1.1)")
	}
	if o.serverBits > 0 && resp.serverBits == 0 {
		return fmt.Errorf("the offer has server_max_window_bits=%d and the response has no server_max_window_bits (RFC 7692 section 7.1.2.1)", o.serverBits)
	}
	if o.serverBits > 0 && resp.serverBits > o.serverBits {
		return fmt.Errorf("the response has server_max_window_bits=%d, more than the offer's %d (RFC 7692 section 7.1.2.1)", resp.serverBits, o.serverBits)
	}
	if o.clientBits == 0 && resp.clientBits != 0 {
		return fmt.Errorf("the response has client_max_window_bits and the offer does not (RFC 7692 section 7.1.2.2)")
	}
	if o.clientBits > 0 && resp.clientBits > o.clientBits {
		return fmt.Errorf("the response has client_max_window_bits=%d, more than the offer's %d (RFC 7692 section 7.1.2.2)", resp.clientBits, o.clientBits)
	}
	return nil
}

// agreement is what a permessage-deflate response agreed to, for the
// side each direction's compressor is on.
type agreement struct {
	serverNoContext, clientNoContext bool
	serverBits, clientBits           int // 8 to 15
}

// agreement returns what the server's response agreed to; nil without
// permessage-deflate.
func (c *client) agreement() *agreement {
	if c.pmd == nil && c.deflate {
		a := &agreement{serverBits: 15, clientBits: 15}
		for _, x := range parseExtensions(strings.Join(c.resp.Header.Values("Sec-WebSocket-Extensions"), ",")) {
			if x.name != "permessage-deflate" {
				continue
			}
			d, _ := parseDeflateParams(x, false) // the cases check it
			a.serverNoContext, a.clientNoContext = d.serverNoContext, d.clientNoContext
			if d.serverBits > 0 {
				a.serverBits = d.serverBits
			}
			if d.clientBits > 0 {
				a.clientBits = d.clientBits
			}
			break
		}
		c.pmd = a
	}
	return c.pmd
}

// compressMessage compresses p as the client's next message, as agreed:
// with the previous messages as context unless the server asked for
// client_no_context_takeover, and with no back-reference at all when the
// server limited the client's window below 32 KiB (a Huffman-only stream
// fits any window).
func (c *client) compressMessage(p []byte) []byte {
	a := c.agreement()
	if a == nil {
		return compress(p)
	}
	level := flate.BestCompression
	if a.clientBits < 15 {
		level = flate.HuffmanOnly
	}
	if c.deflater == nil || a.clientNoContext {
		c.deflateBuf = new(bytes.Buffer)
		c.deflater, _ = flate.NewWriter(c.deflateBuf, level)
	}
	c.deflateBuf.Reset()
	c.deflater.Write(p)
	c.deflater.Flush()
	return bytes.Clone(bytes.TrimSuffix(c.deflateBuf.Bytes(), []byte{0x00, 0x00, 0xff, 0xff}))
}

// inflateMessage decompresses the payload of a compressed message from
// the server, checking that it stays within the agreed window and uses
// the previous messages as context only if the server keeps context.
func (c *client) inflateMessage(p []byte) ([]byte, error) {
	window, hist := 32<<10, c.history
	if a := c.agreement(); a != nil {
		window = 1 << a.serverBits
		if a.serverNoContext {
			hist = nil
		}
	}
	out, err := inflate(p, hist, window, 64<<20)
	if err != nil {
		return nil, err
	}
	c.history = append(c.history, out...)
	if len(c.history) > 32<<10 {
		c.history = c.history[len(c.history)-32<<10:]
	}
	return out, nil
}
