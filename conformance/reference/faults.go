package reference

import (
	"github.com/websock-go/websock/adapters"
	"github.com/websock-go/websock/conformance/internal/faults"
	"github.com/websock-go/websock/websock"
)

// The suite's tests of itself break this adapter on purpose through
// package faults, which reaches New with faults through this hook.
func init() {
	faults.New = func(s faults.Set, accept websock.AcceptFunc, opts *adapters.Options) (faults.Handler, error) {
		h, err := New(accept, opts)
		if err != nil {
			return nil, err
		}
		h.faults = s
		return h, nil
	}
}

// wrapped is t as the engine sees it: t itself, unless a fault wraps it.
func (t *transport) wrapped() adapters.Transport {
	if t.faults.Wrap != nil {
		return t.faults.Wrap(t)
	}
	return t
}
