package conformance

import "github.com/websock-go/websock/adapters"

// The sources a case's rule comes from.
const (
	srcHandler = "websock.Handler"    // the callback contract, package websock
	srcResult  = "websock.Result"     // the table of Results
	srcReason  = "websock.Reason"     // the table of how a connection ends
	srcConn    = "websock.Conn"       // Send and Info
	srcOptions = "adapters.Options"   // the options every adapter honours
	srcEngine  = "adapters.Engine"    // Shutdown, Restart, the upgrade sequence
	srcAccept  = "websock.AcceptFunc" // the AcceptFunc and its Request
	srcObserve = "adapters.Observer"  // the events an Observer is told of
)

// cases is the suite, in the order it runs: one entry per case, with the
// rule it checks and where that rule is written. Names are stable: tools
// and adapters refer to them. The cases of feature HTTP2 follow the
// table, each running one of it again over HTTP/2 (http2.go).
var cases = withHTTP2(table)

// table is every case but those of feature HTTP2.
var table = []Case{
	// Messages and Results (cases_messages.go).
	{Name: "EchoText", Source: srcHandler, Rule: "a text message reaches HandleIn whole, and a pushed frame is written", Description: "echoes a text message", run: echoText},
	{Name: "EchoBinary", Source: srcHandler, Rule: "binary messages keep their type and bytes", Description: "echoes a binary message", run: echoBinary},
	{Name: "EchoEmpty", Source: srcHandler, Rule: "an empty message is a message", Description: "echoes an empty text message", run: echoEmpty},
	{Name: "InitPush", Source: srcHandler, Rule: "frames Init pushes go out before any HandleIn runs", Description: "Init pushes a greeting", run: initPush},
	{Name: "PushSeveral", Source: srcResult, Rule: "Push writes its frames in order", Description: "one HandleIn pushes several frames", run: pushSeveral},
	{Name: "PreparedText", Source: "websock.Prepared", Rule: "a Prepared text message pushed to many connections reaches each peer byte for byte", Description: "pushes 4 prepared text messages, 0 B to 73 KiB, to 12 connections", run: preparedText},
	{Name: "PreparedBinary", Source: "websock.Prepared", Rule: "a Prepared binary message pushed to many connections reaches each peer byte for byte", Description: "pushes 4 prepared binary messages, 0 B to 70 KiB, to 12 connections", run: preparedBinary},
	{Name: "ConnInfo", Source: srcConn, Rule: "Info describes the connection: address, URL, headers, subprotocol, adapter", Description: "checks Conn.Info in Init", run: connInfo},
	{Name: "StopNormal", Source: srcResult, Rule: "Stop(nil) closes 1000 and Terminate sees Normal", Description: "the handler stops with a nil reason", run: stopNormal},
	{Name: "StopError", Source: srcResult, Rule: "Stop(err) closes 1011 and Terminate sees Error wrapping err", Description: "the handler stops with an error", run: stopError},
	{Name: "StopRestart", Source: srcResult, Rule: "Stop(ErrRestart) closes 1012 and Terminate sees Shutdown", Description: "the handler stops for a restart", run: stopRestart},
	{Name: "StopCode", Source: srcResult, Rule: "StopCode closes with the given code and text", Description: "the handler stops with code 4000", run: stopCode},
	{Name: "StopAfterFrames", Source: srcResult, Rule: "StopAfter writes its frames, then closes", Description: "the handler pushes a farewell and stops", run: stopAfterFrames},
	{Name: "StopInvalidCode", Source: srcResult, Rule: "an unsendable close code closes 1011 with ErrInvalidCloseCode", Description: "the handler asks for close code 1005", run: stopInvalidCode},
	{Name: "StopFromInit", Source: srcResult, Rule: "a Result from Init is applied like any other", Description: "Init stops the connection", run: stopFromInit},
	{Name: "StopFromInfo", Source: srcResult, Rule: "a Result from HandleInfo is applied like any other", Description: "HandleInfo stops the connection", run: stopFromInfo},
	{Name: "PanicInInit", Source: srcHandler, Rule: "a panicking callback closes 1011 and Terminate sees a *PanicError", Description: "Init panics", run: panicIn("Init")},
	{Name: "PanicInHandleIn", Source: srcHandler, Rule: "a panicking callback closes 1011 and Terminate sees a *PanicError", Description: "HandleIn panics", run: panicIn("HandleIn")},
	{Name: "PanicInHandleInfo", Source: srcHandler, Rule: "a panicking callback closes 1011 and Terminate sees a *PanicError", Description: "HandleInfo panics", run: panicIn("HandleInfo")},
	{Name: "PanicInTerminate", Source: srcHandler, Rule: "a panic in Terminate is recovered; the server keeps serving", Description: "Terminate panics", run: panicInTerminate},

	// The upgrade (cases_upgrade.go).
	{Name: "UpgradeRefused", Source: srcAccept, Rule: "an *HTTPError from the AcceptFunc is answered with its status, headers and body", Description: "the AcceptFunc refuses with 401", run: upgradeRefused},
	{Name: "UpgradeHookError", Source: srcAccept, Rule: "any other error from the AcceptFunc is answered 500, without its details", Description: "the AcceptFunc fails and panics", run: upgradeHookError},
	{Name: "NotAnUpgrade", Source: "RFC 6455 section 4.2.1", Rule: "a request that is not a valid WebSocket upgrade is refused before the AcceptFunc runs", Description: "a plain GET", run: notAnUpgrade},
	{Name: "AcceptSeesRequest", Source: srcAccept, Rule: "the AcceptFunc sees the request's context and the server's own request", Description: "checks Request.Context, Raw and HTTPRequest", run: acceptSeesRequest},
	{Name: "AbandonOnShutdown", Source: "websock.Abandoner", Rule: "a Handler returned after Shutdown began never starts; it gets Abandon, the client 503", Description: "Shutdown begins while the AcceptFunc runs", run: abandonOnShutdown},
	{Name: "OriginSameOriginByDefault", Source: srcOptions, Rule: "by default only same-origin browsers may connect; others get 403", Description: "a cross-origin request without AllowedOrigins", run: originSameOrigin},
	{Name: "OriginAllowedList", Source: srcOptions, Rule: "AllowedOrigins admits the origins it lists, with wildcards", Description: "listed and unlisted origins", run: originAllowedList},
	{Name: "OriginCheckFunc", Source: srcOptions, Rule: "CheckOrigin replaces AllowedOrigins", Description: "a CheckOrigin that refuses", run: originCheckFunc},
	{Name: "SubprotocolRequired", Source: srcOptions, Rule: "RequireSubprotocol refuses, with 400, a client offering none of Subprotocols", Description: "a client offering an unknown subprotocol", run: subprotocolRequired},
	{Name: "OriginCrossSite", Source: srcOptions, Rule: "null, another port and another scheme are cross-origin: 403; hosts compare case-insensitively; null only when listed", Description: "origins a hijacking page may send", run: originCrossSite},
	{Name: "OriginRepeated", Source: "RFC 6454 section 7.3", Rule: "a request with more than one Origin header is refused with 403, before the AcceptFunc, whatever the origin policy", Description: "good-then-evil, evil-then-good and the same origin twice", run: originRepeated},
	{Name: "HandshakeWrongVersion", Feature: adapters.FeatureFrames, Source: "RFC 6455 section 4.4", Rule: "an unsupported Sec-WebSocket-Version is answered 426 with the version spoken, before the AcceptFunc", Description: "versions 8, 12, 14 and none", run: handshakeWrongVersion},
	{Name: "HandshakeBadKey", Feature: adapters.FeatureFrames, Source: "RFC 6455 section 4.2.1", Rule: "a missing, malformed or repeated Sec-WebSocket-Key is answered 400, before the AcceptFunc", Description: "no key, not base64, 15 and 17 bytes, two keys", run: handshakeBadKey},
	{Name: "HandshakeNotGet", Feature: adapters.FeatureFrames, Source: "RFC 6455 section 4.2.1", Rule: "an upgrade that is not a GET is answered 405 or 400, before the AcceptFunc", Description: "POST, PUT and DELETE upgrades", run: handshakeNotGet},
	{Name: "HandshakeOversizedHeaders", Source: "RFC 6585 section 5", Rule: "an upgrade with oversized headers is refused (431, 400 or closed), before the AcceptFunc", Description: "2 MiB of headers", run: handshakeOversizedHeaders},
	{Name: "HandshakeSlowloris", Feature: adapters.FeatureFrames, Source: "adapters.Engine", Rule: "a request whose headers never end is closed by the server's read-header timeout, before the AcceptFunc", Description: "headers dribbled a byte every 200ms, never ended", run: handshakeSlowloris},
	{Name: "ConnectionCap", Source: srcOptions, Rule: "MaxConnections refuses upgrades over it with 503 and Retry-After, before the AcceptFunc; an ended connection frees its place", Description: "a third connection under a cap of 2", run: connectionCap},
	{Name: "UpgradeRateLimit", Feature: adapters.FeatureFrames, Source: srcOptions, Rule: "UpgradeRate refuses upgrades past its burst with 503 and Retry-After, before the AcceptFunc", Description: "a third upgrade at one an hour with bursts of 2", run: upgradeRateLimit},
	{Name: "SubprotocolOptional", Source: srcOptions, Rule: "the first of Subprotocols the client offers is chosen and answered", Description: "negotiates a subprotocol", run: subprotocolOptional},

	// The closing handshake (cases_close.go).
	{Name: "RemoteClose", Source: "RFC 6455 section 5.5.1", Rule: "the peer's close is echoed and Terminate sees Remote with its code and reason", Description: "the client closes with 4001", run: remoteClose},
	{Name: "RemoteCloseNoStatus", Source: "RFC 6455 section 7.1.5", Rule: "an empty close is answered with an empty close; Terminate sees 1005", Description: "the client closes with no status", run: remoteCloseNoStatus},
	{Name: "RemoteCloseCodes", Source: "RFC 6455 section 7.4", Rule: "every valid close code from the peer is echoed", Description: "closes with each valid code", run: remoteCloseCodes(1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 3000, 3999, 4000, 4999)},
	{Name: "RemoteCloseCode1014", Source: "RFC 6455 section 7.4, IANA close code registry", Rule: "close code 1014 (bad gateway), registered after RFC 6455, is echoed like any valid code", Description: "closes with 1014", run: remoteCloseCodes(1014)},
	{Name: "ProtocolCloseCodeInvalid", Source: "RFC 6455 section 7.4", Rule: "a close code that may not be sent is a protocol error: 1002", Description: "closes with 999, 1004, 1005, 1006, 1015, 1016, 2999 and 5000", run: protocolCloseCodeInvalid},
	{Name: "ProtocolCloseReasonInvalidUTF8", Source: "RFC 6455 section 7.1.6", Rule: "a close reason that is not UTF-8 fails the connection: 1002", Description: "closes with a reason of bad UTF-8", run: violation(frame{fin: true, op: opClose, payload: []byte{0x03, 0xe8, 'o', 'k', 0xff, 0xfe}}, false,
		"RFC 6455 section 7.1.6: a close reason that is not UTF-8 fails the connection (1002 on every adapter)")},
	{Name: "ProtocolCloseOneBytePayload", Source: "RFC 6455 section 5.5.1", Rule: "a close payload of one byte is a protocol error: 1002", Description: "closes with a 1-byte payload", run: protocolError(frame{fin: true, op: opClose, payload: []byte{0x03}}, false)},
	{Name: "ConnectionDropped", Source: srcReason, Rule: "a peer that vanishes ends the connection with ErrConnectionLost, 1006", Description: "the client drops TCP", run: connectionDropped},
	{Name: "ConnectionDroppedMidMessage", Source: srcReason, Rule: "a peer that vanishes mid-message ends the connection with ErrConnectionLost", Description: "the client drops TCP inside a frame", run: connectionDroppedMidMessage},
	{Name: "PushAfterPeerClose", Source: "RFC 6455 section 5.5.1", Rule: "frames the handler pushes once the peer's close arrived are dropped: nothing follows the close echo", Description: "the handler pushes from HandleInfo while the client closes", run: pushAfterPeerClose},

	// Bad input and control frames (cases_input.go).
	{Name: "PingAnswered", Feature: adapters.FeatureFrames, Source: "RFC 6455 section 5.5.2", Rule: "the server answers every ping with a pong of the same payload", Description: "pings and reads the pong", run: pingAnswered},
	{Name: "HandleControlPing", Feature: adapters.FeatureHandleControl, Source: "websock.ControlHandler", Rule: "HandleControl sees each ping, after it was answered", Description: "pings a ControlHandler", run: handleControlPing},
	{Name: "HandleControlPong", Feature: adapters.FeatureHandleControl, Source: "websock.ControlHandler", Rule: "HandleControl sees each unsolicited pong", Description: "sends a pong to a ControlHandler", run: handleControlPong},
	{Name: "Fragmented", Feature: adapters.FeatureFrames, Source: "RFC 6455 section 5.4", Rule: "fragments are reassembled, with control frames between them", Description: "a message in fragments with a ping inside", run: fragmented},
	{Name: "LargeMessage", Source: srcHandler, Rule: "a message of several MiB arrives whole", Description: "echoes 4 MiB", run: largeMessage},
	{Name: "InvalidUTF8", Source: "RFC 6455 section 8.1", Rule: "a text message that is not UTF-8 fails the connection: 1007", Description: "sends bad UTF-8", run: invalidUTF8},
	{Name: "UTF8SplitAcrossFragments", Feature: adapters.FeatureFrames, Source: "RFC 6455 section 8.1", Rule: "UTF-8 is validated over the whole message, not per fragment", Description: "a code point split between fragments", run: utf8Split},
	{Name: "InvalidUTF8Fragmented", Feature: adapters.FeatureFrames, Source: "RFC 6455 section 8.1", Rule: "bad UTF-8 in any fragment fails the connection: 1007", Description: "bad UTF-8 in a later fragment", run: invalidUTF8Fragmented},
	{Name: "MessageTooBig", Source: srcOptions, Rule: "a message over MaxMessageSize closes 1009", Description: "one byte over the limit", run: messageTooBig},
	{Name: "MessageTooBigFragmented", Feature: adapters.FeatureFrames, Source: srcOptions, Rule: "MaxMessageSize counts the whole message, across fragments", Description: "fragments that add up to over the limit", run: messageTooBigFragmented},
	{Name: "ProtocolReservedOpcode", Source: "RFC 6455 section 5.2", Rule: "a reserved data opcode is a protocol error: 1002", Description: "opcode 0x3", run: protocolError(frame{fin: true, op: 0x3, payload: []byte("x")}, false)},
	{Name: "ProtocolReservedControlOpcode", Source: "RFC 6455 section 5.2", Rule: "a reserved control opcode is a protocol error: 1002", Description: "opcode 0xB", run: protocolError(frame{fin: true, op: 0xB}, false)},
	{Name: "ProtocolRSVBits", Feature: adapters.FeatureFrames, Source: "RFC 6455 section 5.2", Rule: "a reserved bit no extension defines is a protocol error: 1002", Description: "RSV2 set", run: protocolError(frame{fin: true, rsv: 0x2, op: opText, payload: []byte("x")}, false)},
	{Name: "ProtocolUnmaskedFrame", Feature: adapters.FeatureFrames, Source: "RFC 6455 section 5.1", Rule: "a client frame that is not masked is a protocol error: 1002", Description: "an unmasked text frame", run: protocolError(frame{fin: true, op: opText, payload: []byte("x")}, true)},
	{Name: "ProtocolControlTooLong", Feature: adapters.FeatureFrames, Source: "RFC 6455 section 5.5", Rule: "a control frame over 125 bytes is a protocol error: 1002", Description: "a 126-byte ping", run: protocolError(frame{fin: true, op: opPing, payload: make([]byte, 126)}, false)},
	{Name: "ProtocolFragmentedControl", Feature: adapters.FeatureFrames, Source: "RFC 6455 section 5.5", Rule: "a fragmented control frame is a protocol error: 1002", Description: "a ping without FIN", run: protocolError(frame{fin: false, op: opPing, payload: []byte("x")}, false)},
	{Name: "ProtocolContinuationWithoutStart", Source: "RFC 6455 section 5.4", Rule: "a continuation frame with no message to continue is a protocol error: 1002", Description: "a lone continuation frame", run: protocolError(frame{fin: true, op: opCont, payload: []byte("x")}, false)},
	{Name: "ProtocolNewMessageInFragment", Feature: adapters.FeatureFrames, Source: "RFC 6455 section 5.4", Rule: "a new message inside a fragmented one is a protocol error: 1002", Description: "a text frame between fragments", run: protocolNewMessageInFragment},
	{Name: "SkipUTF8Validation", Source: srcOptions, Rule: "SkipUTF8Validation passes text through unchecked", Description: "bad UTF-8 with the check off", run: skipUTF8Validation},
	{Name: "PingsInOrder", Feature: adapters.FeatureFrames, Source: "RFC 6455 section 5.5.3", Rule: "every ping is answered with a pong of its payload, in the order the pings came", Description: "100 pings with distinct payloads in one write", run: pingsInOrder},
	{Name: "FragmentedWithPings", Feature: adapters.FeatureFrames, Source: "RFC 6455 section 5.4", Rule: "a message in many fragments is reassembled, and the pings between them are answered", Description: "4 MiB in 64-byte fragments, a ping every 1000 fragments", run: fragmentedWithPings},
	{Name: "InvalidUTF8FailFast", Feature: adapters.FeatureFrames, Source: "RFC 6455 section 8.1, Autobahn 6.4.1", Rule: "invalid UTF-8 fails the connection with 1007 as soon as the fragment holding it arrives", Description: "a valid fragment, then one with a bad code point, then nothing", run: invalidUTF8FailFast},
	{Name: "InvalidUTF8FailFastMidFrame", Feature: adapters.FeatureFrames, Source: "RFC 6455 section 8.1, Autobahn 6.4.3", Rule: "invalid UTF-8 fails the connection with 1007 as soon as the bad octet arrives, mid-frame", Description: "a text frame sent in parts, stopping after the bad octet", run: invalidUTF8FailFastMidFrame},

	// Ordering, the mailbox and isolation (cases_ordering.go).
	{Name: "SendFromGoroutines", Source: srcConn, Rule: "each sender's messages reach HandleInfo in the order it sent them", Description: "100 goroutines send 20 messages each", run: sendFromGoroutines},
	{Name: "SendInterleavedWithHandleIn", Source: srcHandler, Rule: "HandleInfo and HandleIn never run at once", Description: "sends while messages arrive", run: sendInterleaved},
	{Name: "SendAfterEnd", Source: srcConn, Rule: "Send returns ErrClosed once the connection has ended", Description: "sends after Terminate", run: sendAfterEnd},
	{Name: "MailboxFull", Source: srcConn, Rule: "Send returns ErrMailboxFull when MailboxSize messages wait, and never blocks", Description: "fills the mailbox of a busy handler", run: mailboxFull},
	{Name: "MailboxFullCloses", Source: srcOptions, Rule: "with CloseOnMailboxFull a full mailbox closes 1013 with ErrMailboxFull", Description: "overflows the mailbox of a slow consumer", run: mailboxFullCloses},
	{Name: "MailboxFullShedsAtOnce", Source: srcOptions, Rule: "with CloseOnMailboxFull a slow consumer is shed when its mailbox fills, not when the write under way times out", Description: "a client that stops reading under a write timeout of an hour", run: mailboxFullShedsAtOnce},
	{Name: "SlowConsumer", Source: srcOptions, Rule: "a peer that stops reading is ended by WriteTimeout, a Timeout matching ErrWriteTimeout; others are unaffected", Description: "floods a client that never reads", run: slowConsumer},
	{Name: "BadInputIsolated", Source: srcReason, Rule: "bad input ends only its own connection", Description: "a protocol error beside a healthy connection", run: badInputIsolated},
	{Name: "ManyConnections", Source: srcHandler, Rule: "connections are independent actors", Description: "500 concurrent connections echo", run: manyConnections},

	// Cost (cases_cost.go).
	{Name: "IdleCost", Source: "adapters.Adapter", Rule: "an idle connection holds no more goroutines than the adapter declares in IdleGoroutines", Description: "200 idle connections: goroutines and live heap per connection", run: idleCost},

	{Name: "HostilePeerMemory", Feature: adapters.FeatureFrames, Source: srcOptions, Rule: "what a connection holds stays under 2 x MaxMessageSize + 256 KiB whatever the peer sends; with compression, what connections inflated is given back when they end (within 8 MiB)", Description: "20 peers send small messages, unread pings and an unfinished message one byte under the maximum; then, where the adapter compresses, 64 peers one after another send an inflate bomb or a compressed message of one byte under a 4 MiB maximum", run: hostilePeerMemory},

	// Shutdown and timers (cases_shutdown.go).
	{Name: "Shutdown", Source: srcEngine, Rule: "Shutdown closes every connection 1001, Terminate sees Shutdown, and new upgrades are refused", Description: "shuts down with three connections", run: shutdown},
	{Name: "ShutdownDeadline", Source: srcEngine, Rule: "Shutdown keeps its context's deadline, and a stuck peer holds up no other", Description: "shuts down with one peer stuck behind a push", run: shutdownDeadline},
	{Name: "PacedDrain", Source: srcEngine, Rule: "with DrainBatch set, Shutdown closes a batch at a time, DrainInterval apart, and refuses upgrades with 503 and Retry-After", Description: "drains five connections two at a time", run: pacedDrain},
	{Name: "Restart", Source: srcEngine, Rule: "Restart closes 1012 and Terminate sees Shutdown wrapping ErrRestart", Description: "restarts with one connection", run: restart},
	{Name: "IdleTimeout", Feature: adapters.FeatureFrames, Source: srcOptions, Rule: "a connection that receives nothing for IdleTimeout closes 1001 with ErrIdleTimeout", Description: "a silent client", run: idleTimeout},
	{Name: "ActivityKeepsAlive", Feature: adapters.FeatureFrames, Source: srcOptions, Rule: "frames from the peer keep a connection from timing out", Description: "a client that talks, then falls silent", run: activityKeepsAlive},
	{Name: "KeepalivePing", Feature: adapters.FeatureKeepalive, Source: srcOptions, Rule: "a silent peer is pinged every PingInterval; no pong within PongTimeout closes 1001", Description: "answers pings, then stops", run: keepalivePing},

	// Compression (cases_compression.go).
	{Name: "CompressionOffByDefault", Source: srcOptions, Rule: "permessage-deflate is negotiated only when Compression is on", Description: "offers deflate to a default server", run: compressionOffByDefault},
	{Name: "CompressionNegotiated", Feature: adapters.FeatureCompression, Source: "RFC 7692", Rule: "with Compression on, permessage-deflate is negotiated and compressed messages are read", Description: "sends compressed and plain messages", run: compressionNegotiated},
	{Name: "CompressionServerNoContextTakeover", Feature: adapters.FeatureCompression, Source: "RFC 7692 section 7.1.1.1", Rule: "an accepted server_no_context_takeover is in the response, and the server's messages then use no earlier one", Description: "offers server_no_context_takeover", run: compressionServerNoContextTakeover},
	{Name: "CompressionClientNoContextTakeover", Feature: adapters.FeatureCompression, Source: "RFC 7692 section 7.1.1.2", Rule: "client_no_context_takeover is accepted or the offer declined; messages round-trip as agreed", Description: "offers client_no_context_takeover", run: compressionClientNoContextTakeover},
	{Name: "CompressionServerMaxWindowBits", Feature: adapters.FeatureCompression, Source: "RFC 7692 section 7.1.2.1", Rule: "server_max_window_bits=N is answered with a value of at most N, or the offer declined, and the server's messages then refer back at most 2^N bytes", Description: "offers server_max_window_bits from 8 to 15", run: compressionServerMaxWindowBits},
	{Name: "CompressionClientMaxWindowBits", Feature: adapters.FeatureCompression, Source: "RFC 7692 section 7.1.2.2", Rule: "client_max_window_bits, with or without a value, is answered with at most that value or not at all", Description: "offers client_max_window_bits", run: compressionClientMaxWindowBits},
	{Name: "CompressionParameterCombinations", Feature: adapters.FeatureCompression, Source: "RFC 7692 section 7.1", Rule: "a response accepts one valid offer with parameters valid for it", Description: "offers parameters together and several offers", run: compressionParameterCombinations},
	{Name: "CompressionInvalidOffers", Feature: adapters.FeatureCompression, Source: "RFC 7692 section 7.1", Rule: "an offer with an undefined, repeated or invalid parameter is declined, and the upgrade still succeeds", Description: "offers unknown, duplicate and out-of-range parameters", run: compressionInvalidOffers},
	{Name: "CompressionLaterOffer", Feature: adapters.FeatureCompression, Source: "RFC 7692 section 5", Rule: "an offer the server accepts alone is accepted behind a first offer it cannot honour (Autobahn 13.7), not declined with it", Description: "a first offer limiting the server window, or invalid, then plainer ones", run: compressionLaterOffer},
	{Name: "CompressionContextTakeover", Feature: adapters.FeatureCompression, Source: "RFC 7692 section 7.2.3", Rule: "with context takeover allowed both ways, each message is compressed and read with the history the response allows", Description: "echoes 500 compressed messages offering context takeover", run: compressionContextTakeover},
	{Name: "PreparedCompressed", Feature: adapters.FeatureCompression, Source: "websock.Prepared, RFC 7692", Rule: "a Prepared message reaches every peer byte for byte, compressed within the window and context each agreed to, or not at all", Description: "pushes prepared messages to 12 connections offering differing permessage-deflate parameters, and none", run: preparedCompressed},
	{Name: "CompressionBomb", Feature: adapters.FeatureCompression, Source: srcOptions, Rule: "MaxMessageSize counts the bytes after decompression: 1009", Description: "10 KiB that inflate to 10 MiB", run: compressionBomb},

	// Observability (cases_observe.go).
	{Name: "ObserveConnection", Source: srcObserve, Rule: "an accepted upgrade is reported, then the start, then the end with its close codes and its traffic by opcode", Description: "echoes text and binary, then the client closes with 4001", run: observeConnection},
	{Name: "ObserveControl", Feature: adapters.FeatureHandleControl, Source: srcObserve, Rule: "pings and pongs received are counted, and the pong that answers a ping", Description: "a ping and an unsolicited pong", run: observeControl},
	{Name: "ObserveRefusals", Feature: adapters.FeatureFrames, Source: srcObserve, Rule: "each refused upgrade is reported once, with its status and why, and starts nothing", Description: "plain GET, cross origin, AcceptFunc refusal and failure, missing subprotocol", run: observeRefusals},
	{Name: "ObservePanic", Source: srcObserve, Rule: "a recovered panic is reported with its callback and stack, before the end", Description: "HandleIn panics", run: observePanic},
	{Name: "ObserveMailboxFull", Source: srcObserve, Rule: "a full mailbox is reported once, with and without closing the slow consumer, and counted at the end", Description: "ten Sends into a mailbox of 2 while HandleInfo is busy", run: observeMailbox},
	{Name: "ObserveTimeout", Feature: adapters.FeatureFrames, Source: srcObserve, Rule: "an idle timeout is reported before the end", Description: "a silent client with a 100 ms idle timeout", run: observeTimeout},
	{Name: "ObserveKeepaliveTimeout", Feature: adapters.FeatureKeepalive, Source: srcObserve, Rule: "an unanswered keepalive ping is reported before the end", Description: "a client that never answers pings, 100 ms PingInterval and PongTimeout", run: observeKeepaliveTimeout},
	{Name: "ObserveDrain", Source: srcObserve, Rule: "Shutdown reports its progress, from every connection to none, after every connection's end", Description: "shuts down with two connections", run: observeDrain},

	// Options (cases_options.go).
	{Name: "UnsupportedOptionRefused", Source: "adapters.Lacks", Rule: "an option the library lacks is refused with ErrUnsupportedOption, never ignored", Description: "sets each option the adapter declares lacking", run: unsupportedOptionRefused},
}
