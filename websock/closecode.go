package websock

import "strconv"

// CloseCode is a WebSocket close status code (RFC 6455, section 7.4).
type CloseCode uint16

// Close codes used by this module. The table on [Reason] says which one ends
// each kind of connection.
const (
	CloseNormal          CloseCode = 1000 // the purpose of the connection was fulfilled
	CloseGoingAway       CloseCode = 1001 // server shutdown or idle timeout
	CloseProtocolError   CloseCode = 1002 // malformed frame or protocol violation
	CloseUnsupportedData CloseCode = 1003 // a data type the endpoint cannot accept
	CloseNoStatus        CloseCode = 1005 // received close frame carried no code; never sent
	CloseAbnormal        CloseCode = 1006 // connection dropped without a close frame; never sent
	CloseInvalidPayload  CloseCode = 1007 // invalid UTF-8 in a text message
	ClosePolicyViolation CloseCode = 1008 // a policy of the endpoint was violated
	CloseMessageTooBig   CloseCode = 1009 // message larger than the configured maximum
	CloseMandatoryExt    CloseCode = 1010 // the client wanted an extension the server lacks
	CloseInternalError   CloseCode = 1011 // handler error or panic
	CloseServiceRestart  CloseCode = 1012 // the service is restarting
	CloseTryAgainLater   CloseCode = 1013 // temporary overload
	CloseBadGateway      CloseCode = 1014 // a gateway or proxy got an invalid response upstream
	CloseTLSHandshake    CloseCode = 1015 // TLS failure; never sent
)

// String returns the code's number and, for the codes RFC 6455 and IANA
// name, its name, such as "1000 (normal closure)".
func (c CloseCode) String() string {
	name := ""
	switch c {
	case CloseNormal:
		name = "normal closure"
	case CloseGoingAway:
		name = "going away"
	case CloseProtocolError:
		name = "protocol error"
	case CloseUnsupportedData:
		name = "unsupported data"
	case CloseNoStatus:
		name = "no status received"
	case CloseAbnormal:
		name = "abnormal closure"
	case CloseInvalidPayload:
		name = "invalid frame payload data"
	case ClosePolicyViolation:
		name = "policy violation"
	case CloseMessageTooBig:
		name = "message too big"
	case CloseMandatoryExt:
		name = "mandatory extension"
	case CloseInternalError:
		name = "internal error"
	case CloseServiceRestart:
		name = "service restart"
	case CloseTryAgainLater:
		name = "try again later"
	case CloseBadGateway:
		name = "bad gateway"
	case CloseTLSHandshake:
		name = "TLS handshake"
	}
	s := strconv.Itoa(int(c))
	if name != "" {
		s += " (" + name + ")"
	}
	return s
}

// Sendable reports whether c may be sent in a close frame: 1000–1003,
// 1007–1014 and 3000–4999 (RFC 6455, section 7.4). Codes 1005, 1006 and
// 1015 only describe what happened locally and are never sent.
func (c CloseCode) Sendable() bool {
	switch {
	case c >= 1000 && c <= 1003:
		return true
	case c >= 1007 && c <= 1014:
		return true
	case c >= 3000 && c <= 4999:
		return true
	}
	return false
}
