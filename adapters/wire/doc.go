// Package wire lets an adapter see and shape the WebSocket frames of a
// library's server connection, for libraries that write their own close
// frames, hide what the peer's close frame said, or have no way to write a
// ping, pong or close frame of the adapter's choosing.
//
// A [Conn] is a net.Conn placed under the library's connection. It follows
// the frames the library writes (server to client, unmasked) and the
// frames the library reads (client to server, masked), by their headers,
// without copying messages or allocating per message. With it the adapter
// can:
//
//   - write its own ping, pong and close frames between the library's
//     frames ([Conn.WriteControl], [Conn.WriteClose]);
//   - rely on at most one close frame going out, whoever writes it: after
//     the first, every write is dropped ([Conn.CloseSent]);
//   - learn the payload of the close frame the peer sent, even when the
//     library hides it (reporting a 1-byte payload as "no status") or
//     rejects it (a code it does not know, such as 1014), and what it means
//     ([Conn.PeerClose], [CloseError]);
//   - learn whether the library wrote a close frame itself, and what it
//     said ([Conn.LibraryClose]), rather than guessing from its errors.
//
// A close frame the library writes after the peer's close frame reached
// it is the library's answer to the peer's. The Conn sends the answer RFC
// 6455 asks for in its place: the peer's status code echoed (an empty
// close for an empty one), or close 1002 when the peer's close frame was
// malformed (a 1-byte payload, a code that may not be sent, a reason that
// is not UTF-8). A close frame the library writes on its own is sent as
// written, unless its payload is malformed, when close 1002 goes instead.
//
// # Putting a Conn under a library
//
// On net/http, hand the library a [ResponseWriter] in place of the
// server's: its Hijack wraps the hijacked connection in a Conn, and
// points the buffered reader and writer it returns at the Conn. The
// library may write the HTTP 101 response itself through the hijacked
// connection (as github.com/gorilla/websocket does) or have net/http
// write it before hijacking (as github.com/coder/websocket does): the
// Conn passes the response through untouched and follows frames from the
// first byte after it.
//
// A server that hijacks connections itself (github.com/valyala/fasthttp)
// has no such hook: serve on a [Listener], whose connections are Conns
// that pass the HTTP exchange through untouched, and call
// [Conn.Upgraded] once the server has written the 101 response, before
// the library reads its first frame.
//
// Over any other connection whose handshake is done, [New] returns a
// Conn that follows frames from the first byte in both directions.
//
// # Reading on the calling goroutine
//
// A library that runs its own read loop and calls back on every message
// (rather than returning one message per call) fits
// adapters.Transport.Read as it is: run the library's loop inside Read, on
// the goroutine that called it, and report to the adapters.Events from
// the library's callbacks. Return when the loop ends, with the error that
// ended it, classified with what the Conn knows: when [Conn.PeerClose]
// reports a close frame, [CloseError] of its payload. An idle connection
// then costs the goroutine the engine already runs for it and nothing
// more: do not start a goroutine per connection to pump the library's
// callbacks into a channel.
package wire
