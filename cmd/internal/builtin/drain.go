package builtin

import (
	"context"
	"flag"
	"fmt"
	"time"
)

// DrainFlags are the flags that say how a command stops its servers on
// SIGTERM or Ctrl-C: all at once or in paced batches (see
// adapters.Options.DrainBatch), with close 1001 or 1012.
type DrainFlags struct {
	Batch    int
	Interval time.Duration
	Timeout  time.Duration
	Restart  bool
}

// Register adds the flags to fs.
func (d *DrainFlags) Register(fs *flag.FlagSet) {
	fs.IntVar(&d.Batch, "drain-batch", 0, "on SIGTERM, close connections this many at a time (0: all at once)")
	fs.DurationVar(&d.Interval, "drain-interval", 2*time.Second, "pause between two batches of -drain-batch")
	fs.DurationVar(&d.Timeout, "drain-timeout", 30*time.Second, "the whole drain's deadline, after which what remains is cut off")
	fs.BoolVar(&d.Restart, "restart", false, "on SIGTERM, close with 1012 (service restart: clients reconnect at once) instead of 1001 (going away)")
}

// Check reports a flag value that makes no sense.
func (d *DrainFlags) Check() error {
	switch {
	case d.Batch < 0:
		return fmt.Errorf("-drain-batch must be 0 or more, got %d", d.Batch)
	case d.Interval <= 0:
		return fmt.Errorf("-drain-interval must be positive, got %v", d.Interval)
	case d.Timeout <= 0:
		return fmt.Errorf("-drain-timeout must be positive, got %v", d.Timeout)
	}
	return nil
}

// Describe says what the drain of live connections will do.
func (d *DrainFlags) Describe(live int) string {
	code := "1001 (going away)"
	if d.Restart {
		code = "1012 (service restart)"
	}
	if d.Batch <= 0 || d.Batch >= live {
		return fmt.Sprintf("closing %d connections with %s", live, code)
	}
	return fmt.Sprintf("draining %d connections with %s, %d every %v, within %v", live, code, d.Batch, d.Interval, d.Timeout)
}

// Stop returns srv's Restart when -restart was given, else its Shutdown.
func (d *DrainFlags) Stop(srv *Server) func(context.Context) error {
	if d.Restart {
		return srv.Restart
	}
	return srv.Shutdown
}
