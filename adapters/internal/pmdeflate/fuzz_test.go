package pmdeflate

import (
	"net/http"
	"strings"
	"testing"
)

// FuzzParse parses any Sec-WebSocket-Extensions values and checks what
// the adapters rely on: a valid permessage-deflate offer's Response is
// itself a valid offer with no context takeover either way and the server
// window the offer asked for; a clean header, written again from its
// parsed offers, parses to the same offers; Selected agrees with
// FirstValid.
func FuzzParse(f *testing.F) {
	f.Add("permessage-deflate; client_max_window_bits", "x-webkit-deflate-frame")
	f.Add("permessage-deflate; server_max_window_bits=10; client_no_context_takeover, permessage-deflate", "")
	f.Add(`permessage-deflate; client_max_window_bits="15"`, "foo; bar=baz")
	f.Add("permessage-deflate; server_max_window_bits=08", "permessage-deflate;;")
	f.Add("permessage-deflate; server_no_context_takeover; server_no_context_takeover", ",")
	f.Fuzz(func(t *testing.T, v1, v2 string) {
		h := http.Header{"Sec-Websocket-Extensions": {v1, v2}}
		offers, clean := Parse(h)
		for i := range offers {
			o := &offers[i]
			if !o.Deflate() || o.Err != nil {
				continue
			}
			if o.ServerMaxWindowBits != 0 && (o.ServerMaxWindowBits < 8 || o.ServerMaxWindowBits > 15) {
				t.Fatalf("valid offer %q with server window %d", v1+", "+v2, o.ServerMaxWindowBits)
			}
			resp, rclean := Parse(http.Header{"Sec-Websocket-Extensions": {o.Response()}})
			if !rclean || len(resp) != 1 || resp[0].Err != nil || !resp[0].ServerNoContextTakeover || !resp[0].ClientNoContextTakeover ||
				resp[0].ServerMaxWindowBits != o.ServerMaxWindowBits {
				t.Fatalf("Response %q to the offer %+v parses to %+v", o.Response(), *o, resp)
			}
		}
		if clean {
			var parts []string
			for _, o := range offers {
				s := o.Name
				for _, p := range o.Params {
					s += "; " + p.Raw
				}
				parts = append(parts, s)
			}
			again, aclean := Parse(http.Header{"Sec-Websocket-Extensions": {strings.Join(parts, ", ")}})
			if !aclean || len(again) != len(offers) {
				t.Fatalf("%q parsed to %d clean offers; written again, %q parses to %d (clean %v)", v1+", "+v2, len(offers), strings.Join(parts, ", "), len(again), aclean)
			}
			for i := range again {
				a, b := again[i], offers[i]
				if a.Name != b.Name || (a.Err == nil) != (b.Err == nil) || a.ServerMaxWindowBits != b.ServerMaxWindowBits ||
					a.ClientMaxWindowBits != b.ClientMaxWindowBits || a.ServerNoContextTakeover != b.ServerNoContextTakeover ||
					a.ClientNoContextTakeover != b.ClientNoContextTakeover || len(a.Params) != len(b.Params) {
					t.Fatalf("offer %d: %+v, written again %+v", i, b, a)
				}
			}
		}
		sel, ok := Selected(h, func(o *Offer) bool { return o.Deflate() && o.Err == nil })
		if fv := FirstValid(offers); clean && (sel != nil) != (fv != nil) {
			t.Fatalf("Selected %v (%v), FirstValid %v, for a clean header", sel, ok, fv)
		}
	})
}
