// Package adapters is the lifecycle engine that every websock adapter
// shares, and the package an adapter author imports to write a new one.
//
// The [Engine] does everything that is the same on every library, once:
// it validates the upgrade request, applies the connection cap and the
// upgrade rate limit, the origin and subprotocol policy of [Options],
// runs the websock.AcceptFunc, runs the
// [websock.Handler] as a serial actor, keeps the mailbox behind
// [websock.Conn.Send], applies Results, serialises writes, recovers
// panics, enforces the idle timeout and keepalive, performs the closing
// handshake, maps every ending to its close code and [websock.Reason], and
// ends every connection gracefully with [Engine.Shutdown] (close 1001) or
// [Engine.Restart] (close 1012), and tells an [Observer] (Options.Observer)
// what happened. An adapter supplies only what depends on its library.
//
// # What an adapter implements
//
//   - An [Adapter] value: its name, library and server, and in [Lacks]
//     what the library cannot give, each with the reason. The engine
//     refuses options that need a lacking feature with
//     [ErrUnsupportedOption]; the conformance suite skips exactly the cases
//     of that feature.
//   - The HTTP side of the upgrade. On net/http, an [HTTPUpgradeFunc] that
//     calls the library's upgrade with the engine's [Upgrade] decision;
//     the adapter's ServeHTTP calls [Engine.ServeHTTP] with it. A library
//     that can run over any net.Conn also gives a [StreamUpgradeFunc], for
//     WebSockets over HTTP/2 streams (RFC 8441), and ServeHTTP calls
//     [Engine.ServeHTTPStreams] with both; otherwise the Adapter declares
//     Lacks.HTTP2. On any other server, a [Handshake] over the server's
//     request, passed to [Engine.Serve] from the server's request handler.
//   - A [Transport] over the library's connection: Read, WriteFrame,
//     WriteClose, SetWriteDeadline, Close. [ReadMessages] implements Read
//     for a library that returns whole messages; [MessageBuffer] reads one
//     from a per-message io.Reader into a buffer reused from message to
//     message, validating text as its bytes arrive.
//   - Optionally, on the Transport: [NetConner] (the engine can then linger
//     on close so the peer reads the close frame), [UTF8Validator] (the
//     library validates text itself), [Pinger] (the library hides pongs but
//     can ping and wait), [Releaser] (free the connection once it ended),
//     [PreparedWriter] (write a websock.Prepared from the frame bytes
//     [ServerFrame] shares between connections, rather than framing it
//     again).
//
// The adapter package then exports New(accept, opts), built on
// [NewEngine]; ServeHTTP (or its server's equivalent); ServeConn, for a
// connection the caller upgraded, built on [Engine.Run]; Shutdown,
// Restart and Live, which forward to the Engine; and
// "type Options = adapters.Options".
//
// # Who calls what, and from which goroutine
//
// [Engine.Serve] runs on the request's goroutine. It calls the
// Handshake's Method and Request, then the AcceptFunc, then either Refuse
// or Upgrade, once. Upgrade hands the [Upgraded] Transport to a function
// that runs the connection; it may call it on a goroutine of its own
// ([Engine.ServeHTTP] does, so that the request's goroutine is freed; an
// HTTP/2 stream runs on the request's goroutine, which net/http keeps
// until the stream ends). Over [Engine.ServeHTTP], Init runs on that
// goroutine and a [Transport]'s Read on a fresh one, started once Init
// has returned, which then runs the other callbacks: an idle
// connection's stack then holds its read loop only, not what the upgrade
// and Init grew it to.
//
// [Engine.Run] runs one connection on the calling goroutine and returns
// its Reason once Terminate has run. It calls [Transport.Read] once, with
// the connection's [Events]; Read reports every message, ping and pong to
// them, on that same goroutine. Init, HandleIn, HandleControl and
// Terminate run on that goroutine; HandleInfo runs on the mailbox's, never
// at the same time as another callback. The engine writes from that goroutine and from others (the
// mailbox's delivery, timers, Shutdown), never two writes at once, and
// may call Close from any goroutine at any time. After Terminate, and
// Release when implemented, it calls no method of the Transport again.
//
// Per connection the engine adds no goroutine while the connection is
// idle: a short-lived goroutine delivers mailbox messages only while some
// are waiting, and timers run only when they fire.
//
// # The client side
//
// [Dial] runs a websock.Handler over a connection it dials, with the same
// lifecycle, and reconnects as the handler's websock.Reconnector decides;
// [Client] is the handle callers use. The engine dials (TCP, TLS for
// wss://), writes the opening handshake and validates the server's answer
// in one place ([HandshakeError] when it is wrong). An adapter whose
// library can dial supplies a [NewClientTransport]: it turns the [Dialed]
// connection into a client Transport (frames masked), giving a library
// that insists on doing the handshake itself [Dialed.Replay], which
// answers the library's request with what the engine negotiated. The
// adapter package then exports Dial(ctx, url, handler, opts), built on
// [Dial]; ClientAdapter, its client's declaration; and
// "type DialOptions = adapters.DialOptions".
//
// To check an adapter, run the conformance suite from its test; see
// package github.com/websock-go/websock/conformance (RunClient for the
// client side).
package adapters
