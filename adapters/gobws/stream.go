package gobws

import (
	"github.com/websock-go/websock/adapters"
	"github.com/websock-go/websock/adapters/internal/pmdeflate"
)

// upgradeStream runs a connection over the HTTP/2 stream of an extended
// CONNECT request (RFC 8441). gobwas/ws reads and writes frames over any
// connection, so the adapter's transport runs over the stream as it runs
// over a hijacked TCP connection; only the handshake differs, and the
// engine answers it. Permessage-deflate is negotiated as on HTTP/1.1.
func (h *Handler) upgradeStream(s *adapters.Stream, u adapters.Upgrade) (adapters.Upgraded, error) {
	var offer *pmdeflate.Offer
	if u.Compression {
		offers, _ := pmdeflate.Parse(s.Request().Header)
		if offer = pmdeflate.FirstValid(offers); offer != nil {
			s.Header().Set("Sec-Websocket-Extensions", offer.Response())
		}
	}
	t := newTransport(s, nil, offer != nil, &h.opts)
	t.huffman = offer != nil && offer.ServerMaxWindowBits != 0 && offer.ServerMaxWindowBits < 15
	return adapters.Upgraded{Transport: t, Compressed: offer != nil}, nil
}
