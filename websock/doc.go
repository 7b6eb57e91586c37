// Package websock defines one WebSocket behaviour that runs unchanged on many
// Go WebSocket servers.
//
// An application implements [Handler] once per connection: Init when the
// connection is live, HandleIn for every complete message, HandleInfo for
// every value sent to the connection from another goroutine through
// [Conn.Send], and Terminate exactly once at the end. Each callback returns a
// [Result] that says what to do next: nothing ([OK]), push frames ([Push]),
// or close the connection ([Stop], [StopCode], [StopAfter]). A message
// many connections get is best made once, as a [Prepared]: the adapters
// then frame it, and compress it, once rather than once per connection.
//
// An adapter (see the adapters directory of this module) runs a Handler on a
// particular library. The callbacks of one connection never run
// concurrently, so handler state needs no locks. How every way a connection
// can end maps to a close code and a [Reason] is defined once, in the table
// on [Reason].
//
// This package holds only the contract: interfaces, small value types and
// errors. It depends on the standard library only.
package websock
