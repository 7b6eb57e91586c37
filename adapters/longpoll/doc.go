// Package longpoll runs websock handlers over HTTP long-polling, for
// clients behind proxies that break WebSockets, as Phoenix's LongPoll
// transport does. The handler is the same websock.Handler the WebSocket
// adapters run, with the same engine: Init, HandleIn, HandleInfo through
// Conn.Send, Terminate exactly once with its Reason, the mailbox, the
// limits, the origin policy, the AcceptFunc, Shutdown and its paced drain,
// and the Observer. What long-polling cannot give is declared in
// [Adapter]: no ping or pong frames (HandleControl, keepalive), no
// permessage-deflate, and no RFC 6455 frames at all. Unlike the WebSocket
// adapters it has no ServeConn: only its Handler opens sessions.
//
// # The protocol
//
// A [Handler] serves one URL (its query is the application's, and is
// kept on every request). A POST without a session token opens a
// session; every other request names it with its token in the header
// Websock-Session ([HeaderSession]):
//
//   - POST opens a session. Its Origin header is checked, its
//     Sec-WebSocket-Protocol header (or Websock-Protocol, [HeaderProtocol],
//     which a browser may set) offers subprotocols, and the
//     AcceptFunc runs, as for an upgrade; a refusal is answered with its
//     status. The answer is 200, the token as a text body, and the chosen
//     subprotocol in Sec-WebSocket-Protocol.
//   - GET polls, with Websock-Ack ([HeaderAck]) the sequence number of
//     the last message the client received (0 at first): the server drops
//     what it acknowledges and answers the messages that follow, in
//     order, as soon as there is one, or 204 after PollTimeout. A poll
//     whose answer was lost is simply made again with the same ack, and
//     answered the same messages: nothing is lost. A newer poll answers
//     an older one 204.
//   - POST sends the client's messages, in order. Each has a sequence
//     number too, counted by the client from 1: the server skips those it
//     had already (a POST sent again because its answer was lost), and
//     answers 409 when some are missing. The POST is answered 204 once the
//     handler has taken every message, so a client sends its next batch
//     then: that is the backpressure of a socket. A message over
//     MaxMessageSize ends the session with close 1009, and is answered
//     413. A close message closes the session, after the messages before
//     it, as a close frame does.
//   - DELETE abandons the session: a client that is going away and cannot
//     wait (a page being unloaded). The session ends as a lost connection
//     does: 1006 and websock.ErrConnectionLost.
//
// The bodies of polls and POSTs are batches: the sequence number of the
// first message as a uvarint, then for each message its type (1 text, 2
// binary, 8 close, as the opcodes of RFC 6455), its length as a uvarint
// and its bytes; a close message holds what a close frame holds. The
// server's close message ends the session like a close frame: the client
// answers it with its own, or the session is closed after CloseTimeout
// anyway.
//
// A session ends on the client's close; on the handler's Stop; on
// Shutdown (close 1001 in the next poll); on IdleTimeout when the client
// stops polling (a poll, a POST or a DELETE shows it is there); on
// WriteTimeout when 1 MiB of messages wait for polls that do not come;
// and on bad input (1009, 1002). Answers to requests for a session that
// has ended are 410 Gone.
//
// websock.js, the browser client served by [ScriptHandler], speaks this
// protocol when a WebSocket cannot open.
//
// # Tokens
//
// A token is the session's 16-byte random id, signed with HMAC-SHA256
// under the server's key (Options.Key; random per Handler by default).
// Requests with a token whose signature does not verify (compared in
// constant time) are refused 403 before any session is looked up.
//
// # Several nodes
//
// A session lives in the memory of the node that opened it: its queues
// and its handler cannot move. Behind a load balancer, a session's
// requests must reach that node. Set Options.Node: every token then
// starts with the node's name ("node.id.mac"), which a balancer can route
// on (or use sticky sessions), and a node that gets another's session
// answers 421 Misdirected Request instead of 410. Nodes may share
// Options.Key so that each can tell a forged token from another node's.
// The handler's state is not shared: fan-out between nodes is the
// application's (package adapters/pubsub), as for WebSocket connections.
package longpoll
