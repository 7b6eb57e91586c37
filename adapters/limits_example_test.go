package adapters_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"

	"github.com/websock-go/websock/adapters"
	"github.com/websock-go/websock/conformance/reference"
	"github.com/websock-go/websock/websock"
)

// MaxConnections and UpgradeRate bound what clients may take of an
// endpoint: an upgrade over either is answered 503 with Retry-After
// before the AcceptFunc runs. (The reference adapter serves in memory;
// every adapter takes the same Options.)
func ExampleOptions_limits() {
	var accepted atomic.Int32
	accept := func(*websock.Request) (websock.Handler, error) {
		accepted.Add(1)
		return websock.HandlerFunc(func(f websock.Frame) websock.Result { return websock.Push(f) }), nil
	}
	ws, err := reference.New(accept, &adapters.Options{
		MaxConnections: 1,  // one connection at a time
		UpgradeRate:    10, // ten upgrades a second on average,
		UpgradeBurst:   5,  // five at once
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer ws.Shutdown(context.Background())
	for range 2 {
		nc, err := ws.Dial(context.Background())
		if err != nil {
			fmt.Println(err)
			return
		}
		defer nc.Close()
		io.WriteString(nc, upgradeRequest)
		resp, err := http.ReadResponse(bufio.NewReader(nc), nil)
		if err != nil {
			fmt.Println(err)
			return
		}
		if ra := resp.Header.Get("Retry-After"); ra != "" {
			fmt.Println(resp.Status, "Retry-After:", ra)
		} else {
			fmt.Println(resp.Status)
		}
	}
	fmt.Println("AcceptFunc ran", accepted.Load(), "time")
	// Output:
	// 101 Switching Protocols
	// 503 Service Unavailable Retry-After: 1
	// AcceptFunc ran 1 time
}
