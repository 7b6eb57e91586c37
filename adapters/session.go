package adapters

import "net/http"

// Transports that are not an RFC 6455 upgrade, such as HTTP
// long-polling, open a session with an ordinary request, and show that
// their peer is there by polling rather than by sending frames.

// ServeSession opens a session of a transport that is not a WebSocket
// upgrade (long-polling) with the net/http request r: it runs the upgrade
// sequence of [Engine.ServeHTTP] without the checks of the WebSocket
// opening handshake (method, Upgrade headers, key, version), which such a
// request does not have. The connection cap, the upgrade rate limit, the
// origin policy, the subprotocol options (offered in
// Sec-WebSocket-Protocol, as for an upgrade) and the AcceptFunc apply as
// they do to an upgrade; open answers the request in place of the 101
// and returns the session's Transport, which then runs on a goroutine of
// its own until it ends.
func (e *Engine) ServeSession(w http.ResponseWriter, r *http.Request, open HTTPUpgradeFunc) {
	hs := &httpHandshake{w: w, r: r, up: open}
	e.open(hs, hs.Request())
}

// Liveness is implemented by the [Events] the engine gives a Transport.
// A transport whose peer shows that it is there without sending anything
// (a long-poll client that polls) calls Alive when it does, so that
// Options.IdleTimeout counts from then, as it counts from the last frame
// received on a WebSocket connection.
type Liveness interface {
	// Alive records that the peer is there. Unlike the methods of
	// Events, it may be called from any goroutine, at any time.
	Alive()
}

var _ Liveness = (*conn)(nil)

// Alive records that the peer is there. See Liveness.
func (c *conn) Alive() { c.touchRead() }
