package builtin

import "github.com/websock-go/websock/adapters/gobws"

func init() {
	register(Adapter{Name: gobws.Name, Start: netHTTP(gobws.New)})
}
