package websock

// Result is what a callback tells the engine to do next. Make one with
// [OK], [Push], [Stop], [StopCode] or [StopAfter]; the zero Result is OK.
//
// What each Result does, for every callback that returns one:
//
//	OK()                               nothing; keep the connection open
//	Push(frames...)                    write the frames in order; keep open
//	Stop(nil)                          close 1000; Terminate(Normal)
//	Stop(ErrRestart)                   close 1012; Terminate(Shutdown, ErrRestart)
//	Stop(err)                          close 1011; Terminate(Error, err)
//	StopCode(reason, code, text)       close with code and text; Terminate as Stop(reason)
//	StopAfter(reason, code, text, fs)  write fs, then as StopCode
//
// A code of 0 in StopCode or StopAfter means the code Stop would choose. A
// code that may not be sent (see [CloseCode.Sendable]) closes with 1011 and
// Terminate(Error, ErrInvalidCloseCode). Frames are written before the
// engine reads the next message, so they may refer to data the callback
// received. After a Stop the connection is closing: no further HandleIn,
// HandleInfo or HandleControl runs, only Terminate.
type Result struct {
	action action
	one    Frame   // the frame of a single-frame push, kept inline: no allocation
	many   []Frame // the frames of a multi-frame push
	reason error
	code   CloseCode
	text   string
}

type action uint8

const (
	actOK action = iota
	actPush
	actStop
)

// OK returns the Result that does nothing and keeps the connection open.
func OK() Result { return Result{} }

// Push returns a Result that writes frames, in order, and keeps the
// connection open. Pushing one frame does not allocate.
func Push(frames ...Frame) Result {
	switch len(frames) {
	case 0:
		return Result{}
	case 1:
		return Result{action: actPush, one: frames[0]}
	}
	return Result{action: actPush, many: append([]Frame(nil), frames...)}
}

// Stop returns a Result that closes the connection with the code the
// table on [Result] gives for reason.
func Stop(reason error) Result { return Result{action: actStop, reason: reason} }

// StopCode returns a Result that closes the connection with code and text
// (text is cut to 123 bytes, the most a close frame holds); Terminate sees
// reason as with [Stop]. Code 0 means the code Stop would choose.
func StopCode(reason error, code CloseCode, text string) Result {
	return Result{action: actStop, reason: reason, code: code, text: text}
}

// StopAfter returns a Result that writes frames and then closes as
// [StopCode] does.
func StopAfter(reason error, code CloseCode, text string, frames ...Frame) Result {
	r := Result{action: actStop, reason: reason, code: code, text: text}
	switch len(frames) {
	case 0:
	case 1:
		r.one = frames[0]
	default:
		r.many = append([]Frame(nil), frames...)
	}
	return r
}

// IsStop reports whether r closes the connection.
func (r Result) IsStop() bool { return r.action == actStop }

// NumFrames returns how many frames r writes; with [Result.Frame] it lets an
// engine walk the frames without allocating.
func (r Result) NumFrames() int {
	switch {
	case r.many != nil:
		return len(r.many)
	case r.action == actOK, r.action == actStop && r.one.Op == 0:
		return 0
	}
	return 1
}

// Frame returns frame i of r, for 0 <= i < r.NumFrames().
func (r Result) Frame(i int) Frame {
	if r.many != nil {
		return r.many[i]
	}
	return r.one
}

// StopReason returns the reason, close code and text of a Stop result, as
// given to the constructor (code 0 when none was given).
//
//lint:ignore ST1008 reason is the stop's cause, a value and not a failure of StopReason; the results mirror StopCode's parameters
func (r Result) StopReason() (reason error, code CloseCode, text string) {
	return r.reason, r.code, r.text
}
