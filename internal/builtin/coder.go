package builtin

import (
	"github.com/websock-go/websock/adapters/coder"
)

func init() {
	register(Adapter{
		Name:  coder.Name,
		Start: netHTTP(coder.New),
	})
}
