package websock

import "fmt"

// Kind says, in one word, how a connection ended.
type Kind uint8

// The kinds of [Reason].
const (
	KindNormal   Kind = iota + 1 // the handler stopped with a nil reason
	KindRemote                   // the peer sent a close frame
	KindShutdown                 // the server shut down or restarted, or the handler stopped with ErrRestart
	KindTimeout                  // idle for longer than the idle timeout, no pong to a keepalive ping, or a write past the write timeout (a slow consumer)
	KindError                    // anything else: bad input, handler error or panic, lost connection, failed write
)

func (k Kind) String() string {
	switch k {
	case KindNormal:
		return "normal"
	case KindRemote:
		return "remote"
	case KindShutdown:
		return "shutdown"
	case KindTimeout:
		return "timeout"
	case KindError:
		return "error"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Reason says why a connection ended. The engine passes it to
// [Handler.Terminate].
//
// Every way a connection can end, with the close code sent to the peer and
// the Reason Terminate sees, on every adapter:
//
//	what happened                          close sent           Kind      Err (errors.Is / errors.As)
//	handler returned Stop(nil)             1000                 Normal    nil
//	handler returned Stop(ErrRestart)      1012                 Shutdown  ErrRestart
//	handler returned Stop(err)             1011                 Error     err
//	handler returned StopCode(r, c, text)  c, text              as Stop(r), with Code c
//	handler panicked                       1011                 Error     *PanicError
//	handler gave an unsendable close code  1011                 Error     ErrInvalidCloseCode
//	peer sent close with code c            c echoed (empty      Remote    *CloseError{Code: c}
//	                                       if c is 1005)
//	server Shutdown                        1001                 Shutdown  ErrShutdown
//	server Restart                         1012                 Shutdown  ErrShutdown and ErrRestart
//	idle timeout                           1001                 Timeout   ErrIdleTimeout
//	no pong to a keepalive ping            1001                 Timeout   ErrPongTimeout
//	mailbox full, if set to close          1013                 Error     ErrMailboxFull
//	malformed frame, protocol violation    1002                 Error     ErrProtocol
//	peer's close reason is not UTF-8       1002                 Error     ErrProtocol
//	invalid UTF-8 in a text message        1007                 Error     ErrInvalidUTF8
//	message larger than the maximum        1009                 Error     ErrMessageTooBig
//	connection dropped, no close frame     none (1006)          Error     ErrConnectionLost
//	write to peer failed                   none (1006)          Error     ErrWriteFailed
//	write to peer past the write timeout   none (1006)          Timeout   ErrWriteTimeout and ErrWriteFailed
//	(a slow consumer)
//
// Code is the close code sent to the peer or, for KindRemote, received from
// it; 1006 when no close frame could be sent.
type Reason struct {
	Kind Kind
	Code CloseCode
	Text string // the close reason text sent or received
	Err  error  // the cause; nil only for KindNormal
}

// Error describes the reason, so that a Reason can be logged or returned as
// an error.
func (r Reason) Error() string {
	s := "websock: connection ended (" + r.Kind.String() + ", close " + r.Code.String()
	if r.Text != "" {
		s += fmt.Sprintf(" %q", r.Text)
	}
	s += ")"
	if r.Err != nil {
		s += ": " + r.Err.Error()
	}
	return s
}

// Unwrap returns the cause, so errors.Is(reason, ErrInvalidUTF8) works on a
// Reason directly.
func (r Reason) Unwrap() error { return r.Err }
