package pmdeflate

import (
	"net/http"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		header   string
		valid    []bool // per offer: Err == nil
		clean    bool
		response string // of the first valid permessage-deflate offer
	}{
		{"permessage-deflate", []bool{true}, true, NoContextResponse},
		{"permessage-deflate; server_max_window_bits=9", []bool{true}, true, NoContextResponse + "; server_max_window_bits=9"},
		{`permessage-deflate; server_max_window_bits="10"`, []bool{true}, false, NoContextResponse + "; server_max_window_bits=10"},
		{"permessage-deflate; client_max_window_bits; client_no_context_takeover; server_no_context_takeover", []bool{true}, true, NoContextResponse},
		{"permessage-deflate; x, permessage-deflate; server_max_window_bits=15", []bool{false, true}, true, NoContextResponse + "; server_max_window_bits=15"},
		{"permessage-deflate; server_max_window_bits=08", []bool{false}, true, ""},
		{"permessage-deflate; server_max_window_bits", []bool{false}, true, ""},
		{"permessage-deflate; client_max_window_bits=16", []bool{false}, true, ""},
		{"permessage-deflate; server_no_context_takeover; server_no_context_takeover", []bool{false}, true, ""},
		{"permessage-deflate; server_no_context_takeover=1", []bool{false}, true, ""},
		{"permessage-deflate; a b", []bool{false}, false, ""},
	}
	for _, tt := range tests {
		offers, clean := Parse(http.Header{"Sec-Websocket-Extensions": {tt.header}})
		if clean != tt.clean || len(offers) != len(tt.valid) {
			t.Errorf("%q: %d offers, clean %v; want %d, %v", tt.header, len(offers), clean, len(tt.valid), tt.clean)
			continue
		}
		for i, o := range offers {
			if (o.Err == nil) != tt.valid[i] {
				t.Errorf("%q: offer %d: error %v; want valid %v", tt.header, i, o.Err, tt.valid[i])
			}
		}
		resp := ""
		if o := FirstValid(offers); o != nil {
			resp = o.Response()
		}
		if resp != tt.response {
			t.Errorf("%q: response %q; want %q", tt.header, resp, tt.response)
		}
	}
}

func TestSelected(t *testing.T) {
	first := (*Offer).Deflate
	for header, want := range map[string]bool{
		"permessage-deflate; client_max_window_bits=10":                              true,
		"permessage-deflate; server_max_window_bits=10":                              false, // the fixed answer leaves it out
		"permessage-deflate; x_unknown, permessage-deflate":                          false, // the library takes the first
		`permessage-deflate; client_max_window_bits="10"`:                            false, // not clean
		"x-other, permessage-deflate; server_no_context_takeover":                    true,
		"permessage-deflate; client_no_context_takeover; client_no_context_takeover": false,
	} {
		if _, ok := Selected(http.Header{"Sec-Websocket-Extensions": {header}}, first); ok != want {
			t.Errorf("Selected(%q) = %v; want %v", header, ok, want)
		}
	}
}

func TestHonourable(t *testing.T) {
	for _, tc := range []struct {
		header, want string
		ok           bool
	}{
		{"permessage-deflate", "permessage-deflate", true},
		{"permessage-deflate; client_no_context_takeover; server_max_window_bits=9, permessage-deflate;client_no_context_takeover, permessage-deflate",
			"permessage-deflate; client_no_context_takeover", true},
		{"x-other, permessage-deflatex, permessage-deflate; x_unknown, permessage-deflate; client_max_window_bits", "permessage-deflate; client_max_window_bits", true},
		{"permessage-deflate; server_max_window_bits=10", "", false},
		{`permessage-deflate; client_max_window_bits="10"`, "", false}, // not clean
		{"", "", false},
	} {
		got, ok := Honourable(http.Header{"Sec-Websocket-Extensions": {tc.header}})
		if got != tc.want || ok != tc.ok {
			t.Errorf("Honourable(%q) = %q, %v; want %q, %v", tc.header, got, ok, tc.want, tc.ok)
		}
	}
}
