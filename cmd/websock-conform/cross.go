package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/websock-go/websock/adapters"
	"github.com/websock-go/websock/cmd/internal/builtin"
	"github.com/websock-go/websock/websock"
)

// crossTimeout bounds one pair of the cross matrix.
const crossTimeout = 20 * time.Second

// crossMessages are what each client of the cross matrix sends, and must
// get back: text, binary, an empty message and one of 256 KiB.
var crossMessages = []websock.Frame{
	{Op: websock.OpText, Data: []byte("héllo")},
	{Op: websock.OpBinary, Data: []byte{0, 1, 2, 0xff}},
	{Op: websock.OpText, Data: nil},
	{Op: websock.OpBinary, Data: bytes.Repeat([]byte("0123456789abcdef"), 16<<10)},
}

// crossPair dials the echo server of srv with client c, compressed or
// not, sends crossMessages and checks the echoes. It returns the cell of
// the matrix: "deflate" or "plain" (what was negotiated), or why it
// failed.
func crossPair(srv builtin.Adapter, c builtin.Client, compress bool) (cell string, err error) {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	s, err := srv.Start("127.0.0.1:0", func(*websock.Request) (websock.Handler, error) {
		return websock.HandlerFunc(func(f websock.Frame) websock.Result { return websock.Push(f) }), nil
	}, &adapters.Options{Compression: compress && srv.Lacks.Compression == "", Logger: quiet})
	if err != nil {
		return "", err
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), crossTimeout)
		defer cancel()
		if serr := s.Shutdown(ctx); serr != nil && err == nil {
			err = fmt.Errorf("server shutdown: %w", serr)
		}
	}()

	h := &crossHandler{got: make(chan websock.Frame, len(crossMessages)), init: make(chan *websock.ConnInfo, 1)}
	ctx, cancel := context.WithTimeout(context.Background(), crossTimeout)
	defer cancel()
	cl, err := c.Dial(ctx, "ws://"+s.Addr+"/", h, &adapters.DialOptions{
		Options: adapters.Options{Compression: compress && c.Lacks.Compression == "", Logger: quiet}})
	if err != nil {
		return "", err
	}
	defer func() {
		cl.Close(websock.CloseNormal, "")
		<-cl.Done()
	}()
	var info *websock.ConnInfo
	select {
	case info = <-h.init:
	case <-ctx.Done():
		return "", fmt.Errorf("no Init: %w", ctx.Err())
	}
	for _, m := range crossMessages {
		if err := cl.Send(m); err != nil {
			return "", err
		}
	}
	for i, m := range crossMessages {
		select {
		case f := <-h.got:
			if f.Op != m.Op || !bytes.Equal(f.Data, m.Data) {
				return "", fmt.Errorf("echo %d: got %v of %d bytes, want %v of %d", i, f.Op, len(f.Data), m.Op, len(m.Data))
			}
		case <-ctx.Done():
			return "", fmt.Errorf("echo %d: %w", i, ctx.Err())
		}
	}
	if info.Compressed {
		return "deflate", nil
	}
	return "plain", nil
}

// crossHandler sends what it is given and collects the echoes.
type crossHandler struct {
	got  chan websock.Frame
	init chan *websock.ConnInfo
}

func (h *crossHandler) Init(c websock.Conn) websock.Result {
	h.init <- c.Info()
	return websock.Result{}
}

func (h *crossHandler) HandleIn(f websock.Frame) websock.Result {
	h.got <- websock.Frame{Op: f.Op, Data: bytes.Clone(f.Data)}
	return websock.Result{}
}

func (h *crossHandler) HandleInfo(msg any) websock.Result { return websock.Push(msg.(websock.Frame)) }

func (h *crossHandler) Terminate(websock.Reason) {}

// crossMatrix runs every client adapter against every server adapter,
// without and with compression, two pairs at a time, and renders the
// Markdown table; failed lists what failed.
func crossMatrix(servers []builtin.Adapter, clients []builtin.Client) (table string, failed []string) {
	type key struct {
		s, c     string
		compress bool
	}
	cells := map[key]string{}
	var mu sync.Mutex
	sem := make(chan struct{}, 2)
	var wg sync.WaitGroup
	for _, s := range servers {
		for _, c := range clients {
			for _, compress := range []bool{false, true} {
				wg.Add(1)
				sem <- struct{}{}
				go func() {
					defer wg.Done()
					defer func() { <-sem }()
					cell, err := crossPair(s, c, compress)
					mu.Lock()
					defer mu.Unlock()
					if err != nil {
						cell = "❌"
						failed = append(failed, fmt.Sprintf("client %s → server %s (compression %v): %v", c.Name, s.Name, compress, err))
					}
					cells[key{s.Name, c.Name, compress}] = cell
				}()
			}
		}
	}
	wg.Wait()
	var b strings.Builder
	b.WriteString("| client ↓ server → |")
	for _, s := range servers {
		b.WriteString(" " + s.Name + " |")
	}
	b.WriteString("\n|---|")
	for range servers {
		b.WriteString("---|")
	}
	b.WriteString("\n")
	for _, c := range clients {
		b.WriteString("| " + c.Name + " |")
		for _, s := range servers {
			plain, deflate := cells[key{s.Name, c.Name, false}], cells[key{s.Name, c.Name, true}]
			cell := "✅ " + plain + ", ✅ " + deflate
			if plain == "❌" || deflate == "❌" {
				cell = "❌ " + plain + ", " + deflate
			}
			b.WriteString(" " + cell + " |")
		}
		b.WriteString("\n")
	}
	return b.String(), failed
}
