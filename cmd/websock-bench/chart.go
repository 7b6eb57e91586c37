package main

import (
	"bytes"
	"cmp"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
)

// The chart: an SVG image made from the same results as the table, in two
// parts. Above, adapter/raw for every adapter and workload, one bar each,
// around a line at 1.0 (the raw library). Below, what an idle connection
// costs, per adapter, raw and adapter side by side: resident KiB and
// goroutines. It lists whatever adapters the run had.

// Layout, in SVG user units (pixels at 100%).
const (
	chartWidth   = 960
	chartMargin  = 20
	labelWidth   = 120 // the adapter names left of the bars
	barHeight    = 11
	barGap       = 2
	groupGap     = 12
	legendLine   = 16
	ratioAxisMin = 2.0 // the ratio axis reaches at least this far
	ratioAxisCap = 3.0 // and at most this far: a longer bar ends at the edge, with its value
)

// The palette: one colour per series, readable on white and told apart
// without relying on hue alone (the legend names each).
var chartColors = []string{"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"}

// ratioSeries is one workload's bars: adapter/raw, by figure.
type ratioSeries struct {
	label string
	fig   figure
}

// chartSeries returns the table's figures that have a chart label, for
// the workloads the run had, one series each.
func chartSeries(cfg *config) []ratioSeries {
	var out []ratioSeries
	for _, f := range figures(cfg) {
		if f.chart == "" || !slices.Contains(cfg.workloads, f.workload) {
			continue
		}
		better := "lower is better"
		if f.workload == "rtt" || f.workload == "tput" {
			better = "higher is better"
		}
		out = append(out, ratioSeries{label: fmt.Sprintf("%s (%s)", f.chart, better), fig: f})
	}
	return out
}

// ratio returns the adapter/raw value of f for adapter a, or NaN.
func ratio(res *results, a string, f figure) float64 {
	base, mode := cmp.Or(f.base, modeRaw), cmp.Or(f.mode, modeAdapter)
	raw := f.value(res.get(cmp.Or(f.baseAdapter, a), base, f.workload))
	ad := f.value(res.get(a, mode, f.workload))
	if math.IsNaN(raw) || math.IsNaN(ad) || raw == 0 {
		return math.NaN()
	}
	return ad / raw
}

// svg accumulates the elements of the chart.
type svg struct {
	b bytes.Buffer
}

func (s *svg) printf(format string, args ...any) { fmt.Fprintf(&s.b, format, args...) }

// text writes a text element; anchor is start, middle or end.
func (s *svg) text(x, y float64, anchor, class, text string) {
	s.printf(`<text x="%.1f" y="%.1f" text-anchor="%s" class="%s">%s</text>`+"\n", x, y, anchor, class, esc(text))
}

func (s *svg) rect(x, y, w, h float64, fill, title string) {
	s.printf(`<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s</title></rect>`+"\n", x, y, max(w, 0), h, fill, esc(title))
}

func (s *svg) line(x1, y1, x2, y2 float64, class string) {
	s.printf(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" class="%s"/>`+"\n", x1, y1, x2, y2, class)
}

// esc escapes text for XML character data and attribute values.
func esc(text string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(text))
	return b.String()
}

// writeChart writes the chart of a run to w.
func writeChart(w io.Writer, cfg *config, res *results) error {
	var body svg
	y := float64(chartMargin)
	m := res.meta
	body.text(chartMargin, y+14, "start", "title", "websock adapters against the raw libraries they wrap")
	y += 32
	body.text(chartMargin, y, "start", "note", fmt.Sprintf("websock-bench, %s, %d × %s, %s; load average %s at start, %s at end. Medians; docs/performance.md has every figure.",
		m.Date, m.CPUs, m.CPU, m.Go, m.LoadStart, m.LoadEnd))
	y += 24

	series := chartSeries(cfg)
	if len(series) > 0 {
		y = ratioPanel(&body, cfg, res, series, y)
	}
	if slices.Contains(cfg.workloads, "idle") {
		y = idlePanel(&body, cfg, res, y+groupGap)
	}
	height := y + chartMargin

	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>`+"\n")
	fmt.Fprintf(w, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%.0f" viewBox="0 0 %d %.0f" font-family="sans-serif">`+"\n",
		chartWidth, height, chartWidth, height)
	fmt.Fprint(w, `<style>
text { font-size: 12px; fill: #222; }
.title { font-size: 17px; font-weight: bold; }
.heading { font-size: 14px; font-weight: bold; }
.note, .tick, .value { font-size: 11px; fill: #555; }
.axis { stroke: #999; stroke-width: 1; }
.grid { stroke: #ddd; stroke-width: 1; }
.one { stroke: #000; stroke-width: 1.5; stroke-dasharray: 4 3; }
</style>
<rect width="100%" height="100%" fill="#fff"/>
`)
	_, err := w.Write(body.b.Bytes())
	if err == nil {
		_, err = fmt.Fprintln(w, "</svg>")
	}
	return err
}

// ratioPanel draws adapter/raw per adapter and series from y, and returns
// where it ends.
func ratioPanel(s *svg, cfg *config, res *results, series []ratioSeries, y float64) float64 {
	s.text(chartMargin, y+14, "start", "heading", "adapter / raw library per workload, or prepared / the side the legend names (dashed line: 1.0, the baseline)")
	y += 28
	for i, sr := range series {
		s.rect(chartMargin, y-9, 10, 10, chartColors[i%len(chartColors)], sr.label)
		s.text(chartMargin+16, y, "start", "", sr.label)
		y += legendLine
	}
	y += 8

	axisMax := ratioAxisMin
	for _, a := range cfg.adapters {
		for _, sr := range series {
			if r := ratio(res, a, sr.fig); !math.IsNaN(r) {
				axisMax = min(max(axisMax, math.Ceil(r*2)/2), ratioAxisCap)
			}
		}
	}
	x0 := float64(chartMargin + labelWidth)
	width := float64(chartWidth-2*chartMargin-labelWidth) - 60 // room for the value labels
	xOf := func(v float64) float64 { return x0 + width*v/axisMax }

	top := y
	groupH := float64(len(series))*(barHeight+barGap) + groupGap
	bottom := top + float64(len(cfg.adapters))*groupH
	for t := 0.0; t <= axisMax+1e-9; t += 0.5 {
		s.line(xOf(t), top-4, xOf(t), bottom-groupGap+4, "grid")
		s.text(xOf(t), bottom+8, "middle", "tick", fmt.Sprintf("%.1f×", t))
	}
	for gi, a := range cfg.adapters {
		gy := top + float64(gi)*groupH
		s.text(x0-8, gy+float64(len(series))*(barHeight+barGap)/2+4, "end", "heading", a)
		for i, sr := range series {
			by := gy + float64(i)*(barHeight+barGap)
			r := ratio(res, a, sr.fig)
			if math.IsNaN(r) {
				s.text(x0+4, by+barHeight-2, "start", "value", "n/a")
				continue
			}
			s.rect(x0, by, xOf(min(r, axisMax))-x0, barHeight, chartColors[i%len(chartColors)], fmt.Sprintf("%s, %s: %.2f×", a, sr.label, r))
			label := fmt.Sprintf("%.2f", r)
			if r > axisMax {
				label += " →" // beyond the axis
			}
			s.text(xOf(min(r, axisMax))+4, by+barHeight-2, "start", "value", label)
		}
	}
	s.line(x0, top-4, x0, bottom-groupGap+4, "axis")
	s.line(xOf(1), top-8, xOf(1), bottom-groupGap+8, "one")
	s.text(xOf(1), top-10, "middle", "note", "1.0 = baseline")
	return bottom + 20
}

// idleValue is one figure of an idle connection, per connection.
type idleValue struct {
	heading string
	get     func(*clientResult) float64
	format  func(float64) string
}

// idlePanel draws, per adapter, the resident memory and goroutines of an
// idle connection, raw and adapter, from y; it returns where it ends.
func idlePanel(s *svg, cfg *config, res *results, y float64) float64 {
	s.text(chartMargin, y+14, "start", "heading",
		fmt.Sprintf("an idle connection's cost, %s connections open (lower is better)", fmtThousands(float64(cfg.idleConns))))
	y += 28
	sides := []struct{ mode, label, color string }{
		{modeRaw, "raw library", "#9e9e9e"},
		{modeAdapter, "websock adapter", "#1f77b4"},
	}
	x := float64(chartMargin)
	for _, sd := range sides {
		s.rect(x, y-9, 10, 10, sd.color, sd.label)
		s.text(x+16, y, "start", "", sd.label)
		x += 150
	}
	y += legendLine + 8

	values := []idleValue{
		{"resident KiB per connection", func(r *clientResult) float64 { return r.RSSPerConn / 1024 }, func(v float64) string { return fmt.Sprintf("%.1f", v) }},
		{"goroutines per connection", func(r *clientResult) float64 { return r.GoroutinesPerC }, func(v float64) string { return fmt.Sprintf("%.2f", v) }},
	}
	panelW := float64(chartWidth-2*chartMargin) / float64(len(values))
	groupH := float64(len(sides))*(barHeight+barGap) + groupGap
	bottom := y + 18 + float64(len(cfg.adapters))*groupH
	for vi, v := range values {
		px := float64(chartMargin) + float64(vi)*panelW
		x0 := px + labelWidth
		width := panelW - labelWidth - 50
		vmax := 0.0
		for _, a := range cfg.adapters {
			for _, sd := range sides {
				if val := medianOf(v.get)(res.get(a, sd.mode, "idle")); !math.IsNaN(val) {
					vmax = max(vmax, val)
				}
			}
		}
		if vmax == 0 {
			vmax = 1
		}
		s.text(x0, y+4, "start", "heading", v.heading)
		top := y + 18
		for gi, a := range cfg.adapters {
			gy := top + float64(gi)*groupH
			s.text(x0-8, gy+float64(len(sides))*(barHeight+barGap)/2+4, "end", "heading", a)
			for si, sd := range sides {
				by := gy + float64(si)*(barHeight+barGap)
				val := medianOf(v.get)(res.get(a, sd.mode, "idle"))
				if math.IsNaN(val) {
					s.text(x0+4, by+barHeight-2, "start", "value", "n/a")
					continue
				}
				bw := width * val / vmax
				s.rect(x0, by, bw, barHeight, sd.color, fmt.Sprintf("%s, %s: %s %s", a, sd.label, v.format(val), v.heading))
				s.text(x0+bw+4, by+barHeight-2, "start", "value", v.format(val))
			}
		}
		s.line(x0, top-4, x0, bottom-groupGap+4, "axis")
	}
	return bottom
}
