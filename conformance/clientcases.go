package conformance

import (
	"errors"
	"net/http"
	"strings"

	"github.com/websock-go/websock/adapters"
	"github.com/websock-go/websock/websock"
)

const srcClient = "adapters.Client" // the client's lifecycle, Send, Close and reconnect

// clientCases is the client mode, in the order it runs. Names are stable.
var clientCases = []clientCase{
	{Case{Name: "ClientRequest", Source: "RFC 6455 section 4.1", Rule: "the opening handshake is a valid upgrade request with the options' headers and subprotocols", Description: "reads the request the client sends"}, clientRequest},
	{Case{Name: "ClientHandshakeStatus", Source: "RFC 6455 section 4.1", Rule: "an answer other than 101 fails the dial with a *HandshakeError matching ErrBadHandshake", Description: "the server answers 403"}, handshakeFault(http.StatusForbidden)},
	{Case{Name: "ClientHandshakeBadAccept", Source: "RFC 6455 section 4.1", Rule: "a Sec-WebSocket-Accept that does not match the key fails the dial", Description: "the server answers with a wrong accept key", Feature: 0}, handshakeFault(0, "Sec-WebSocket-Accept", "dGhlIHNhbXBsZSBub25jZQ==")},
	{Case{Name: "ClientHandshakeNoUpgrade", Source: "RFC 6455 section 4.1", Rule: "a 101 without \"Upgrade: websocket\" fails the dial", Description: "the server answers with Upgrade: h2c"}, handshakeFault(0, "Upgrade", "h2c")},
	{Case{Name: "ClientHandshakeUnofferedSubprotocol", Source: "RFC 6455 section 4.1", Rule: "a subprotocol the client did not offer fails the dial", Description: "the server chooses a subprotocol never offered"}, handshakeFault(0, "Sec-WebSocket-Protocol", "chat")},
	{Case{Name: "ClientHandshakeUnofferedExtension", Source: "RFC 6455 section 4.1", Rule: "an extension the client did not offer fails the dial", Description: "the server answers with permessage-deflate, not offered"}, handshakeFault(0, "Sec-WebSocket-Extensions", "permessage-deflate")},
	{Case{Name: "ClientHandshakeBadDeflateAnswer", Feature: adapters.FeatureCompression, Source: "RFC 7692 section 7.1.2.2", Rule: "a permessage-deflate answer the offer does not allow fails the dial", Description: "the server answers with client_max_window_bits, not offered"}, handshakeFaultDeflate},
	{Case{Name: "ClientSubprotocol", Source: "RFC 6455 section 4.1", Rule: "the subprotocol the server chose, among those offered, is in ConnInfo", Description: "offers two subprotocols, the server chooses the second"}, clientSubprotocol},
	{Case{Name: "ClientEcho", Source: srcHandler, Rule: "frames the client writes are masked; the server's messages reach HandleIn with their type", Description: "Init pushes text, the server sends text and binary"}, clientEcho},
	{Case{Name: "ClientFragmented", Source: "RFC 6455 section 5.4", Rule: "fragments are reassembled, with a ping between them answered", Description: "the server sends a text message in three fragments"}, clientFragmented},
	{Case{Name: "ClientMaskedFrame", Source: "RFC 6455 section 5.1", Rule: "a masked frame from the server fails the connection: 1002", Description: "the server sends a masked text frame"}, clientMaskedFrame},
	{Case{Name: "ClientReservedOpcode", Source: "RFC 6455 section 5.2", Rule: "a reserved opcode or reserved bit from the server fails the connection: 1002", Description: "the server sends opcode 3, then RSV2 set"}, clientReserved},
	{Case{Name: "ClientCloseCodeInvalid", Source: "RFC 6455 section 7.4", Rule: "a close code from the server that may not be sent fails the connection: 1002", Description: "the server closes with 1005 in the payload"}, clientCloseCodeInvalid},
	{Case{Name: "ClientInvalidUTF8", Source: "RFC 6455 section 8.1", Rule: "invalid UTF-8 in a text message fails the connection, as soon as it arrives: 1007", Description: "the server sends bad UTF-8, whole, across fragments, and in the first part of a frame whose rest never comes"}, clientInvalidUTF8},
	{Case{Name: "ClientCloseReasonInvalidUTF8", Source: "RFC 6455 section 8.1", Rule: "a close frame whose reason is not UTF-8 fails the connection with 1002 or 1007, not echoed, and Terminate has the code that went out", Description: "the server closes with 1000 and a reason holding a UTF-16 surrogate"}, clientCloseReasonInvalidUTF8},
	{Case{Name: "ClientMessageTooBig", Source: srcOptions, Rule: "a message over MaxMessageSize fails the connection: 1009", Description: "the server sends 1 byte over a 1000-byte limit"}, clientTooBig},
	{Case{Name: "ClientServerCloses", Source: "RFC 6455 section 5.5.1", Rule: "the server's close is echoed and Terminate sees Remote with its code", Description: "the server closes with 4001"}, clientServerCloses},
	{Case{Name: "ClientCloses", Source: srcClient, Rule: "Client.Close sends its code; Terminate sees Normal with it; Wait returns it", Description: "Close(4002)"}, clientCloses},
	{Case{Name: "ClientPingPong", Source: "RFC 6455 section 5.5.2", Rule: "a ping from the server is answered with a pong of the same payload", Description: "the server pings"}, clientPingPong},
	{Case{Name: "ClientHandleControl", Feature: adapters.FeatureHandleControl, Source: "websock.ControlHandler", Rule: "HandleControl sees the server's pings and the pongs to the handler's pings", Description: "the server pings; Init pushes a ping"}, clientHandleControl},
	{Case{Name: "ClientKeepalive", Feature: adapters.FeatureKeepalive, Source: srcOptions, Rule: "a client pings a silent server after PingInterval", Description: "PingInterval of 50 ms, a silent server"}, clientKeepalive},
	{Case{Name: "ClientCompression", Feature: adapters.FeatureCompression, Source: "RFC 7692 section 7.1", Rule: "every valid answer to the client's offer is accepted, client_no_context_takeover omitted included", Description: "the server accepts without client_no_context_takeover and with server_max_window_bits=10, and sends compressed text"}, clientCompression},
	{Case{Name: "ClientReconnect", Source: srcClient, Rule: "a server vanishing mid-message ends the connection (ErrConnectionLost); HandleDisconnect reconnects; Send while disconnected is delivered after the next Init", Description: "the server drops the connection after a first fragment"}, clientReconnect},
	{Case{Name: "ClientInitialDialRetry", Source: srcClient, Rule: "with RetryInitialDial a failed first dial goes to HandleDisconnect; without, Dial returns it", Description: "the server answers 503, then upgrades"}, clientInitialRetry},
}

func clientRequest(e *clientEnv) {
	s := e.server()
	p := newClientProbe()
	ch := e.dial(s.url, p, &adapters.DialOptions{Header: http.Header{"X-Token": {"t1"}},
		Options: adapters.Options{Subprotocols: []string{"v2.feed", "v1.feed"}}})
	pc := e.accept(s)
	r := pc.req
	switch {
	case r.Method != http.MethodGet || r.URL.RequestURI() != "/feed?x=1":
		e.Errorf("request %s %s, want GET /feed?x=1", r.Method, r.URL.RequestURI())
	case !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") || !strings.Contains(strings.ToLower(r.Header.Get("Connection")), "upgrade"):
		e.Errorf("request lacks Upgrade: websocket or Connection: Upgrade: %v", r.Header)
	case r.Header.Get("Sec-WebSocket-Version") != "13" || !validKeyValue(r.Header.Get("Sec-WebSocket-Key")):
		e.Errorf("request has version %q and key %q, want 13 and 16 bytes in base64", r.Header.Get("Sec-WebSocket-Version"), r.Header.Get("Sec-WebSocket-Key"))
	case r.Header.Get("X-Token") != "t1":
		e.Errorf("DialOptions.Header X-Token not sent: %v", r.Header)
	case r.Header.Get("Sec-WebSocket-Protocol") != "v2.feed, v1.feed":
		e.Errorf("Sec-WebSocket-Protocol %q, want the offered subprotocols in order", r.Header.Get("Sec-WebSocket-Protocol"))
	case r.Header.Get("Sec-WebSocket-Extensions") != "":
		e.Errorf("Sec-WebSocket-Extensions %q offered without Compression", r.Header.Get("Sec-WebSocket-Extensions"))
	}
	e.upgrade(pc)
	e.client(ch)
	next(e, p.inits, "Init")
}

func validKeyValue(k string) bool {
	h := http.Header{"Sec-Websocket-Key": {k}}
	return len(h.Values("Sec-Websocket-Key")) == 1 && len(k) == 24
}

// handshakeFault answers the handshake with status (0: 101) and a header
// set to a wrong value, and checks that the dial fails.
func handshakeFault(status int, kv ...string) func(e *clientEnv) {
	return func(e *clientEnv) {
		s := e.server()
		p := newClientProbe()
		ch := e.dial(s.url, p, nil)
		pc := e.accept(s)
		h := pc.upgradeHeader(kv...)
		st := status
		if st == 0 {
			st = http.StatusSwitchingProtocols
		} else {
			h = http.Header{"Content-Length": {"0"}}
		}
		pc.respond(st, h)
		checkHandshakeError(e, e.dialErr(ch), st)
		if len(p.inits) > 0 {
			e.Errorf("Init ran for a connection whose handshake failed")
		}
	}
}

func checkHandshakeError(e *clientEnv, err error, status int) {
	e.Helper()
	var he *adapters.HandshakeError
	switch {
	case !errors.Is(err, websock.ErrBadHandshake):
		e.Errorf("dial error %v does not match websock.ErrBadHandshake", err)
	case !errors.As(err, &he):
		e.Errorf("dial error %v is not an *adapters.HandshakeError", err)
	case he.Status != status:
		e.Errorf("HandshakeError.Status %d, want %d", he.Status, status)
	}
}

func handshakeFaultDeflate(e *clientEnv) {
	s := e.server()
	ch := e.dial(s.url, newClientProbe(), &adapters.DialOptions{Options: adapters.Options{Compression: true}})
	pc := e.accept(s)
	if pc.req.Header.Get("Sec-WebSocket-Extensions") == "" {
		e.Fatalf("Compression set, but the client offered no extension")
	}
	e.upgrade(pc, "Sec-WebSocket-Extensions", "permessage-deflate; server_no_context_takeover; client_max_window_bits=10")
	checkHandshakeError(e, e.dialErr(ch), http.StatusSwitchingProtocols)
}

func clientSubprotocol(e *clientEnv) {
	s := e.server()
	p := newClientProbe()
	ch := e.dial(s.url, p, &adapters.DialOptions{Options: adapters.Options{Subprotocols: []string{"a", "b"}}})
	pc := e.accept(s)
	e.upgrade(pc, "Sec-WebSocket-Protocol", "b")
	e.client(ch)
	c := next(e, p.inits, "Init")
	if info := c.Info(); info.Subprotocol != "b" || info.URL == nil || info.URL.Path != "/feed" || info.Adapter != e.adapter.Name {
		e.Errorf("ConnInfo %+v, want subprotocol b, URL path /feed and adapter %s", info, e.adapter.Name)
	}
}

func clientEcho(e *clientEnv) {
	p := newClientProbe()
	p.initPush = func(int) websock.Result {
		return websock.Push(websock.Frame{Op: websock.OpText, Data: []byte("hello")})
	}
	pc, c := e.connected(p, nil)
	e.wantText(pc, "hello") // read masks too
	e.write(pc, frame{fin: true, op: opText, payload: []byte("world")}, false)
	e.write(pc, frame{fin: true, op: opBinary, payload: []byte{0, 1, 2, 255}}, false)
	if f := next(e, p.in, "HandleIn"); f.Op != websock.OpText || string(f.Data) != "world" {
		e.Errorf("HandleIn got %v %q, want text world", f.Op, f.Data)
	}
	if f := next(e, p.in, "HandleIn"); f.Op != websock.OpBinary || string(f.Data) != "\x00\x01\x02\xff" {
		e.Errorf("HandleIn got %v %q, want binary 00 01 02 ff", f.Op, f.Data)
	}
	if !c.Connected() {
		e.Errorf("Connected() is false on a live connection")
	}
	if err := c.Send("from outside"); err != nil {
		e.Fatalf("Send: %v", err)
	}
	e.wantText(pc, "from outside")
}

func clientFragmented(e *clientEnv) {
	p := newClientProbe()
	pc, _ := e.connected(p, nil)
	e.write(pc, frame{op: opText, payload: []byte("frag")}, false)
	e.write(pc, frame{fin: true, op: opPing, payload: []byte("p1")}, false)
	e.write(pc, frame{op: opCont, payload: []byte("men")}, false)
	e.write(pc, frame{fin: true, op: opCont, payload: []byte("ted")}, false)
	if f := next(e, p.in, "HandleIn"); f.Op != websock.OpText || string(f.Data) != "fragmented" {
		e.Errorf("HandleIn got %v %q, want text fragmented", f.Op, f.Data)
	}
	if f := e.read(pc); f.op != opPong || string(f.payload) != "p1" {
		e.Errorf("the client answered a ping with %s %q, want pong p1", opName(f.op), f.payload)
	}
}

// clientFails has the server send bad frames and checks the client's
// close code and Terminate's reason.
func clientFails(e *clientEnv, opts *adapters.DialOptions, code uint16, target error, rule string, frames ...frame) {
	clientFailsOn(e, opts, code, target, rule, func(pc *peer) {
		for _, f := range frames {
			pc.writeFrame(f, !(f.rsv&0x8 != 0))
		}
	})
}

// clientFailsOn is clientFails with the server's bytes written by send.
func clientFailsOn(e *clientEnv, opts *adapters.DialOptions, code uint16, target error, rule string, send func(pc *peer)) {
	p := newClientProbe()
	pc, c := e.connected(p, opts)
	send(pc)
	e.wantClose(pc, code, rule)
	pc.writeFrame(frame{fin: true, op: opClose, payload: []byte{byte(code >> 8), byte(code)}}, true) // as a server answers
	pc.close()
	r := next(e, p.reasons, "Terminate")
	if r.Kind != websock.KindError || r.Code != websock.CloseCode(code) || !errors.Is(r, target) {
		e.Errorf("Terminate saw %v, want Error, %d, wrapping %v (rule: %s)", r, code, target, rule)
	}
	if w := waitClient(e, c); w.Code != r.Code {
		e.Errorf("Wait returned %v, want Terminate's reason %v", w, r)
	}
}

// masked marks a frame for clientFails to write masked.
const masked = 0x8

func clientMaskedFrame(e *clientEnv) {
	clientFails(e, nil, 1002, websock.ErrProtocol, "RFC 6455 section 5.1: a client closes the connection on a masked frame",
		frame{fin: true, op: opText, rsv: masked, payload: []byte("masked")})
}

func clientInvalidUTF8(e *clientEnv) {
	e.sub("whole", func(r reporter) {
		clientFails(&clientEnv{reporter: r, adapter: e.adapter}, nil, 1007, websock.ErrInvalidUTF8, "RFC 6455 section 8.1",
			frame{fin: true, op: opText, payload: []byte("bad \xff\xfe")})
	})
	e.sub("fragments", func(r reporter) {
		clientFails(&clientEnv{reporter: r, adapter: e.adapter}, nil, 1007, websock.ErrInvalidUTF8, "RFC 6455 section 8.1",
			frame{op: opText, payload: []byte("ok \xce")}, frame{fin: true, op: opCont, payload: []byte("\xff")})
	})
	e.sub("chopped", func(r reporter) {
		// A frame of 64 bytes of which only the first 8 arrive, the
		// invalid byte among them: the client must fail at once, not when
		// (here: never) the frame is whole (Autobahn cases 6.4.3, 6.4.4).
		clientFailsOn(&clientEnv{reporter: r, adapter: e.adapter}, nil, 1007, websock.ErrInvalidUTF8,
			"RFC 6455 section 8.1: invalid UTF-8 fails the connection as soon as its bytes arrive, before the frame is whole",
			func(pc *peer) { pc.nc.Write([]byte("\x81\x40ok \xce\xba\xf4\x90")) })
	})
}

// clientCloseReasonInvalidUTF8 accepts 1002 (a malformed close frame,
// which every server's wire and most clients answer) or 1007 (text that is
// not UTF-8), as Autobahn case 7.5.1 does, and holds Terminate to the code
// that went out.
func clientCloseReasonInvalidUTF8(e *clientEnv) {
	const rule = "RFC 6455 sections 5.5.1 and 8.1: a close reason that is not UTF-8 fails the connection (1002 or 1007), it is not echoed (Autobahn case 7.5.1)"
	p := newClientProbe()
	pc, c := e.connected(p, nil)
	e.write(pc, frame{fin: true, op: opClose, payload: []byte("\x03\xe8\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited")}, false)
	cf := e.wantCloseOf(pc, rule, 1002, 1007)
	pc.close()
	target := websock.ErrProtocol
	if cf.code == 1007 {
		target = websock.ErrInvalidUTF8
	}
	r := next(e, p.reasons, "Terminate")
	if r.Kind != websock.KindError || r.Code != websock.CloseCode(cf.code) || !errors.Is(r, target) {
		e.Errorf("Terminate saw %v, want Error with the %d that went out, wrapping %v (rule: the Reason says what went on the wire)", r, cf.code, target)
	}
	if w := waitClient(e, c); w.Code != r.Code {
		e.Errorf("Wait returned %v, want Terminate's reason %v", w, r)
	}
}

func clientReserved(e *clientEnv) {
	e.sub("opcode", func(r reporter) {
		clientFails(&clientEnv{reporter: r, adapter: e.adapter}, nil, 1002, websock.ErrProtocol, "RFC 6455 section 5.2: an unknown opcode fails the connection",
			frame{fin: true, op: 0x3, payload: []byte("x")})
	})
	e.sub("rsv2", func(r reporter) {
		clientFails(&clientEnv{reporter: r, adapter: e.adapter}, nil, 1002, websock.ErrProtocol, "RFC 6455 section 5.2: a reserved bit no extension defines fails the connection",
			frame{fin: true, op: opText, rsv: 2, payload: []byte("x")})
	})
}

func clientCloseCodeInvalid(e *clientEnv) {
	clientFails(e, nil, 1002, websock.ErrProtocol, "RFC 6455 section 7.4: close code 1005 may not be sent",
		frame{fin: true, op: opClose, payload: []byte{0x03, 0xed}})
}

func clientTooBig(e *clientEnv) {
	clientFails(e, &adapters.DialOptions{Options: adapters.Options{MaxMessageSize: 1000}}, 1009, websock.ErrMessageTooBig,
		"MaxMessageSize applies to the client",
		frame{fin: true, op: opBinary, payload: make([]byte, 1001)})
}

func waitClient(e *clientEnv, c *adapters.Client) websock.Reason {
	e.Helper()
	next(e, func() chan struct{} {
		ch := make(chan struct{}, 1)
		go func() { <-c.Done(); ch <- struct{}{} }()
		return ch
	}(), "end of the client (Done)")
	return c.Wait()
}

func clientServerCloses(e *clientEnv) {
	p := newClientProbe()
	pc, c := e.connected(p, nil)
	e.closeFrom(pc, 4001, "bye")
	e.wantClose(pc, 4001, "RFC 6455 section 5.5.1: the close code is echoed")
	pc.close()
	r := next(e, p.reasons, "Terminate")
	var ce *websock.CloseError
	if r.Kind != websock.KindRemote || r.Code != 4001 || r.Text != "bye" || !errors.As(r, &ce) {
		e.Errorf("Terminate saw %v, want Remote 4001 \"bye\"", r)
	}
	d := next(e, p.discs, "HandleDisconnect")
	if !d.Dialed || d.Attempt != 0 || d.Reason.Code != 4001 {
		e.Errorf("HandleDisconnect got %+v, want Dialed, attempt 0, the connection's reason", d)
	}
	if w := waitClient(e, c); w.Code != 4001 {
		e.Errorf("Wait returned %v, want the Remote 4001 reason", w)
	}
	if err := c.Send("late"); !errors.Is(err, websock.ErrClosed) {
		e.Errorf("Send after the client stopped returned %v, want ErrClosed", err)
	}
}

func clientCloses(e *clientEnv) {
	p := newClientProbe()
	pc, c := e.connected(p, nil)
	next(e, p.inits, "Init")
	if err := c.Close(4002, "done"); err != nil {
		e.Fatalf("Close: %v", err)
	}
	if cf := e.wantClose(pc, 4002, "Client.Close sends its code"); cf.text != "done" {
		e.Errorf("close reason %q, want done", cf.text)
	}
	e.closeFrom(pc, 4002, "")
	pc.close()
	r := next(e, p.reasons, "Terminate")
	if r.Kind != websock.KindNormal || r.Code != 4002 {
		e.Errorf("Terminate saw %v, want Normal 4002", r)
	}
	if w := waitClient(e, c); w.Code != 4002 {
		e.Errorf("Wait returned %v, want Normal 4002", w)
	}
	if len(p.discs) > 0 {
		e.Errorf("HandleDisconnect was asked after Close: Close stops the client")
	}
}

func clientPingPong(e *clientEnv) {
	pc, _ := e.connected(newClientProbe(), nil)
	e.write(pc, frame{fin: true, op: opPing, payload: []byte("abc")}, false)
	if f := e.read(pc); f.op != opPong || string(f.payload) != "abc" {
		e.Errorf("the client answered a ping with %s %q, want pong abc", opName(f.op), f.payload)
	}
}

func clientHandleControl(e *clientEnv) {
	p := newClientProbe()
	p.initPush = func(int) websock.Result { return websock.Push(websock.Frame{Op: websock.OpPing, Data: []byte("xyz")}) }
	pc, _ := e.connected(p, nil)
	if f := e.read(pc); f.op != opPing || string(f.payload) != "xyz" {
		e.Fatalf("the client sent %s %q, want the ping Init pushed", opName(f.op), f.payload)
	}
	e.write(pc, frame{fin: true, op: opPong, payload: []byte("xyz")}, false)
	e.write(pc, frame{fin: true, op: opPing, payload: []byte("abc")}, false)
	got := map[string]bool{}
	for range 2 {
		f := next(e, p.ctl, "HandleControl")
		got[f.Op.String()+" "+string(f.Data)] = true
	}
	if !got[websock.OpPong.String()+" xyz"] || !got[websock.OpPing.String()+" abc"] {
		e.Errorf("HandleControl saw %v, want the pong xyz and the ping abc", got)
	}
}

func clientKeepalive(e *clientEnv) {
	p := newClientProbe()
	pc, _ := e.connected(p, &adapters.DialOptions{Options: adapters.Options{PingInterval: 50e6}})
	f := e.read(pc)
	if f.op != opPing {
		e.Fatalf("a silent server got %s from the client, want a keepalive ping", opName(f.op))
	}
	e.write(pc, frame{fin: true, op: opPong, payload: f.payload}, false)
}

func clientCompression(e *clientEnv) {
	for _, answer := range []string{"permessage-deflate; server_no_context_takeover",
		"permessage-deflate; server_no_context_takeover; server_max_window_bits=10",
		"permessage-deflate;server_no_context_takeover;client_no_context_takeover"} {
		e.sub(answer, func(r reporter) {
			e := &clientEnv{reporter: r, adapter: e.adapter}
			s := e.server()
			p := newClientProbe()
			p.initPush = func(int) websock.Result {
				return websock.Push(websock.Frame{Op: websock.OpText, Data: []byte(strings.Repeat("client says hi ", 20))})
			}
			ch := e.dial(s.url, p, &adapters.DialOptions{Options: adapters.Options{Compression: true}})
			pc := e.accept(s)
			e.upgrade(pc, "Sec-WebSocket-Extensions", answer)
			e.client(ch)
			if c := next(e, p.inits, "Init"); !c.Info().Compressed {
				e.Errorf("ConnInfo.Compressed is false after the server accepted permessage-deflate")
			}
			f := e.readData(pc)
			data := f.payload
			if f.rsv&4 != 0 {
				var err error
				if data, err = inflate(f.payload, nil, 1<<15, 1<<20); err != nil {
					e.Fatalf("the client's compressed message does not inflate without context: %v", err)
				}
			}
			if string(data) != strings.Repeat("client says hi ", 20) {
				e.Errorf("the client sent %q", short(string(data)))
			}
			msg := strings.Repeat("server says hello ", 30)
			e.write(pc, frame{fin: true, op: opText, rsv: 4, payload: compress([]byte(msg))}, false)
			e.write(pc, frame{fin: true, op: opText, rsv: 4, payload: compress([]byte(msg))}, false)
			for range 2 {
				if f := next(e, p.in, "HandleIn"); string(f.Data) != msg {
					e.Errorf("HandleIn got %q, want the server's compressed message", short(string(f.Data)))
				}
			}
		})
	}
}

func clientReconnect(e *clientEnv) {
	s := e.server()
	p := newClientProbe()
	p.initPush = func(n int) websock.Result {
		return websock.Push(websock.Frame{Op: websock.OpText, Data: []byte("init " + string(rune('0'+n)))})
	}
	clients := make(chan *adapters.Client, 1)
	p.reconnect = func(d websock.Disconnect) websock.Reconnect {
		if !d.Dialed {
			return websock.StopReconnecting
		}
		c := <-clients
		clients <- c
		c.Send("queued while disconnected") // delivered after the next Init
		return websock.Reconnect{Delay: -1}
	}
	ch := e.dial(s.url, p, nil)
	pc := e.accept(s)
	e.upgrade(pc)
	clients <- e.client(ch)
	e.wantText(pc, "init 1")
	e.write(pc, frame{op: opText, payload: []byte("half a mess")}, false)
	pc.close()

	r := next(e, p.reasons, "Terminate")
	if r.Kind != websock.KindError || !errors.Is(r, websock.ErrConnectionLost) {
		e.Errorf("Terminate saw %v, want Error wrapping ErrConnectionLost", r)
	}
	d := next(e, p.discs, "HandleDisconnect")
	if !d.Dialed || d.Attempt != 0 || !errors.Is(d.Reason, websock.ErrConnectionLost) || d.URL != s.url {
		e.Errorf("HandleDisconnect got %+v, want Dialed, attempt 0, ErrConnectionLost, the URL", d)
	}
	pc2 := e.accept(s)
	e.upgrade(pc2)
	e.wantText(pc2, "init 2")
	e.wantText(pc2, "queued while disconnected")
	e.closeFrom(pc2, 1000, "")
	e.wantClose(pc2, 1000, "RFC 6455 section 5.5.1")
}

func clientInitialRetry(e *clientEnv) {
	e.sub("without", func(r reporter) {
		e := &clientEnv{reporter: r, adapter: e.adapter}
		s := e.server()
		p := newClientProbe()
		p.reconnect = func(websock.Disconnect) websock.Reconnect { return websock.Reconnect{Delay: -1} }
		ch := e.dial(s.url, p, nil)
		pc := e.accept(s)
		pc.respond(http.StatusServiceUnavailable, http.Header{"Content-Length": {"0"}})
		checkHandshakeError(e, e.dialErr(ch), http.StatusServiceUnavailable)
		if len(p.discs) > 0 || len(p.inits) > 0 {
			e.Errorf("HandleDisconnect or Init ran for a first dial that failed without RetryInitialDial")
		}
	})
	e.sub("with", func(r reporter) {
		e := &clientEnv{reporter: r, adapter: e.adapter}
		s := e.server()
		p := newClientProbe()
		p.reconnect = func(websock.Disconnect) websock.Reconnect { return websock.Reconnect{Delay: -1} }
		ch := e.dial(s.url, p, &adapters.DialOptions{RetryInitialDial: true})
		pc := e.accept(s)
		pc.respond(http.StatusServiceUnavailable, http.Header{"Content-Length": {"0"}})
		d := next(e, p.discs, "HandleDisconnect")
		if d.Dialed || d.Attempt != 1 || !errors.Is(d.Reason, websock.ErrBadHandshake) {
			e.Errorf("HandleDisconnect got %+v, want not Dialed, attempt 1, ErrBadHandshake", d)
		}
		pc2 := e.accept(s)
		e.upgrade(pc2)
		e.client(ch)
		next(e, p.inits, "Init")
	})
}

// connected dials the suite's raw server with h and opts, and answers the
// handshake validly.
func (e *clientEnv) connected(h websock.Handler, opts *adapters.DialOptions) (*peer, *adapters.Client) {
	e.Helper()
	s := e.server()
	ch := e.dial(s.url, h, opts)
	pc := e.accept(s)
	e.upgrade(pc)
	return pc, e.client(ch)
}
