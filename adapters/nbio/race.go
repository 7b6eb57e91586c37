//go:build race

package nbio

import (
	"sync"

	nbiolib "github.com/lesismal/nbio"
	"github.com/lesismal/nbio/nbhttp"
)

// Under the race detector only: nbio hands a new connection from nbhttp's
// listener goroutine to a poller goroutine through epoll, an edge the
// detector cannot see (see the package doc). The accept side fills the
// connection in and then registers it, calling the engine's OnOpen just
// before epoll hears of it; the poller borrows a read buffer before it
// reads the connection's first bytes. A lock taken on both sides makes
// the edge one the detector sees: what OnOpen's goroutine wrote happens
// before the poller's reads. Builds without -race have none of this.
func annotateHandOff(nb *nbhttp.Engine) {
	var handOff sync.RWMutex
	nb.Engine.OnOpen(func(*nbiolib.Conn) {
		handOff.Lock()
		handOff.Unlock()
	})
	nb.Engine.OnReadBufferAlloc(func(c *nbiolib.Conn) *[]byte {
		handOff.RLock()
		handOff.RUnlock()
		return nb.Engine.PollerBufferPtr(c)
	})
}
