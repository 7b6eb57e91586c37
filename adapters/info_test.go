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
	} {
		p := pack(info)
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
	h := unpackHeader(packHeader(http.Header{"A": {"1"}, "B": {"2"}}))
	h["A"] = append(h["A"], "3")
	if got := h["B"]; len(got) != 1 || got[0] != "2" {
		t.Errorf("B = %q after appending to A; want [2]", got)
	}
}
