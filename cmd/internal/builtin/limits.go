package builtin

import (
	"flag"
	"fmt"
	"strings"

	"github.com/websock-go/websock/adapters"
)

// LimitFlags are the flags websock-echo and the demo share for what
// clients may take of a server: the origins a browser may connect from,
// the connection cap and the upgrade rate. Their defaults are the
// library's: same-origin browsers only, the connection cap the process's
// descriptor limit allows (adapters.Options.MaxConnections), no rate
// limit.
type LimitFlags struct {
	Origins        []string // from -origin; none: the library's same-origin policy
	MaxConnections int
	UpgradeRate    float64
	UpgradeBurst   int
	origin         string
}

// Register adds the flags to fs.
func (l *LimitFlags) Register(fs *flag.FlagSet) {
	fs.StringVar(&l.origin, "origin", "", `comma-separated origins a browser may connect from, in place of the same-origin default (e.g. https://example.com,https://*.example.com; "*" admits any origin); empty: same origin only`)
	fs.IntVar(&l.MaxConnections, "max-connections", 0, "most connections served at once, per adapter; over it an upgrade gets 503 (0: the default cap the descriptor limit allows, see adapters.Options.MaxConnections; -1: no cap)")
	fs.Float64Var(&l.UpgradeRate, "upgrade-rate", 0, "most new connections accepted a second, per adapter; past it an upgrade gets 503 (0: no limit)")
	fs.IntVar(&l.UpgradeBurst, "upgrade-burst", 0, "how many upgrades may come at once under -upgrade-rate (0: the rate rounded up)")
}

// Check reports a flag value that makes no sense, and splits -origin.
func (l *LimitFlags) Check() error {
	switch {
	case l.MaxConnections < -1:
		return fmt.Errorf("-max-connections must be -1 (no cap), 0 (the default cap) or more, got %d", l.MaxConnections)
	case l.UpgradeRate < 0 || l.UpgradeRate != l.UpgradeRate:
		return fmt.Errorf("-upgrade-rate must be 0 (no limit) or more, got %v", l.UpgradeRate)
	case l.UpgradeBurst < 0:
		return fmt.Errorf("-upgrade-burst must be 0 or more, got %d", l.UpgradeBurst)
	case l.UpgradeBurst > 0 && l.UpgradeRate == 0:
		return fmt.Errorf("-upgrade-burst %d needs -upgrade-rate", l.UpgradeBurst)
	}
	l.Origins = nil
	for _, o := range strings.Split(l.origin, ",") {
		if o = strings.TrimSpace(o); o != "" {
			l.Origins = append(l.Origins, o)
		}
	}
	return nil
}

// Apply sets the limits in o.
func (l *LimitFlags) Apply(o *adapters.Options) {
	o.AllowedOrigins = l.Origins
	o.MaxConnections = l.MaxConnections
	o.UpgradeRate = l.UpgradeRate
	o.UpgradeBurst = l.UpgradeBurst
}
