package builtin

import (
	"context"
	"fmt"
	"strings"

	"github.com/websock-go/websock/adapters"
	"github.com/websock-go/websock/adapters/coder"
	fasthttpws "github.com/websock-go/websock/adapters/fasthttp"
	"github.com/websock-go/websock/adapters/gobws"
	"github.com/websock-go/websock/adapters/gorilla"
	"github.com/websock-go/websock/adapters/gws"
	"github.com/websock-go/websock/adapters/nhooyr"
	"github.com/websock-go/websock/websock"
)

// DialFunc is an adapter's Dial.
type DialFunc func(ctx context.Context, url string, h websock.Handler, opts *adapters.DialOptions) (*adapters.Client, error)

// Client is a built-in client adapter: its declaration and its Dial.
type Client struct {
	adapters.Adapter
	Dial DialFunc
}

// clients is every built-in client adapter, sorted by name.
var clients = []Client{
	{coder.ClientAdapter, coder.Dial},
	{fasthttpws.ClientAdapter, fasthttpws.Dial},
	{gobws.ClientAdapter, gobws.Dial},
	{gorilla.ClientAdapter, gorilla.Dial},
	{gws.ClientAdapter, gws.Dial},
	{nhooyr.ClientAdapter, nhooyr.Dial},
}

// Clients returns the built-in client adapters, sorted by name.
func Clients() []Client { return append([]Client(nil), clients...) }

// LookupClient returns the client adapter called name, or an error
// listing the valid names.
func LookupClient(name string) (Client, error) {
	var names []string
	for _, c := range clients {
		if c.Name == name {
			return c, nil
		}
		names = append(names, c.Name)
	}
	return Client{}, fmt.Errorf("unknown client adapter %q; valid client adapters are: %s", name, strings.Join(names, ", "))
}
