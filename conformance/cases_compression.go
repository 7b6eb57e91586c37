package conformance

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"

	"github.com/websock-go/websock/adapters"
	"github.com/websock-go/websock/websock"
)

func compressionOffByDefault(e *env) {
	infos := make(chan *websock.ConnInfo, 1)
	accept, _ := probes(func(p *probe) {
		p.init = func(p *probe) websock.Result { infos <- p.conn.Info(); return websock.OK() }
	}, false)
	srv := e.serve(accept, nil)
	c := e.wantAccepted(srv, http.Header{"Sec-WebSocket-Extensions": {offerDeflate}}, "offer")
	if c == nil {
		return
	}
	if c.deflate {
		e.Errorf("the server negotiated permessage-deflate with Compression off (default)")
	}
	if info := <-infos; info.Compressed {
		e.Errorf("ConnInfo.Compressed is true with compression off")
	}
	c.sendText("plain")
	e.wantMessage(c, opText, "plain")
}

func compressionNegotiated(e *env) {
	infos := make(chan *websock.ConnInfo, 1)
	accept, _ := probes(func(p *probe) {
		p.init = func(p *probe) websock.Result { infos <- p.conn.Info(); return websock.OK() }
	}, false)
	srv := e.serve(accept, &adapters.Options{Compression: true})
	c := e.wantAccepted(srv, http.Header{"Sec-WebSocket-Extensions": {offerDeflate}}, "offer")
	if c == nil {
		return
	}
	if !c.deflate {
		e.Fatalf("the server did not accept permessage-deflate (response %q) with Compression on",
			c.resp.Header.Get("Sec-WebSocket-Extensions"))
	}
	if info := <-infos; !info.Compressed {
		e.Errorf("ConnInfo.Compressed is false though permessage-deflate was negotiated")
	}
	for i := 0; i < 3; i++ {
		msg := strings.Repeat("compress me, please. ", 500)
		c.writeFrame(frame{fin: true, rsv: 4, op: opText, payload: compress([]byte(msg))}, false)
		e.wantMessage(c, opText, msg)
		c.sendText("uncompressed too")
		e.wantMessage(c, opText, "uncompressed too")
	}
}

func compressionBomb(e *env) {
	accept, ch := probes(nil, false)
	c, _, err := dial(e.serve(accept, &adapters.Options{Compression: true, MaxMessageSize: 64 << 10}).URL,
		http.Header{"Sec-WebSocket-Extensions": {offerDeflate}})
	if err != nil {
		e.Fatalf("dial: %v", err)
	}
	e.Cleanup(c.close)
	p := e.next(ch)
	bomb := compress(bytes.Repeat([]byte{0}, 10<<20)) // ~10 KiB inflating to 10 MiB
	c.writeFrame(frame{fin: true, rsv: 4, op: opBinary, payload: bomb}, false)
	e.closeAndReply(c, 1009, "the decompressed size counts against MaxMessageSize")
	e.wantReason(p, websock.KindError, websock.CloseMessageTooBig, websock.ErrMessageTooBig, "compression bomb")
}

// deflateTry is one permessage-deflate offer a case makes: the
// Sec-WebSocket-Extensions value, and whether it holds a valid offer. A
// server may decline any offer; it must decline an invalid one, and what
// it accepts it must answer with parameters valid for the offer and then
// honour.
type deflateTry struct {
	name, offer string
	valid       bool
}

// eachDeflateOffer makes each offer to a fresh server with Compression
// on, as a part of the case named after it, and checks the answer: a
// declined offer leaves an uncompressed connection, an accepted one is
// answered as RFC 7692 section 7.1 requires and carries compressed
// messages both ways within what was agreed.
func (e *env) eachDeflateOffer(tries []deflateTry) {
	for _, t := range tries {
		e.sub(t.name, func(r reporter) {
			sub := e.part(r)
			accept, ch := probes(nil, false)
			srv := sub.serve(accept, &adapters.Options{Compression: true, MaxMessageSize: 1 << 20})
			c, resp, err := dial(srv.URL, http.Header{"Sec-WebSocket-Extensions": {t.offer}})
			if err != nil {
				status := 0
				if resp != nil {
					status = resp.StatusCode
				}
				sub.Fatalf("offer %q: the upgrade failed (%d, %v); a server declines an offer it does not accept and upgrades without the extension (RFC 7692 section 5)", t.offer, status, err)
			}
			sub.Cleanup(c.close)
			sub.next(ch)
			if !sub.checkDeflateAnswer(c, t) {
				return
			}
			sub.deflateRoundTrip(c, 1)
			c.sendClose(1000, "")
			c.expectClose(5 * time.Second)
		})
	}
}

// checkDeflateAnswer checks the server's answer to the offer of t, and
// reports whether the connection is fit to carry messages.
func (e *env) checkDeflateAnswer(c *client, t deflateTry) bool {
	e.Helper()
	answer := strings.Join(c.resp.Header.Values("Sec-WebSocket-Extensions"), ", ")
	var accepted []extension
	for _, x := range parseExtensions(answer) {
		if x.name != "permessage-deflate" {
			e.Errorf("offer %q: the response names extension %q, which the client did not offer (RFC 6455 section 9.1)", t.offer, x.name)
			return false
		}
		accepted = append(accepted, x)
	}
	switch {
	case len(accepted) == 0:
		return true // declined: the connection runs uncompressed
	case len(accepted) > 1:
		e.Errorf("offer %q: the response %q accepts permessage-deflate more than once (RFC 7692 section 5)", t.offer, answer)
		return false
	case !t.valid:
		e.Errorf("offer %q: the server accepted it with %q; an offer with an undefined, repeated or invalid parameter must be declined (RFC 7692 section 7.1)", t.offer, answer)
		return false
	}
	got, err := parseDeflateParams(accepted[0], false)
	if err != nil {
		e.Errorf("offer %q: the response %q is invalid: %v (RFC 7692 section 7.1)", t.offer, answer, err)
		return false
	}
	var why error
	for _, x := range parseExtensions(t.offer) {
		o, err := parseDeflateParams(x, true)
		if x.name != "permessage-deflate" || err != nil {
			continue // an invalid offer cannot be the one accepted
		}
		if why = checkDeflateResponse(o, got); why == nil {
			return true
		}
	}
	e.Errorf("offer %q: the response %q does not accept it as RFC 7692 section 7.1 allows: %v", t.offer, answer, why)
	return false
}

// deflateRoundTrip sends messages compressed as agreed (rounds of each)
// and plain, and checks that the server echoes each, compressed within
// the agreed window and context or not at all. Without permessage-deflate
// only the plain ones are sent.
func (e *env) deflateRoundTrip(c *client, rounds int) {
	e.Helper()
	rng := rand.New(rand.NewPCG(7692, 1))
	msgs := []struct {
		op   byte
		data []byte
	}{
		{opText, []byte(strings.Repeat("compress me, please. ", 200))},
		{opBinary, windowProbe(rng)},
		{opText, []byte(strings.Repeat("compress me, please. ", 200))}, // context helps, if kept
		{opText, []byte("short")},
		{opBinary, nil},
	}
	for i := 0; i < rounds; i++ {
		for _, m := range msgs {
			if c.deflate {
				c.writeFrame(frame{fin: true, rsv: 4, op: m.op, payload: c.compressMessage(m.data)}, false)
				e.wantMessage(c, m.op, string(m.data))
			}
			c.send(m.op, m.data)
			e.wantMessage(c, m.op, string(m.data))
		}
	}
}

// windowProbe returns random blocks each followed by a copy of itself, at
// distances just beyond each window of 2^8 to 2^14 bytes: a compressor
// that uses a larger window than agreed refers to the first copies.
func windowProbe(rng *rand.Rand) []byte {
	var p []byte
	for bits := 8; bits <= 14; bits++ {
		block := make([]byte, 1<<bits+100)
		for i := range block {
			block[i] = byte(rng.Uint32())
		}
		p = append(p, block...)
		p = append(p, block...)
	}
	return p
}

func compressionServerNoContextTakeover(e *env) {
	e.eachDeflateOffer([]deflateTry{
		{"alone", "permessage-deflate; server_no_context_takeover", true},
		{"with_client_max_window_bits", "permessage-deflate; server_no_context_takeover; client_max_window_bits", true},
	})
}

func compressionClientNoContextTakeover(e *env) {
	e.eachDeflateOffer([]deflateTry{
		{"alone", "permessage-deflate; client_no_context_takeover", true},
	})
}

func compressionServerMaxWindowBits(e *env) {
	var tries []deflateTry
	for bits := 8; bits <= 15; bits++ {
		tries = append(tries, deflateTry{fmt.Sprint(bits), fmt.Sprintf("permessage-deflate; server_max_window_bits=%d", bits), true})
	}
	tries = append(tries,
		deflateTry{"quoted", `permessage-deflate; server_max_window_bits="10"`, true},
		deflateTry{"no_context", "permessage-deflate; server_max_window_bits=9; server_no_context_takeover; client_no_context_takeover", true})
	e.eachDeflateOffer(tries)
}

func compressionClientMaxWindowBits(e *env) {
	e.eachDeflateOffer([]deflateTry{
		{"no_value", "permessage-deflate; client_max_window_bits", true},
		{"8", "permessage-deflate; client_max_window_bits=8", true},
		{"10", "permessage-deflate; client_max_window_bits=10", true},
		{"15", "permessage-deflate; client_max_window_bits=15", true},
	})
}

func compressionParameterCombinations(e *env) {
	e.eachDeflateOffer([]deflateTry{
		{"all_four", "permessage-deflate; client_no_context_takeover; server_no_context_takeover; server_max_window_bits=10; client_max_window_bits=10", true},
		{"windows_only", "permessage-deflate; client_max_window_bits; server_max_window_bits=12", true},
		{"windows_8", "permessage-deflate; server_max_window_bits=8; client_max_window_bits=8; server_no_context_takeover", true},
		{"two_offers", "permessage-deflate; server_max_window_bits=11; client_max_window_bits, permessage-deflate", true},
		{"invalid_then_valid", "permessage-deflate; x_unknown, permessage-deflate; client_no_context_takeover", true},
		{"out_of_range_then_valid", "permessage-deflate; server_max_window_bits=16, permessage-deflate; server_max_window_bits=13", true},
	})
}

func compressionInvalidOffers(e *env) {
	e.eachDeflateOffer([]deflateTry{
		{"unknown_parameter", "permessage-deflate; x_unknown", false},
		{"unknown_parameter_value", "permessage-deflate; x_unknown=1; client_no_context_takeover", false},
		{"duplicate_no_context", "permessage-deflate; server_no_context_takeover; server_no_context_takeover", false},
		{"duplicate_client_no_context", "permessage-deflate; client_no_context_takeover; client_no_context_takeover", false},
		{"duplicate_window", "permessage-deflate; client_max_window_bits=10; client_max_window_bits=10", false},
		{"server_window_7", "permessage-deflate; server_max_window_bits=7", false},
		{"server_window_16", "permessage-deflate; server_max_window_bits=16", false},
		{"server_window_leading_zero", "permessage-deflate; server_max_window_bits=09", false},
		{"server_window_no_value", "permessage-deflate; server_max_window_bits", false},
		{"server_window_not_a_number", "permessage-deflate; server_max_window_bits=ten", false},
		{"client_window_7", "permessage-deflate; client_max_window_bits=7", false},
		{"client_window_16", "permessage-deflate; client_max_window_bits=16", false},
		{"client_window_not_a_number", "permessage-deflate; client_max_window_bits=abc", false},
		{"no_context_with_value", "permessage-deflate; server_no_context_takeover=1", false},
		{"client_no_context_with_value", "permessage-deflate; client_no_context_takeover=true", false},
	})
}

// compressionContextTakeover offers permessage-deflate without the
// no_context_takeover parameters, so that whichever side the server lets
// keep its compression context keeps it, and echoes 500 messages.
func compressionContextTakeover(e *env) {
	accept, ch := probes(nil, false)
	srv := e.serve(accept, &adapters.Options{Compression: true})
	const offer = "permessage-deflate"
	c := e.wantAccepted(srv, http.Header{"Sec-WebSocket-Extensions": {offer}}, "an offer without parameters")
	if c == nil {
		return
	}
	e.next(ch)
	if !e.checkDeflateAnswer(c, deflateTry{offer: offer, valid: true}) {
		return
	}
	if !c.deflate {
		e.Fatalf("the server declined the offer %q with Compression on", offer)
	}
	for i := 0; i < 500; i++ {
		msg := fmt.Sprintf("message %d of a stream whose messages are much alike: %s", i, strings.Repeat("alike ", i%7))
		if err := c.writeFrame(frame{fin: true, rsv: 4, op: opText, payload: c.compressMessage([]byte(msg))}, false); err != nil {
			e.Fatalf("message %d: %v", i, err)
		}
		e.wantMessage(c, opText, msg)
	}
	c.sendClose(1000, "")
	c.expectClose(5 * time.Second)
}

// compressionLaterOffer checks that a server that accepts a
// permessage-deflate offer on its own accepts it, or another, behind a
// first offer it cannot honour (Autobahn|Testsuite 13.7: a first offer
// that limits the server's window, then plainer ones), instead of
// declining the whole header and running uncompressed.
func compressionLaterOffer(e *env) {
	for _, t := range []struct{ name, first, later string }{
		{"server_window_9", "permessage-deflate; client_no_context_takeover; server_max_window_bits=9", "permessage-deflate; client_no_context_takeover, permessage-deflate"},
		{"unknown_parameter", "permessage-deflate; x_unknown", "permessage-deflate; client_max_window_bits"},
		{"server_window_16", "permessage-deflate; server_max_window_bits=16", "permessage-deflate"},
	} {
		e.sub(t.name, func(r reporter) {
			sub := e.part(r)
			accept, ch := probes(nil, false)
			srv := sub.serve(accept, &adapters.Options{Compression: true, MaxMessageSize: 1 << 20})
			alone, _, err := dial(srv.URL, http.Header{"Sec-WebSocket-Extensions": {t.later}})
			if err != nil {
				sub.Fatalf("offer %q: %v", t.later, err)
			}
			sub.next(ch)
			accepted := len(alone.resp.Header.Values("Sec-WebSocket-Extensions")) > 0
			alone.close()
			if !accepted {
				return // the later offers alone are declined: nothing to compare
			}
			offer := t.first + ", " + t.later
			c, _, err := dial(srv.URL, http.Header{"Sec-WebSocket-Extensions": {offer}})
			if err != nil {
				sub.Fatalf("offer %q: %v", offer, err)
			}
			sub.Cleanup(c.close)
			sub.next(ch)
			if len(c.resp.Header.Values("Sec-WebSocket-Extensions")) == 0 {
				sub.Errorf("offer %q was declined whole, though %q alone is accepted: a server picks the first offer it can honour (RFC 7692 section 5)", offer, t.later)
				return
			}
			if !sub.checkDeflateAnswer(c, deflateTry{t.name, offer, true}) {
				return
			}
			sub.deflateRoundTrip(c, 1)
			c.sendClose(1000, "")
			c.expectClose(5 * time.Second)
		})
	}
}
