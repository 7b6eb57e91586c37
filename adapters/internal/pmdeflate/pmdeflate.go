// Package pmdeflate parses the permessage-deflate offers of a WebSocket
// upgrade request and validates them against RFC 7692 section 7.1, for
// the adapters' own negotiation: the adapters whose library negotiates
// decline the offers it would answer wrongly, and the adapters that
// compress themselves answer with [Offer.Response].
package pmdeflate

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// Name is the extension's name (RFC 7692 section 7).
const Name = "permessage-deflate"

// The extension parameters of RFC 7692 section 7.1.
const (
	ServerNoContextTakeover = "server_no_context_takeover"
	ClientNoContextTakeover = "client_no_context_takeover"
	ServerMaxWindowBits     = "server_max_window_bits"
	ClientMaxWindowBits     = "client_max_window_bits"
)

// Param is one extension parameter as the client wrote it.
type Param struct {
	Raw      string // as written, without surrounding space
	Name     string
	Value    string // unquoted
	HasValue bool
	Quoted   bool // the value was a quoted-string
}

// Offer is one extension offer of a request: a permessage-deflate offer
// is valid when Err is nil, and its parameters are then in the fields
// below.
type Offer struct {
	Name   string
	Params []Param
	Err    error // why RFC 7692 section 7.1 has a server decline it

	ServerNoContextTakeover bool
	ClientNoContextTakeover bool
	ServerMaxWindowBits     int // 0: not offered
	ClientMaxWindowBits     int // 0: not offered; -1: offered without a value
}

// Deflate reports whether the offer is for permessage-deflate.
func (o *Offer) Deflate() bool { return o.Name == Name }

// Parse splits the Sec-WebSocket-Extensions values of h into extension
// offers, in order, and validates those of permessage-deflate. clean is
// false when a value is not well-formed (RFC 6455 section 9.1) or uses a
// quoted-string: a library's own, simpler parser may then see other
// offers than these.
func Parse(h http.Header) (offers []Offer, clean bool) {
	clean = true
	for _, v := range h.Values("Sec-WebSocket-Extensions") {
		for ext := range strings.SplitSeq(v, ",") {
			if strings.TrimSpace(ext) == "" {
				continue
			}
			o, ok := parseOffer(ext)
			clean = clean && ok
			offers = append(offers, o)
		}
	}
	return offers, clean
}

// parseOffer parses one extension of a list whose elements contain no
// comma inside a quoted-string (a comma there splits the element, which
// then fails to parse and is reported unclean).
func parseOffer(s string) (o Offer, clean bool) {
	parts := strings.Split(s, ";")
	o.Name = strings.TrimSpace(parts[0])
	clean = isToken(o.Name)
	for _, p := range parts[1:] {
		k, v, has := strings.Cut(p, "=")
		prm := Param{Raw: strings.TrimSpace(p), Name: strings.TrimSpace(k), HasValue: has}
		if has {
			v = strings.TrimSpace(v)
			if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
				prm.Quoted = true
				v = strings.ReplaceAll(v[1:len(v)-1], `\`, "")
				clean = false
			}
			prm.Value = v
			if !isToken(v) {
				clean = false
			}
		}
		if !isToken(prm.Name) {
			clean = false
		}
		o.Params = append(o.Params, prm)
	}
	if o.Deflate() {
		o.Err = o.validate()
	}
	return o, clean
}

// validate checks an offer against RFC 7692 section 7.1: only the four
// parameters, each at most once, with the values they take.
func (o *Offer) validate() error {
	seen := map[string]bool{}
	for _, p := range o.Params {
		if seen[p.Name] {
			return fmt.Errorf("parameter %s given twice", p.Name)
		}
		seen[p.Name] = true
		switch p.Name {
		case ServerNoContextTakeover, ClientNoContextTakeover:
			if p.HasValue {
				return fmt.Errorf("parameter %s takes no value", p.Name)
			}
			if p.Name == ServerNoContextTakeover {
				o.ServerNoContextTakeover = true
			} else {
				o.ClientNoContextTakeover = true
			}
		case ServerMaxWindowBits:
			if !p.HasValue {
				return errors.New("parameter server_max_window_bits needs a value")
			}
			bits, err := WindowBits(p.Value)
			if err != nil {
				return err
			}
			o.ServerMaxWindowBits = bits
		case ClientMaxWindowBits:
			o.ClientMaxWindowBits = -1
			if p.HasValue {
				bits, err := WindowBits(p.Value)
				if err != nil {
					return err
				}
				o.ClientMaxWindowBits = bits
			}
		default:
			return fmt.Errorf("unknown parameter %q", p.Name)
		}
	}
	return nil
}

// WindowBits parses a window size parameter's value: a decimal integer
// from 8 to 15 without leading zeroes (RFC 7692 section 7.1.2).
func WindowBits(v string) (int, error) {
	if len(v) == 0 || len(v) > 2 || v[0] == '0' || strings.Trim(v, "0123456789") != "" {
		return 0, fmt.Errorf("window bits %q: not a decimal integer from 8 to 15", v)
	}
	n, _ := strconv.Atoi(v)
	if n < 8 || n > 15 {
		return 0, fmt.Errorf("window bits %d: out of range 8 to 15", n)
	}
	return n, nil
}

// FirstDeflate returns the first permessage-deflate offer, or nil.
func FirstDeflate(offers []Offer) *Offer {
	for i := range offers {
		if offers[i].Deflate() {
			return &offers[i]
		}
	}
	return nil
}

// FirstValid returns the first valid permessage-deflate offer, or nil:
// the one a server that supports every valid configuration accepts,
// having declined those before it.
func FirstValid(offers []Offer) *Offer {
	for i := range offers {
		if offers[i].Deflate() && offers[i].Err == nil {
			return &offers[i]
		}
	}
	return nil
}

// NoContextResponse is the answer of the libraries that accept
// permessage-deflate only without context takeover, whatever the offer.
const NoContextResponse = Name + "; " + ServerNoContextTakeover + "; " + ClientNoContextTakeover

// Selected returns the offer of h that a library would accept, given the
// offers in order and its own test of an offer, but only when answering
// it with NoContextResponse is right (RFC 7692 section 7.1): the offer is
// valid and asks for no server window, which that answer would leave
// out. ok is false when the library would answer wrongly or accept
// nothing, or when the header is not clean, so that the library's own
// parser might see other offers: the adapter then has the library
// decline compression.
func Selected(h http.Header, accepts func(*Offer) bool) (o *Offer, ok bool) {
	offers, clean := Parse(h)
	if !clean {
		return nil, false
	}
	for i := range offers {
		if o = &offers[i]; accepts(o) {
			return o, o.Err == nil && o.ServerMaxWindowBits == 0
		}
	}
	return nil, false
}

// Honourable returns, as the client wrote it, the first offer of h that a
// library answering every permessage-deflate offer with NoContextResponse
// honours: a valid permessage-deflate offer that does not limit the
// server's window. An adapter hands the library that offer alone, in
// place of the header, so that the library neither declines the whole
// header for a first offer it cannot honour (Autobahn|Testsuite 13.7) nor
// accepts one wrongly. ok is false when there is none, or when the
// header is not clean (the library's parser might see other offers).
func Honourable(h http.Header) (offer string, ok bool) {
	offers, clean := Parse(h)
	if !clean {
		return "", false
	}
	for i := range offers {
		if o := &offers[i]; o.Deflate() && o.Err == nil && o.ServerMaxWindowBits == 0 {
			return o.String(), true
		}
	}
	return "", false
}

// String returns the offer as the client wrote it, spaces normalised.
func (o *Offer) String() string {
	var b strings.Builder
	b.WriteString(o.Name)
	for _, p := range o.Params {
		b.WriteString("; ")
		b.WriteString(p.Raw)
	}
	return b.String()
}

// Response is the extension response of a server that compresses without
// context takeover and decompresses each message on its own: it accepts o
// with no context takeover either way (RFC 7692 sections 7.1.1.1 and
// 7.1.1.2 let a server add both), and with the server window the offer
// asks for, if any (section 7.1.2.1: the same value or smaller).
func (o *Offer) Response() string {
	s := Name + "; " + ServerNoContextTakeover + "; " + ClientNoContextTakeover
	if o.ServerMaxWindowBits != 0 {
		s += "; " + ServerMaxWindowBits + "=" + strconv.Itoa(o.ServerMaxWindowBits)
	}
	return s
}

// isToken reports whether s is an RFC 7230 token.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}
