// Package peerlog logs what a WebSocket library says about its peers
// (parse errors that quote the bytes a client sent, refused connections)
// bounded and rate-limited: a hostile client decides what those lines
// contain and how many there are, so each line is cut to MaxLine bytes,
// with bytes that are not printable escaped, and at most Burst lines go
// out at once, then one a second; the lines left out are counted in the
// next one that goes out.
package peerlog

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"
)

const (
	// MaxLine is the most bytes of a library's message that one log
	// line carries; the rest is left out and counted.
	MaxLine = 256
	// Burst is how many lines may go out at once; after that, one a
	// second.
	Burst = 10
)

// Logger is a Printf logger, the shape of the loggers libraries take
// (fasthttp.Logger, log.Logger's Printf), that writes to a slog.Logger at
// Warn with the key "library" naming the library.
type Logger struct {
	l       *slog.Logger
	library string

	mu         sync.Mutex
	tokens     float64
	last       time.Time
	suppressed int
}

// New returns a Logger writing to l for library.
func New(l *slog.Logger, library string) *Logger {
	return &Logger{l: l, library: library, tokens: Burst}
}

// Printf logs the message, bounded, unless the rate is exceeded.
func (p *Logger) Printf(format string, args ...any) {
	p.mu.Lock()
	now := time.Now()
	if !p.last.IsZero() {
		p.tokens = min(Burst, p.tokens+now.Sub(p.last).Seconds())
	}
	p.last = now
	if p.tokens < 1 {
		p.suppressed++
		p.mu.Unlock()
		return
	}
	p.tokens--
	suppressed := p.suppressed
	p.suppressed = 0
	p.mu.Unlock()

	attrs := []slog.Attr{slog.String("library", p.library), slog.String("msg", Bound(fmt.Sprintf(format, args...), MaxLine))}
	if suppressed > 0 {
		attrs = append(attrs, slog.Int("suppressed", suppressed))
	}
	p.l.LogAttrs(context.Background(), slog.LevelWarn, "websock: the library reports", attrs...)
}

// Bound returns s with bytes that are not printable UTF-8 escaped, cut to
// at most max bytes; what was cut is counted at the end.
func Bound(s string, max int) string {
	b := make([]byte, 0, min(len(s), max)+32)
	i := 0
	for i < len(s) && len(b) < max {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n <= 1 || r < 0x20 || r == 0x7f {
			b = append(b, `\x`...)
			b = strconv.AppendUint(b, uint64(s[i])>>4, 16)
			b = strconv.AppendUint(b, uint64(s[i])&15, 16)
			i++
			continue
		}
		b = append(b, s[i:i+n]...)
		i += n
	}
	if i < len(s) {
		b = fmt.Appendf(b, "... (%d more bytes)", len(s)-i)
	}
	return string(b)
}
