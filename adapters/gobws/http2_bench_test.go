package gobws_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/websock-go/websock/adapters/gobws"
)

// BenchmarkEchoHTTP2 is BenchmarkEcho/plain over an HTTP/2 stream (RFC
// 8441, HTTP/2 without TLS): the same 100-byte text message and its echo
// per iteration, through the same benchRoundTrips. Its client is as lean
// as BenchmarkEcho's, which writes and reads bytes on its TCP connection
// from the benchmark's goroutine: it speaks HTTP/2 frame by frame on the
// connection from that goroutine (h2Stream), and allocates nothing, so
// that ns/op and allocs/op are the server's, as over HTTP/1.1.
// golang.org/x/net/http2's Transport, with an io.Pipe for the request's
// body, added two goroutines of its own and a hand-off to each per
// message, and an allocation per DATA frame read.
func BenchmarkEchoHTTP2(b *testing.B) {
	h, err := gobws.New(echo, nil)
	if err != nil {
		b.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: h, Protocols: new(http.Protocols)}
	srv.Protocols.SetUnencryptedHTTP2(true)
	go srv.Serve(ln)
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		h.Shutdown(ctx)
		srv.Shutdown(ctx)
	})
	nc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer nc.Close()
	s, err := openH2Stream(nc, ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}

	payload := bytes.Repeat([]byte("echo me "), 13)[:100]
	var frame bytes.Buffer
	f := ws.Frame{Header: ws.Header{Fin: true, OpCode: ws.OpText, Length: int64(len(payload))}, Payload: payload}
	ws.WriteFrame(&frame, ws.MaskFrameWith(f, [4]byte{7, 7, 7, 7}))
	benchRoundTrips(b, s, s, frame.Bytes())
}

// h2Window is the flow-control window the client gives the server, for
// the connection and the stream: the largest there is, topped up once
// half of it has been used.
const h2Window = 1<<31 - 1

// h2Stream is the client's end of one WebSocket over HTTP/2, on a
// connection of its own that it speaks frame by frame from the goroutine
// that calls it: Write sends a DATA frame, Read returns what DATA frames
// brought, answering the frames that come between them. It keeps to the
// server's flow control.
type h2Stream struct {
	nc       net.Conn
	fr       *http2.Framer
	id       uint32
	data     []byte // what Read has not returned of the last DATA frame
	connSend int64  // what the server's windows let the client send
	send     int64
	initial  int64 // the server's initial stream window
	recv     int64 // bytes received since the client last topped up its windows
}

// openH2Stream opens a WebSocket with an extended CONNECT request
// (RFC 8441) on nc, a connection to addr that speaks HTTP/2 without TLS.
func openH2Stream(nc net.Conn, addr string) (*h2Stream, error) {
	if _, err := io.WriteString(nc, http2.ClientPreface); err != nil {
		return nil, err
	}
	s := &h2Stream{nc: nc, fr: http2.NewFramer(nc, bufio.NewReader(nc)), id: 1, connSend: 65535, send: 65535, initial: 65535}
	s.fr.SetReuseFrames()
	s.fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	if err := s.fr.WriteSettings(http2.Setting{ID: http2.SettingInitialWindowSize, Val: h2Window}); err != nil {
		return nil, err
	}
	if err := s.fr.WriteWindowUpdate(0, h2Window-65535); err != nil {
		return nil, err
	}
	// The server's SETTINGS come first; they must allow extended CONNECT.
	f, err := s.fr.ReadFrame()
	if err != nil {
		return nil, err
	}
	sf, ok := f.(*http2.SettingsFrame)
	if !ok || sf.IsAck() {
		return nil, fmt.Errorf("the server began with %v, not its SETTINGS", f)
	}
	if v, _ := sf.Value(http2.SettingEnableConnectProtocol); v != 1 {
		return nil, errors.New("the server does not accept extended CONNECT (run with GODEBUG=http2xconnect=1; TestMain does)")
	}
	if err := s.settings(sf); err != nil {
		return nil, err
	}

	var block bytes.Buffer
	enc := hpack.NewEncoder(&block)
	for _, kv := range [][2]string{
		{":method", "CONNECT"}, {":protocol", "websocket"}, {":scheme", "http"},
		{":path", "/"}, {":authority", addr}, {"sec-websocket-version", "13"},
	} {
		enc.WriteField(hpack.HeaderField{Name: kv[0], Value: kv[1]})
	}
	if err := s.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: s.id, BlockFragment: block.Bytes(), EndHeaders: true}); err != nil {
		return nil, err
	}
	for {
		f, err := s.fr.ReadFrame()
		if err != nil {
			return nil, err
		}
		if hf, ok := f.(*http2.MetaHeadersFrame); ok && hf.StreamID == s.id {
			if status := hf.PseudoValue("status"); status != "200" {
				return nil, fmt.Errorf("extended CONNECT answered %s", status)
			}
			return s, nil
		}
		if err := s.handle(f); err != nil {
			return nil, err
		}
	}
}

// Write sends p in one DATA frame, once the server's windows allow it.
func (s *h2Stream) Write(p []byte) (int, error) {
	for int64(len(p)) > min(s.connSend, s.send) {
		if len(s.data) > 0 {
			return 0, errors.New("h2Stream: waiting for the server's window with data unread")
		}
		if err := s.next(); err != nil {
			return 0, err
		}
	}
	if err := s.fr.WriteData(s.id, false, p); err != nil {
		return 0, err
	}
	s.connSend -= int64(len(p))
	s.send -= int64(len(p))
	return len(p), nil
}

// Read returns what the server sent on the stream.
func (s *h2Stream) Read(p []byte) (int, error) {
	for len(s.data) == 0 {
		if err := s.next(); err != nil {
			return 0, err
		}
	}
	n := copy(p, s.data)
	s.data = s.data[n:]
	return n, nil
}

// next reads one frame and handles it; a DATA frame's payload is left in
// s.data, valid until next reads again.
func (s *h2Stream) next() error {
	f, err := s.fr.ReadFrame()
	if err != nil {
		return err
	}
	return s.handle(f)
}

func (s *h2Stream) handle(f http2.Frame) error {
	switch f := f.(type) {
	case *http2.DataFrame:
		if f.StreamID != s.id {
			return fmt.Errorf("DATA on stream %d", f.StreamID)
		}
		if f.StreamEnded() && len(f.Data()) == 0 {
			return io.EOF
		}
		s.data = f.Data()
		if s.recv += int64(f.Length); s.recv > h2Window/2 {
			if err := s.fr.WriteWindowUpdate(0, uint32(s.recv)); err != nil {
				return err
			}
			if err := s.fr.WriteWindowUpdate(s.id, uint32(s.recv)); err != nil {
				return err
			}
			s.recv = 0
		}
	case *http2.WindowUpdateFrame:
		if f.StreamID == 0 {
			s.connSend += int64(f.Increment)
		} else if f.StreamID == s.id {
			s.send += int64(f.Increment)
		}
	case *http2.SettingsFrame:
		if !f.IsAck() {
			return s.settings(f)
		}
	case *http2.PingFrame:
		if !f.IsAck() {
			return s.fr.WritePing(true, f.Data)
		}
	case *http2.RSTStreamFrame:
		return fmt.Errorf("the server reset the stream: %v", f.ErrCode)
	case *http2.GoAwayFrame:
		return fmt.Errorf("the server went away: %v", f.ErrCode)
	}
	return nil
}

// settings takes the server's initial stream window from its SETTINGS,
// and acknowledges them.
func (s *h2Stream) settings(f *http2.SettingsFrame) error {
	if v, ok := f.Value(http2.SettingInitialWindowSize); ok {
		s.send += int64(v) - s.initial
		s.initial = int64(v)
	}
	return s.fr.WriteSettingsAck()
}
