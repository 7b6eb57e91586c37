package adapters

import (
	"encoding/binary"
	"net/http"
	"net/url"
	"strings"

	"github.com/websock-go/websock/websock"
)

// packedInfo is a connection's ConnInfo as the engine keeps it once Init
// has returned: the URL as its string and every header key and value in
// one string, rather than a url.URL, a map and a slice per key, which
// cost an idle connection more than the rest of its state. Conn.Info and
// the Observer's events make the ConnInfo again from it when first asked
// (see conn.Info).
type packedInfo struct {
	// s holds the remote address, the URL's string (when it parses back
	// to the same URL), the subprotocol and the packed header (see
	// packHeader), back to back, in one allocation; the ends say where
	// each of the first three stops.
	s                       string
	addrEnd, urlEnd, subEnd uint32
	u                       *url.URL // the URL itself, when its string would not parse back to it; nil for none
	adapter                 string
	compressed              bool
	hasURL                  bool // s holds the URL's string
	hasHeader               bool // the Header was not nil
}

// pack returns info kept compactly.
func pack(info *websock.ConnInfo) *packedInfo {
	p := &packedInfo{adapter: info.Adapter, compressed: info.Compressed}
	var us string
	if u := info.URL; u != nil {
		us = u.String()
		if back, err := url.Parse(us); err == nil && *back == *u {
			p.hasURL = true
		} else {
			p.u, us = u, ""
		}
	}
	n := len(info.RemoteAddr) + len(us) + len(info.Subprotocol)
	if info.Header != nil {
		p.hasHeader = true
		n += packedHeaderLen(info.Header)
	}
	var b strings.Builder
	b.Grow(n)
	b.WriteString(info.RemoteAddr)
	p.addrEnd = uint32(b.Len())
	b.WriteString(us)
	p.urlEnd = uint32(b.Len())
	b.WriteString(info.Subprotocol)
	p.subEnd = uint32(b.Len())
	if info.Header != nil {
		packHeader(&b, info.Header)
	}
	p.s = b.String()
	return p
}

// remoteAddr returns the remote address p holds.
func (p *packedInfo) remoteAddr() string { return p.s[:p.addrEnd] }

// unpack returns the ConnInfo p holds, made again: equal to the one it
// was packed from, in new memory.
func (p *packedInfo) unpack() *websock.ConnInfo {
	info := &websock.ConnInfo{RemoteAddr: p.remoteAddr(), URL: p.u, Subprotocol: p.s[p.urlEnd:p.subEnd],
		Adapter: p.adapter, Compressed: p.compressed}
	if p.hasURL {
		info.URL, _ = url.Parse(p.s[p.addrEnd:p.urlEnd]) // it parsed when packed
	}
	if p.hasHeader {
		info.Header = unpackHeader(p.s[p.subEnd:])
	}
	return info
}

// packHeader writes h to b as one string: for each key, its length and
// its bytes, the number of its values plus one (0 for a nil slice), and
// each value as its length and its bytes; lengths are uvarints. Every key
// and value, whatever bytes it holds, comes back as it was. It writes
// packedHeaderLen(h) bytes.
func packHeader(b *strings.Builder, h http.Header) {
	var n [binary.MaxVarintLen64]byte
	uvarint := func(x int) { b.Write(binary.AppendUvarint(n[:0], uint64(x))) }
	for k, vs := range h {
		uvarint(len(k))
		b.WriteString(k)
		if vs == nil {
			uvarint(0)
			continue
		}
		uvarint(len(vs) + 1)
		for _, v := range vs {
			uvarint(len(v))
			b.WriteString(v)
		}
	}
}

// packedHeaderLen is how many bytes packHeader writes for h.
func packedHeaderLen(h http.Header) int {
	n := 0
	for k, vs := range h {
		n += uvarintLen(len(k)) + len(k)
		if vs == nil {
			n++
			continue
		}
		n += uvarintLen(len(vs) + 1)
		for _, v := range vs {
			n += uvarintLen(len(v)) + len(v)
		}
	}
	return n
}

// uvarintLen is the length of x as a uvarint.
func uvarintLen(x int) int {
	n := 1
	for ux := uint64(x); ux >= 0x80; ux >>= 7 {
		n++
	}
	return n
}

// unpackHeader returns the header packHeader packed into s. Its keys and
// values are substrings of s, and the values of all keys share one slice,
// as net/http's own header parsing does.
func unpackHeader(s string) http.Header {
	keys, values := 0, 0
	for r := s; r != ""; keys++ {
		_, r = cutString(r)
		var nv uint64
		nv, r = cutUvarint(r)
		if nv > 0 {
			values += int(nv - 1)
			for range nv - 1 {
				_, r = cutString(r)
			}
		}
	}
	h := make(http.Header, keys)
	all := make([]string, 0, values)
	for s != "" {
		var k string
		k, s = cutString(s)
		var nv uint64
		nv, s = cutUvarint(s)
		if nv == 0 {
			h[k] = nil
			continue
		}
		start := len(all)
		for range nv - 1 {
			var v string
			v, s = cutString(s)
			all = append(all, v)
		}
		h[k] = all[start:len(all):len(all)]
	}
	return h
}

// cutUvarint returns the uvarint s begins with and what follows it.
func cutUvarint(s string) (uint64, string) {
	var x uint64
	for i, shift := 0, uint(0); i < len(s); i, shift = i+1, shift+7 {
		c := s[i]
		x |= uint64(c&0x7f) << shift
		if c < 0x80 {
			return x, s[i+1:]
		}
	}
	return x, ""
}

// cutString returns the length-prefixed string s begins with and what
// follows it.
func cutString(s string) (string, string) {
	n, r := cutUvarint(s)
	return r[:n], r[n:]
}

// Info returns the connection's info. Once Init has returned, an engine
// without an Observer keeps it packed (see packedInfo), and the first
// call after that makes it again, equal to what Init left, and keeps it
// for the calls that follow.
func (c *conn) Info() *websock.ConnInfo {
	if info := c.info.Load(); info != nil {
		return info
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	info := c.info.Load()
	if info == nil {
		info = c.packed.unpack()
		c.info.Store(info)
		c.packed = nil
	}
	return info
}

// packInfo packs the connection's info, once Init has returned, unless
// the engine has an Observer: its events carry the same ConnInfo from
// Start to End, which an Observer may key its own state by.
func (c *conn) packInfo() {
	if c.e.obs != nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if info := c.info.Load(); info != nil {
		c.packed = pack(info)
		c.info.Store(nil)
	}
}

// remoteAddr returns the peer's address, without making the info again.
func (c *conn) remoteAddr() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.packed != nil {
		return c.packed.remoteAddr()
	}
	return c.info.Load().RemoteAddr
}
