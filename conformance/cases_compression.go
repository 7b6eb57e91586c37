package conformance

import (
	"bytes"
	"net/http"
	"strings"

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
