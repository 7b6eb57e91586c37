package adapters

import (
	"io"
	"net"
	"time"
)

// lingerNetConn half-closes nc and reads and discards what the peer still
// sends, until the peer closes its side or d passes. It does not close nc.
func lingerNetConn(nc net.Conn, d time.Duration) {
	type closeWriter interface{ CloseWrite() error }
	cw, ok := nc.(closeWriter)
	if !ok {
		return
	}
	if cw.CloseWrite() != nil {
		return
	}
	if nc.SetReadDeadline(time.Now().Add(d)) != nil {
		return
	}
	io.Copy(io.Discard, nc)
}
