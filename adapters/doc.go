// Package adapters is the lifecycle engine that every websock adapter
// shares, and the package an adapter author imports to write a new one.
//
// An adapter turns its library's connection into a [Transport] (read a
// message, write a frame, write a close, close) and hands it to an
// [Engine], which does everything else once for all adapters: it runs the
// [websock.Handler] as a serial actor, keeps the mailbox behind
// [websock.Conn.Send], applies Results, serialises writes, recovers
// panics, enforces the idle timeout, performs the closing handshake, maps
// every ending to its close code and [websock.Reason], and shuts every live
// connection down gracefully with [Engine.Shutdown].
//
// Per connection the engine adds no goroutine while the connection is
// idle: callbacks run on the goroutine that reads the connection, and a
// short-lived goroutine delivers mailbox messages only while some are
// waiting.
package adapters
