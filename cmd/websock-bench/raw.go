//lint:file-ignore SA1019 the raw nhooyr server measures nhooyr.io/websocket itself, deprecated in favour of its successor, which has its own raw server

package main

import (
	"context"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	coderws "github.com/coder/websocket"
	fastws "github.com/fasthttp/websocket"
	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
	gorillaws "github.com/gorilla/websocket"
	"github.com/lesismal/nbio/nbhttp"
	nbws "github.com/lesismal/nbio/nbhttp/websocket"
	"github.com/lxzan/gws"
	"github.com/valyala/fasthttp"
	nhooyrws "nhooyr.io/websocket"
)

// The raw servers: for each built-in adapter, an echo server written
// directly on the library it wraps, the way that library's own README or
// examples write one. They differ from the examples only where the
// benchmark needs it: a message limit of maxMessage (the examples' defaults
// are smaller than the 64 KiB workload on nhooyr and coder), no per-message
// timeouts or rate limits (the adapter runs without timeouts too), and a
// hub for fan-out.

// rawStart starts a raw server on ln and returns a function that stops it.
type rawStart func(ln net.Listener, st *rawState) (stop func(), err error)

// rawServers maps an adapter's name to the raw server of its library.
var rawServers = map[string]rawStart{
	"gorilla": rawGorilla,
	"nhooyr":  rawNhooyr,
	"coder":   rawCoder,
	"gobws":   rawGobwas,
	// gobws-netpoll is compared with the same raw gobwas/ws server.
	"gobws-netpoll": rawGobwas,
	"fasthttp":      rawFastHTTP,
	"gws":           rawGws,
	"nbio":          rawNbio,
}

func rawNames() string {
	var names []string
	for n := range rawServers {
		names = append(names, n)
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

// rawState counts a raw server's live connections and holds its hub, if
// it has one.
type rawState struct {
	live    atomic.Int64
	hub     *rawHub // nil without -hub
	deflate bool    // negotiate permessage-deflate (raw gws only)
}

func (st *rawState) liveConns() int { return int(st.live.Load()) }

// opened counts a new connection; with a hub, it also joins the hub with
// write, and the returned rawConn's lock must guard every write.
func (st *rawState) opened(write func([]byte) error) *rawConn {
	return st.openedWith(write, nil)
}

// openedWith is opened for a hub that also needs lib, the library's
// connection.
func (st *rawState) openedWith(write func([]byte) error, lib any) *rawConn {
	st.live.Add(1)
	if st.hub == nil {
		return nil
	}
	c := &rawConn{write: write, lib: lib}
	st.hub.mu.Lock()
	st.hub.conns[c] = struct{}{}
	st.hub.mu.Unlock()
	return c
}

// closed counts a connection's end and takes it out of the hub.
func (st *rawState) closed(c *rawConn) {
	st.live.Add(-1)
	if c != nil {
		st.hub.mu.Lock()
		delete(st.hub.conns, c)
		st.hub.mu.Unlock()
	}
}

// serveHTTP serves h on ln with net/http, as the builtin adapters do.
func serveHTTP(ln net.Listener, h http.HandlerFunc) (func(), error) {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	return func() { srv.Close() }, nil
}

// rawGorilla is gorilla/websocket's examples/echo: a zero Upgrader (which
// reuses net/http's buffers) and a ReadMessage/WriteMessage loop.
func rawGorilla(ln net.Listener, st *rawState) (func(), error) {
	var up gorillaws.Upgrader
	return serveHTTP(ln, func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		var rc *rawConn
		if st.hub != nil {
			rc = st.opened(func(b []byte) error { return c.WriteMessage(gorillaws.BinaryMessage, b) })
		} else {
			st.opened(nil)
		}
		defer st.closed(rc)
		for {
			mt, msg, err := c.ReadMessage()
			if err != nil {
				return
			}
			rc.lock()
			err = c.WriteMessage(mt, msg)
			rc.unlock()
			if err != nil {
				return
			}
		}
	})
}

// rawNhooyr is nhooyr.io/websocket's simplest echo: Accept, then a
// Read/Write loop, one frame per message, as most users write it. Read
// allocates each message afresh; the adapter reuses one buffer, which is
// where it gains on 64 KiB messages. (The library's examples/echo streams
// each message from Reader to Writer through io.Copy instead: that sends
// two frames per message and measured a third of this loop's round trips
// per second on 1 KiB messages, so it would flatter the adapter.)
func rawNhooyr(ln net.Listener, st *rawState) (func(), error) {
	return serveHTTP(ln, func(w http.ResponseWriter, r *http.Request) {
		c, err := nhooyrws.Accept(w, r, &nhooyrws.AcceptOptions{CompressionMode: nhooyrws.CompressionDisabled})
		if err != nil {
			return
		}
		defer c.CloseNow()
		c.SetReadLimit(maxMessage)
		ctx := context.Background()
		var rc *rawConn
		if st.hub != nil {
			rc = st.opened(func(b []byte) error { return c.Write(ctx, nhooyrws.MessageBinary, b) })
		} else {
			st.opened(nil)
		}
		defer st.closed(rc)
		for {
			typ, msg, err := c.Read(ctx)
			if err != nil {
				return
			}
			rc.lock()
			err = c.Write(ctx, typ, msg)
			rc.unlock()
			if err != nil {
				return
			}
		}
	})
}

// rawCoder is the same Read/Write loop as rawNhooyr, on
// github.com/coder/websocket, nhooyr's continuation.
func rawCoder(ln net.Listener, st *rawState) (func(), error) {
	return serveHTTP(ln, func(w http.ResponseWriter, r *http.Request) {
		c, err := coderws.Accept(w, r, &coderws.AcceptOptions{CompressionMode: coderws.CompressionDisabled})
		if err != nil {
			return
		}
		defer c.CloseNow()
		c.SetReadLimit(maxMessage)
		ctx := context.Background()
		var rc *rawConn
		if st.hub != nil {
			rc = st.opened(func(b []byte) error { return c.Write(ctx, coderws.MessageBinary, b) })
		} else {
			st.opened(nil)
		}
		defer st.closed(rc)
		for {
			typ, msg, err := c.Read(ctx)
			if err != nil {
				return
			}
			rc.lock()
			err = c.Write(ctx, typ, msg)
			rc.unlock()
			if err != nil {
				return
			}
		}
	})
}

// rawGobwas is the first example of gobwas/ws's README: UpgradeHTTP, then
// a goroutine with a wsutil.ReadClientData/WriteServerMessage loop.
func rawGobwas(ln net.Listener, st *rawState) (func(), error) {
	return serveHTTP(ln, func(w http.ResponseWriter, r *http.Request) {
		conn, _, _, err := ws.UpgradeHTTP(r, w)
		if err != nil {
			return
		}
		go func() {
			defer conn.Close()
			var rc *rawConn
			if st.hub != nil {
				rc = st.opened(func(b []byte) error { return wsutil.WriteServerMessage(conn, ws.OpBinary, b) })
			} else {
				st.opened(nil)
			}
			defer st.closed(rc)
			for {
				msg, op, err := wsutil.ReadClientData(conn)
				if err != nil {
					return
				}
				rc.lock()
				err = wsutil.WriteServerMessage(conn, op, msg)
				rc.unlock()
				if err != nil {
					return
				}
			}
		}()
	})
}

// rawFastHTTP is fasthttp/websocket's fasthttp echo example: a zero
// FastHTTPUpgrader on a fasthttp server, with a ReadMessage/WriteMessage
// loop.
func rawFastHTTP(ln net.Listener, st *rawState) (func(), error) {
	var up fastws.FastHTTPUpgrader
	srv := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) {
		up.Upgrade(ctx, func(c *fastws.Conn) {
			defer c.Close()
			var rc *rawConn
			if st.hub != nil {
				rc = st.opened(func(b []byte) error { return c.WriteMessage(fastws.BinaryMessage, b) })
			} else {
				st.opened(nil)
			}
			defer st.closed(rc)
			for {
				mt, msg, err := c.ReadMessage()
				if err != nil {
					return
				}
				rc.lock()
				err = c.WriteMessage(mt, msg)
				rc.unlock()
				if err != nil {
					return
				}
			}
		})
	}}
	go srv.Serve(ln)
	return func() { srv.Shutdown() }, nil
}

// rawGws is gws's examples/echo without compression: an Upgrader, then
// ReadLoop on a goroutine of its own, echoing from the OnMessage callback.
// gws serialises a connection's writes itself, so the echo takes no lock.
func rawGws(ln net.Listener, st *rawState) (func(), error) {
	up := gws.NewUpgrader(&gwsEcho{st: st}, &gws.ServerOption{
		CheckUtf8Enabled:   true,
		Recovery:           gws.Recovery,
		ReadMaxPayloadSize: maxMessage,
		// Without context takeover, as the adapters compress.
		PermessageDeflate: gws.PermessageDeflate{Enabled: st.deflate},
	})
	return serveHTTP(ln, func(w http.ResponseWriter, r *http.Request) {
		socket, err := up.Upgrade(w, r)
		if err != nil {
			return
		}
		go socket.ReadLoop()
	})
}

// gwsEcho is the raw gws server's event handler.
type gwsEcho struct {
	gws.BuiltinEventHandler
	st *rawState
}

func (h *gwsEcho) OnOpen(c *gws.Conn) {
	if h.st.hub != nil {
		c.Session().Store("hub", h.st.openedWith(func(b []byte) error { return c.WriteMessage(gws.OpcodeBinary, b) }, c))
	} else {
		h.st.opened(nil)
	}
}

func (h *gwsEcho) OnClose(c *gws.Conn, _ error) {
	v, _ := c.Session().Load("hub")
	rc, _ := v.(*rawConn) // nil without a hub
	h.st.closed(rc)
}

func (h *gwsEcho) OnPing(c *gws.Conn, payload []byte) { _ = c.WritePong(payload) }

func (h *gwsEcho) OnMessage(c *gws.Conn, m *gws.Message) {
	defer m.Close()
	_ = c.WriteMessage(m.Opcode, m.Bytes())
}

// broadcastGws is gws's own way to push one message to many connections,
// as its README shows: a Broadcaster frames (and compresses) the message
// once, and each connection's write queue writes it.
func (h *rawHub) broadcastGws(data []byte) fanoutReply {
	h.mu.Lock()
	conns := make([]*gws.Conn, 0, len(h.conns))
	for c := range h.conns {
		conns = append(conns, c.lib.(*gws.Conn))
	}
	h.mu.Unlock()
	b := gws.NewBroadcaster(gws.OpcodeBinary, data)
	defer b.Close()
	var r fanoutReply
	for _, c := range conns {
		if b.Broadcast(c) != nil {
			r.Failed++
		} else {
			r.Sent++
		}
	}
	return r
}

// rawNbio is nbio's examples/websocket echo: an Upgrader with OnMessage
// writing each message back, on an nbhttp engine (its pollers read every
// connection; no goroutine per connection).
func rawNbio(ln net.Listener, st *rawState) (func(), error) {
	up := nbws.NewUpgrader()
	up.OnOpen(func(c *nbws.Conn) {
		rc := st.opened(func(b []byte) error { return c.WriteMessage(nbws.BinaryMessage, b) })
		c.SetSession(rc)
	})
	up.OnMessage(func(c *nbws.Conn, mt nbws.MessageType, data []byte) {
		rc, _ := c.Session().(*rawConn)
		rc.lock()
		c.WriteMessage(mt, data)
		rc.unlock()
	})
	up.OnClose(func(c *nbws.Conn, _ error) {
		rc, _ := c.Session().(*rawConn)
		st.closed(rc)
	})
	eng := nbhttp.NewEngine(nbhttp.Config{
		Network: "tcp",
		Addrs:   []string{ln.Addr().String()},
		Listen:  func(string, string) (net.Listener, error) { return ln, nil },
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { up.Upgrade(w, r, nil) }),
	})
	if err := eng.Start(); err != nil {
		return nil, err
	}
	return eng.Stop, nil
}
