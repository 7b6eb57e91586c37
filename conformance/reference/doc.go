// Package reference is the reference adapter: websock's engine over a
// WebSocket server written here with the standard library alone, serving
// in-memory connections. It passes the whole conformance suite and lacks
// nothing, so it shows what the suite asks of every adapter; and it is the
// worked example of writing one, to be read top to bottom, a file per
// concern:
//
//   - adapter.go: what an adapter package exports. It declares its
//     [Adapter], builds its [Handler] on adapters.NewEngine, and forwards
//     Shutdown, Restart and Live to the engine. [Handler.Dial] stands in
//     for a listener: it opens a connection to the server, an in-memory
//     net.Conn whose two directions are bounded buffers, as a socket's
//     are (package internal/memconn, which websocktest shares).
//   - handshake.go: the adapters.Handshake. It reads the upgrade request
//     from the connection with http.ReadRequest, and then refuses it with
//     an HTTP response or answers 101 with the accept key, the
//     subprotocol and permessage-deflate (RFC 7692), as the engine
//     decided. An adapter on net/http writes an adapters.HTTPUpgradeFunc
//     instead, around its library's upgrade call.
//   - read.go: Transport.Read, the server side of RFC 6455 section 5:
//     masked frames, fragments reassembled with control frames between
//     them, UTF-8 validated as the bytes arrive, MaxMessageSize enforced
//     after decompression, close frames parsed.
//   - write.go: the rest of the adapters.Transport: frames written whole,
//     the write deadline, and Close.
//     It does not implement adapters.PreparedWriter: a prepared message
//     (websock.Prepared) is written as any other frame, which the suite's
//     Prepared cases check too.
//   - http2.go: WebSockets over HTTP/2 (RFC 8441). A connection that
//     starts with the HTTP/2 preface is served by net/http's HTTP/2
//     server, whose handler passes each extended CONNECT request to
//     adapters.Engine.ServeHTTPStreams; the same Transport runs over the
//     request's stream (an adapters.Stream).
//   - faults.go: no part of the example. The suite's tests of itself
//     break this adapter on purpose, one rule at a time, through it.
//
// An adapter over a WebSocket library writes none of read.go or write.go
// itself: its Transport forwards to the library, and reports what the
// library returns. The conformance suite reaches this adapter through
// [Handler.Dial] (see conformance.Server.Dial).
package reference
