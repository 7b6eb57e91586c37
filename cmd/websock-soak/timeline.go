package main

import (
	"fmt"
	"io"
	"math"
	"strings"
	"sync"
	"time"
)

// sample is what the process held at one moment of a soak with every
// adapter at once, after a collection.
type sample struct {
	at   time.Duration // since the soak began
	snap snapshot
	live int // connections live, all adapters together
}

// timeline samples the process every interval until stopped.
type timeline struct {
	mu      sync.Mutex
	samples []sample
	stop    chan struct{}
	done    chan struct{}
}

// startTimeline samples every interval; live counts the live connections.
func startTimeline(interval time.Duration, live func() int) *timeline {
	tl := &timeline{stop: make(chan struct{}), done: make(chan struct{})}
	begin := time.Now()
	go func() {
		defer close(tl.done)
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			s := sample{snap: take(), live: live()}
			s.at = time.Since(begin)
			tl.mu.Lock()
			tl.samples = append(tl.samples, s)
			tl.mu.Unlock()
			select {
			case <-tick.C:
			case <-tl.stop:
				// The run ends with a sample of its end, however long
				// the last one took.
				s := sample{snap: take(), live: live()}
				s.at = time.Since(begin)
				tl.samples = append(tl.samples, s)
				return
			}
		}
	}()
	return tl
}

// end stops sampling and returns the samples.
func (tl *timeline) end() []sample {
	close(tl.stop)
	<-tl.done
	return tl.samples
}

// metric is one series of a timeline, with the rise over the last half of
// a run under which it does not count as a trend.
type metric struct {
	name  string
	unit  string
	value func(s sample) float64
	floor float64 // in unit
}

var metrics = []metric{
	{"RSS", "MiB", func(s sample) float64 { return float64(s.snap.rss) / (1 << 20) }, 16},
	{"live heap after GC", "MiB", func(s sample) float64 { return float64(s.snap.heap) / (1 << 20) }, 4},
	{"goroutines", "", func(s sample) float64 { return float64(s.snap.goroutines) }, 100},
	{"open files", "", func(s sample) float64 { return float64(s.snap.fds) }, 100},
}

// trend fits a least-squares line through m over the samples of the last
// half of the run and returns how much it rises across that half. A
// metric trends up when that rise is over both its floor and 10% of its
// mean over the half: under steady load what the process holds wanders
// around a level; a leak climbs through it.
func trend(ss []sample, m metric) (rise, mean float64, up bool) {
	half := ss[len(ss)/2:]
	if len(half) < 4 {
		return 0, 0, false // too short to tell
	}
	var sx, sy, sxx, sxy float64
	for _, s := range half {
		x, y := s.at.Seconds(), m.value(s)
		sx, sy, sxx, sxy = sx+x, sy+y, sxx+x*x, sxy+x*y
	}
	n := float64(len(half))
	mean = sy / n
	d := n*sxx - sx*sx
	if d == 0 {
		return 0, mean, false
	}
	slope := (n*sxy - sx*sy) / d
	rise = slope * (half[len(half)-1].at - half[0].at).Seconds()
	return rise, mean, rise > m.floor && rise > 0.1*mean
}

// writeCSV writes the samples, one a line.
func writeCSV(w io.Writer, ss []sample) error {
	if _, err := fmt.Fprintln(w, "seconds,rss_bytes,live_heap_bytes,goroutines,open_files,live_connections"); err != nil {
		return err
	}
	for _, s := range ss {
		if _, err := fmt.Fprintf(w, "%.1f,%d,%d,%d,%d,%d\n", s.at.Seconds(), s.snap.rss, s.snap.heap, s.snap.goroutines, s.snap.fds, s.live); err != nil {
			return err
		}
	}
	return nil
}

// writeSVG draws each metric, and the live connections, as a line over
// time, one panel each, with the last half of the run shaded: the part
// the trend test judges.
func writeSVG(w io.Writer, ss []sample, title string) error {
	series := append(append([]metric(nil), metrics...),
		metric{name: "live connections", value: func(s sample) float64 { return float64(s.live) }})
	const width, panelH, left, right, top, gap = 720, 110, 70, 20, 40, 30
	height := top + len(series)*(panelH+gap)
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="11">`+"\n", width, height)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/><text x="%d" y="20" font-size="14">%s</text>`+"\n", left, escape(title))
	if len(ss) == 0 {
		b.WriteString("</svg>\n")
		_, err := io.WriteString(w, b.String())
		return err
	}
	tmax := math.Max(ss[len(ss)-1].at.Seconds(), 1)
	x := func(t float64) float64 { return left + (width-left-right)*t/tmax }
	for i, m := range series {
		y0 := float64(top + i*(panelH+gap) + 10)
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, s := range ss {
			v := m.value(s)
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
		lo = math.Min(lo, 0)
		if hi <= lo {
			hi = lo + 1
		}
		y := func(v float64) float64 { return y0 + panelH - panelH*(v-lo)/(hi-lo) }
		mid := ss[len(ss)/2].at.Seconds()
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%d" fill="#f0f0f0"/>`+"\n", x(mid), y0, x(tmax)-x(mid), panelH)
		fmt.Fprintf(&b, `<rect x="%d" y="%.1f" width="%d" height="%d" fill="none" stroke="#999"/>`+"\n", left, y0, width-left-right, panelH)
		label := m.name
		if m.unit != "" {
			label += " (" + m.unit + ")"
		}
		fmt.Fprintf(&b, `<text x="%d" y="%.1f">%s</text>`+"\n", left, y0-3, escape(label))
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="end">%.4g</text><text x="%d" y="%.1f" text-anchor="end">%.4g</text>`+"\n",
			left-4, y0+10, hi, left-4, y0+panelH, lo)
		var pts []string
		for _, s := range ss {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(s.at.Seconds()), y(m.value(s))))
		}
		fmt.Fprintf(&b, `<polyline fill="none" stroke="#1f77b4" stroke-width="1.5" points="%s"/>`+"\n", strings.Join(pts, " "))
	}
	fmt.Fprintf(&b, `<text x="%d" y="%d">0 s</text><text x="%d" y="%d" text-anchor="end">%.0f s (shaded: the last half, which the trend test judges)</text>`+"\n",
		left, height-8, width-right, height-8, tmax)
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}
