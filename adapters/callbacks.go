package adapters

import (
	"runtime/debug"

	"github.com/websock-go/websock/websock"
)

// The callbacks, each with the panic policy: recover, close 1011, and
// Terminate with a *websock.PanicError.

func (c *conn) callInit() (r websock.Result) {
	defer c.recoverInto("Init", &r)
	return c.h.Init(c)
}

func (c *conn) callIn(f websock.Frame) (r websock.Result) {
	defer c.recoverInto("HandleIn", &r)
	return c.h.HandleIn(f)
}

func (c *conn) callInfo(msg any) (r websock.Result) {
	defer c.recoverInto("HandleInfo", &r)
	return c.h.HandleInfo(msg)
}

func (c *conn) callControl(f websock.Frame) (r websock.Result) {
	defer c.recoverInto("HandleControl", &r)
	return c.ctl.HandleControl(f)
}

func (c *conn) callTerminate(reason websock.Reason) {
	defer func() {
		if v := recover(); v != nil {
			pe := &websock.PanicError{Callback: "Terminate", Value: v, Stack: debug.Stack()}
			if !c.e.observerLogs {
				c.e.opts.Logger.Error("websock: handler panicked in Terminate", "adapter", c.e.ad.Name,
					"remote", c.remoteAddr(), "panic", v, "stack", string(pe.Stack))
			}
			c.observePanic(pe)
		}
	}()
	c.h.Terminate(reason)
}

func (c *conn) recoverInto(callback string, r *websock.Result) {
	v := recover()
	if v == nil {
		return
	}
	pe := &websock.PanicError{Callback: callback, Value: v, Stack: debug.Stack()}
	if !c.e.observerLogs {
		c.e.opts.Logger.Error("websock: handler panicked", "adapter", c.e.ad.Name, "callback", callback,
			"remote", c.remoteAddr(), "panic", v, "stack", string(pe.Stack))
	}
	c.observePanic(pe)
	*r = websock.Stop(pe)
}
