package adapters

import "github.com/websock-go/websock/websock"

// EventTransport is implemented by a Transport that can run without a
// goroutine of its own while the peer is silent: instead of calling Read,
// which reads until the connection ends, the engine asks the Transport to
// tell it when something has arrived (Wait), and then reads what arrived
// (ReadReady) on whichever goroutine told it, which it gives back once
// ReadReady returns. An idle connection then holds no goroutine; its
// timers (idle timeout, keepalive) are the Clock's AfterFunc timers, which
// hold none either.
//
// Every guarantee of Transport holds: callbacks are serial, Terminate is
// called once and last, and no goroutine of the connection outlives it.
// Close may be called from any goroutine at any time; it must make a
// pending Wait's ready run promptly, so that the engine learns the
// connection is closed, and make later Waits fail.
//
// An EventTransport has no Read: the engine never calls it.
type EventTransport interface {
	Writer

	// Wait arranges for ready to be called once, on a goroutine that is
	// not the caller's, when the peer has sent something or the
	// connection was closed; nothing waits meanwhile. When something has
	// arrived already, it may instead return true, without calling ready:
	// the engine then calls ReadReady again at once. It returns an error,
	// and never calls ready, when it cannot wait (the connection was
	// closed): the engine then ends the connection with that error, as if
	// ReadReady had returned it.
	Wait(ready func()) (now bool, err error)

	// ReadReady reads what has arrived and reports it to ev, as
	// [Transport.Read] does: once before the first Wait (for what came
	// with the handshake), then each time ready is called. It returns nil
	// once no frame has started, without waiting for one; the engine then
	// calls Wait again. It may also return nil part way through a frame
	// (or a fragmented message), keeping what it read of it for the next
	// call: the engine calls Wait again all the same, and a Transport that
	// does so waits for nothing. It may instead wait for the rest of a
	// frame that has started, within a deadline of its own. A non-nil
	// error ends reading, as Read's does.
	//
	// ready may run on the library's poller goroutine: ReadReady, and the
	// handler callbacks it leads to, then run there too, and hold it up
	// for as long as HandleIn takes. A library whose poller must not block
	// hands its bytes to an [Inbox] instead (see [PushTransport]).
	ReadReady(ev Events) error
}

// serveEvents runs the connection over an EventTransport: Init on the
// calling goroutine, then each readiness event on the goroutine that
// reports it, until the connection ends; then it closes the Transport,
// calls Terminate and Release, and calls done with the Reason. It returns
// once Init has run and the first Wait is set.
func (c *conn) serveEvents(et EventTransport, done func(websock.Reason)) {
	c.et, c.done = et, done
	c.readyFunc = c.ready
	c.begin()
	c.ready() // what came with the handshake, if anything
}

// ready reads what arrived, then waits for more unless reading ended.
func (c *conn) ready() {
	for {
		if err := c.et.ReadReady(c); err != nil {
			c.endEvents(err)
			return
		}
		now, err := c.et.Wait(c.readyFunc)
		if err != nil {
			c.endEvents(err)
			return
		}
		if !now {
			return
		}
	}
}

// endEvents ends the connection after reading stopped with err.
func (c *conn) endEvents(err error) {
	c.readFailed(err)
	r := c.finish()
	if rel, ok := c.tr.(Releaser); ok {
		rel.Release()
	}
	if c.done != nil {
		c.done(r)
	}
}
