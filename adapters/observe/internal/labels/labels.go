// Package labels maps what an Observer sees to the bounded label values
// the metrics of adapters/observe share.
package labels

import (
	"errors"
	"strconv"

	"github.com/websock-go/websock/websock"
)

// Types are the message types, as label values, by Type's index.
var Types = [5]string{"text", "binary", "ping", "pong", "close"}

// Directions are the directions, as label values, by
// adapters.Direction - 1.
var Directions = [2]string{"in", "out"}

// Type returns the index in Types of op, or -1.
func Type(op websock.Opcode) int {
	switch op {
	case websock.OpText:
		return 0
	case websock.OpBinary:
		return 1
	case websock.OpPing:
		return 2
	case websock.OpPong:
		return 3
	case websock.OpClose:
		return 4
	}
	return -1
}

// Code returns the label value of close code c: its number for the codes
// 1000 to 1015, "3xxx" and "4xxx" for the registered and private ranges,
// "other" for anything else.
func Code(c websock.CloseCode) string {
	switch {
	case c >= 1000 && c <= 1015:
		return strconv.Itoa(int(c))
	case c >= 3000 && c <= 3999:
		return "3xxx"
	case c >= 4000 && c <= 4999:
		return "4xxx"
	}
	return "other"
}

// Callback returns the label value of a callback's name.
func Callback(cb string) string {
	switch cb {
	case "Init", "HandleIn", "HandleInfo", "HandleControl", "Terminate":
		return cb
	}
	return "other"
}

// Timeout returns "pong" for a keepalive timeout, else "idle".
func Timeout(err error) string {
	if errors.Is(err, websock.ErrPongTimeout) {
		return "pong"
	}
	return "idle"
}
