package adapters

import (
	"net/http"
	"net/url"
	"reflect"
	"testing"

	"github.com/websock-go/websock/websock"
)

// TestPackInfo: a ConnInfo packed and made again is equal to the one
// packed, in new memory, whatever its headers and URL hold.
func TestPackInfo(t *testing.T) {
	mustURL := func(s string) *url.URL {
		u, err := url.Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	withUser := mustURL("http://h/p")
	withUser.User = url.UserPassword("u", "p")
	opaque := &url.URL{Scheme: "x", Opaque: "a:b", ForceQuery: true}
	long := string(make([]byte, 300)) // a length that takes two bytes
	for _, info := range []*websock.ConnInfo{
		{},
		{RemoteAddr: "1.2.3.4:5", Subprotocol: "chat", Compressed: true, Adapter: "gws"},
		{URL: mustURL("/chat?room=a%20b&x=1"), Header: http.Header{
			"Upgrade": {"websocket"}, "Cookie": {"a=1", "b=2"}, "X-Empty": {}, "X-Nil": nil,
			"X-Odd": {"\x00\n\r\xff", "", long}, "": {"no key"},
		}},
		{URL: mustURL("/p%2Fq/r"), Header: http.Header{}},
		{URL: withUser},
		{URL: opaque},
		{RemoteAddr: "[::1]:80", URL: mustURL("/a?b=c"), Subprotocol: "v2", Adapter: "nbio",
			Header: http.Header{"Sec-Websocket-Protocol": {"v2"}, "X-Long": {long}}},
		{RemoteAddr: "r", URL: opaque, Subprotocol: "s", Header: http.Header{"K": {"v"}}},
	} {
		p := pack(info)
		if n := len(info.RemoteAddr) + len(info.Subprotocol) + packedHeaderLen(info.Header); p.hasURL && len(p.s) != n+len(info.URL.String()) || !p.hasURL && len(p.s) != n {
			t.Errorf("%+v packed into %d bytes, want %d and the URL's", info, len(p.s), n)
		}
		got := p.unpack()
		if !reflect.DeepEqual(got, info) {
			t.Errorf("pack then unpack of %+v gave %+v", info, got)
		}
		if info.URL != nil && got.URL == info.URL && p.u == nil {
			t.Errorf("the URL %v came back as the same pointer: it was not packed", info.URL)
		}
		if info.Header != nil {
			info.Header.Set("X-Changed", "after packing")
			if got.Header.Get("X-Changed") != "" {
				t.Errorf("the Header made again shares the packed one's map")
			}
		}
	}
}

// TestUnpackedValuesAreOwn: appending to one key's values does not touch
// another's, though they share one slice.
func TestUnpackedValuesAreOwn(t *testing.T) {
	p := pack(&websock.ConnInfo{Header: http.Header{"A": {"1"}, "B": {"2"}}})
	h := p.unpack().Header
	h["A"] = append(h["A"], "3")
	if got := h["B"]; len(got) != 1 || got[0] != "2" {
		t.Errorf("B = %q after appending to A; want [2]", got)
	}
}
