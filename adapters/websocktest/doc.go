// Package websocktest tests a websock.Handler the way net/http/httptest
// tests an http.Handler: the handler runs on the real engine, over an
// in-memory connection, and the test is the client. Every rule of the
// engine holds as in production (serial callbacks, Terminate once and
// last, close codes, UTF-8, limits, Options), because it is the
// production code.
//
//	c := websocktest.New(t, handler, nil)
//	c.SendText("hello")
//	c.ExpectText(t, "hello")
//	c.Close(websock.CloseNormal, "")
//	c.ExpectClose(t, websock.CloseNormal)
//
// [NewServer] and [Server.Dial] test an AcceptFunc too (refusals, with
// their status and body, and the subprotocol chosen), and several
// connections to one endpoint. [Conn.Info] hands a value to HandleInfo
// as websock.Conn.Send does. Time stands still: the engine's timers
// (idle timeout, keepalive, close timeout, drain pauses) fire when the
// test calls Advance. [NewPeer] turns the roles round, to test a client
// handler and its websock.Reconnector against a server the test scripts.
//
// Nothing waits forever: a frame that does not come, or a Terminate that
// does not run, fails the test after [Timeout] with what did happen. When
// the test ends, the package closes what is still open and fails the
// test for any goroutine of the connections (the engine's or the
// handler's) that outlived them. It imports the standard library and
// this module only.
package websocktest
