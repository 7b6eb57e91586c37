package wire

import (
	"bufio"
	"net"
	"net/http"
)

// ResponseWriter is an http.ResponseWriter whose Hijack wraps the
// hijacked connection in a [Conn]: hand it to a library's upgrade call in
// place of the server's, then take the Conn with [ResponseWriter.Conn].
//
//	rw := &wire.ResponseWriter{ResponseWriter: w}
//	ws, err := upgrader.Upgrade(rw, r, nil)
//	wc := rw.Conn() // nil if the library did not hijack through rw
type ResponseWriter struct {
	http.ResponseWriter
	conn *Conn
}

var _ http.Hijacker = (*ResponseWriter)(nil)

// Hijack hijacks the connection of the ResponseWriter it wraps (through
// http.ResponseController, so a wrapped writer works too), wraps it in a
// Conn and returns the Conn, with a bufio.ReadWriter whose reader and
// writer read and write through it. Bytes the server had read past the
// request are handed to the library first, through the Conn, which
// follows them. The library may write its HTTP response through the Conn:
// the Conn follows frames only after it.
func (w *ResponseWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	nc, brw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	c := newHijacked(nc)
	if n := brw.Reader.Buffered(); n > 0 {
		b, _ := brw.Reader.Peek(n)
		c.held = append([]byte(nil), b...)
	}
	brw.Reader.Reset(c)
	if err := brw.Writer.Flush(); err != nil { // empty: net/http flushes before it hands the connection over
		nc.Close()
		return nil, nil, err
	}
	brw.Writer.Reset(c)
	w.conn = c
	return c, brw, nil
}

// Conn returns the Conn of the hijacked connection, or nil if Hijack was
// not called.
func (w *ResponseWriter) Conn() *Conn { return w.conn }

// Unwrap returns the ResponseWriter w wraps, for http.ResponseController.
func (w *ResponseWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Listener is a net.Listener whose connections are Conns that pass
// everything through untouched until [Conn.Upgraded] is called: serve a
// server that hijacks connections itself on it, and call Upgraded on the
// connection it hands over once it has written the 101 response. The
// connections it serves without upgrading cost a mutex per write.
type Listener struct {
	net.Listener
}

// Accept accepts a connection and wraps it in a Conn, as a net.Conn.
func (l Listener) Accept() (net.Conn, error) {
	nc, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &Conn{nc: nc, inMode: modeHTTP, outMode: modeHTTP}, nil
}
