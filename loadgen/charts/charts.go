// Package charts draws the small charts of the ftpload HTML report as
// hand-written SVG: XY plots with lines, steps, bars and thick spans, shaded
// bands, vertical event markers and labelled points, linear or log axes.
//
// The output depends only on the input (no clock, no map order, no fonts
// fetched): the same chart gives the same bytes, so it can be golden-tested
// and diffed. Text uses the generic "sans-serif" family so the page renders
// offline with whatever the browser has.
package charts

import (
	"fmt"
	"html"
	"io"
	"math"
	"strconv"
	"strings"
)

// Palette is the colour of series i when a Series has no Color: distinct
// for colour-blind readers (Okabe–Ito, then greys).
var Palette = []string{"#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#f0e442", "#000000", "#999999"}

// Point is one data point.
type Point struct{ X, Y float64 }

// Kind is how a series is drawn.
type Kind int

const (
	// Line joins the points.
	Line Kind = iota
	// Step holds each value until the next point's X.
	Step
	// Bars draws a bar from the axis (or the series' Base) to each point,
	// BarWidth wide in X units.
	Bars
	// Span draws each pair of points (0-1, 2-3, …) as a thick segment.
	Span
)

// Series is one named set of points; an unnamed series stays out of the
// legend.
type Series struct {
	Name   string
	Points []Point
	Kind   Kind
	Color  string // default: Palette by index
	Dash   bool   // dashed line (e.g. the second run of a comparison)
	Width  float64
	Dots   bool    // mark every point
	Bar    float64 // Bars: bar width in X units (default: smallest X gap, or 1)
}

// Marker is a vertical line at X with a label (an event: exhaustion, the
// first failure, a release).
type Marker struct {
	X     float64
	Label string
	Color string
}

// Note is a labelled point (e.g. "pool exhausted: 20 held").
type Note struct {
	X, Y  float64
	Label string
	Color string
}

// Band shades X0..X1 across the plot (e.g. the declared passive range).
// A band is at least one pixel wide, so a narrow one stays visible.
type Band struct {
	X0, X1  float64
	Label   string
	Color   string
	Opacity float64 // fill opacity; default 0.12
}

// Tick is one labelled axis position.
type Tick struct {
	V     float64
	Label string
}

// Axis describes one axis. With Min == Max the range comes from the data.
type Axis struct {
	Label    string
	Min, Max float64
	Log      bool                 // log10 scale (values <= 0 are clamped to Min)
	Ticks    []Tick               // fixed ticks; default: "nice" ticks
	Format   func(float64) string // tick label; default: shortest decimal
	ZeroBase bool                 // include 0 in the automatic range
}

// Chart is an XY chart.
type Chart struct {
	ID       string // the svg element's id
	Title    string
	Width    int // default 640
	Height   int // default 260 (plus the legend)
	X, Y     Axis
	Series   []Series
	Markers  []Marker
	Notes    []Note
	Bands    []Band
	Empty    string // text shown when no series has points (default "no data")
	Subtitle string // a line under the title
}

const (
	padLeft   = 60
	padRight  = 18
	padTop    = 34
	padBottom = 38
	legendRow = 18
	charW     = 6.2 // rough width of one 11px sans-serif character
)

// SVG renders the chart.
func (c *Chart) SVG() string {
	var b strings.Builder
	c.WriteSVG(&b)
	return b.String()
}

// WriteSVG renders the chart to w.
func (c *Chart) WriteSVG(w io.Writer) error {
	W, H := c.size()
	top := c.plotTop()
	rows := legendRows(c.legendItems(), float64(W-padLeft-padRight))
	totalH := H + len(rows)*legendRow
	p := &plot{c: c, x0: float64(padLeft), y0: top, pw: float64(W - padLeft - padRight), ph: float64(H) - top - padBottom}
	p.header(W, totalH)
	if !c.hasPoints() {
		p.empty()
	} else {
		p.xs = c.scale(c.X, true, p.x0, p.x0+p.pw)
		p.ys = c.scale(c.Y, false, p.y0+p.ph, p.y0)
		p.bands()
		p.grid()
		p.frame()
		p.data()
		p.markers()
		p.notes()
		p.legend(rows, H)
	}
	p.b.WriteString("</svg>\n")
	_, err := io.WriteString(w, p.b.String())
	return err
}

// size is the chart's width and height without the legend, defaults applied.
func (c *Chart) size() (W, H int) {
	W, H = c.Width, c.Height
	if W == 0 {
		W = 640
	}
	if H == 0 {
		H = 260
	}
	return W, H
}

// plotTop is the y of the plot area's top edge: lower with a subtitle.
func (c *Chart) plotTop() float64 {
	top := float64(padTop)
	if c.Subtitle != "" {
		top += 14
	}
	return top
}

// hasPoints reports whether any series has a point to draw.
func (c *Chart) hasPoints() bool {
	has := false
	for _, s := range c.Series {
		has = has || len(s.Points) > 0
	}
	return has
}

// plot is the drawing state of one WriteSVG call: the chart, the plot
// area in pixels, the axes' scales and the SVG written so far.
type plot struct {
	c      *Chart
	b      strings.Builder
	x0, y0 float64 // top-left corner of the plot area
	pw, ph float64 // width and height of the plot area
	xs, ys scale
}

// header writes the svg element, its title, background, title and subtitle.
func (p *plot) header(W, totalH int) {
	b, c := &p.b, p.c
	fmt.Fprintf(b, `<svg xmlns="http://www.w3.org/2000/svg" class="chart"`)
	if c.ID != "" {
		fmt.Fprintf(b, ` id="%s"`, esc(c.ID))
	}
	fmt.Fprintf(b, ` width="%d" height="%d" viewBox="0 0 %d %d" role="img" font-family="sans-serif" font-size="11">`, W, totalH, W, totalH)
	fmt.Fprintf(b, "\n<title>%s</title>\n", esc(c.Title))
	fmt.Fprintf(b, `<rect width="%d" height="%d" fill="#fff"/>`+"\n", W, totalH)
	fmt.Fprintf(b, `<text x="%d" y="18" font-size="13" font-weight="600" fill="#1b1f24">%s</text>`+"\n", padLeft, esc(c.Title))
	if c.Subtitle != "" {
		fmt.Fprintf(b, `<text x="%d" y="32" fill="#57606a">%s</text>`+"\n", padLeft, esc(c.Subtitle))
	}
}

// empty writes the grey plot area with the chart's Empty text.
func (p *plot) empty() {
	msg := p.c.Empty
	if msg == "" {
		msg = "no data"
	}
	fmt.Fprintf(&p.b, `<rect x="%s" y="%s" width="%s" height="%s" fill="#f6f8fa" stroke="#d0d7de"/>`+"\n", f(p.x0), f(p.y0), f(p.pw), f(p.ph))
	fmt.Fprintf(&p.b, `<text class="empty" x="%s" y="%s" text-anchor="middle" fill="#57606a">%s</text>`+"\n", f(p.x0+p.pw/2), f(p.y0+p.ph/2), esc(msg))
}

// bands shades each band across the plot, at least a pixel wide, with its label.
func (p *plot) bands() {
	for i, bd := range p.c.Bands {
		col := bd.Color
		if col == "" {
			col = "#2da44e"
		}
		op := bd.Opacity
		if op <= 0 {
			op = 0.12
		}
		a, z := clamp(p.xs.px(bd.X0), p.x0, p.x0+p.pw), clamp(p.xs.px(bd.X1), p.x0, p.x0+p.pw)
		fmt.Fprintf(&p.b, `<rect class="band" x="%s" y="%s" width="%s" height="%s" fill="%s" fill-opacity="%s"/>`+"\n", f(a), f(p.y0), f(math.Max(z-a, 1)), f(p.ph), col, f(op))
		if bd.Label != "" {
			fmt.Fprintf(&p.b, `<text x="%s" y="%s" fill="%s" font-size="10">%s</text>`+"\n", f(a+3), f(p.y0+11+float64(i)*12), col, esc(bd.Label))
		}
	}
}

// grid writes the grid lines and tick labels of both axes.
func (p *plot) grid() {
	for _, t := range p.ys.ticks {
		y := p.ys.px(t.V)
		fmt.Fprintf(&p.b, `<line x1="%s" x2="%s" y1="%s" y2="%s" stroke="#eaeef2"/>`, f(p.x0), f(p.x0+p.pw), f(y), f(y))
		fmt.Fprintf(&p.b, `<text x="%s" y="%s" text-anchor="end" fill="#57606a">%s</text>`+"\n", f(p.x0-5), f(y+4), esc(t.Label))
	}
	for _, t := range p.xs.ticks {
		x := p.xs.px(t.V)
		fmt.Fprintf(&p.b, `<line x1="%s" x2="%s" y1="%s" y2="%s" stroke="#eaeef2"/>`, f(x), f(x), f(p.y0), f(p.y0+p.ph))
		fmt.Fprintf(&p.b, `<text x="%s" y="%s" text-anchor="middle" fill="#57606a">%s</text>`+"\n", f(x), f(p.y0+p.ph+14), esc(t.Label))
	}
}

// frame writes the plot's border and the axis labels.
func (p *plot) frame() {
	x0, y0, pw, ph := p.x0, p.y0, p.pw, p.ph
	fmt.Fprintf(&p.b, `<rect x="%s" y="%s" width="%s" height="%s" fill="none" stroke="#8c959f"/>`+"\n", f(x0), f(y0), f(pw), f(ph))
	if p.c.X.Label != "" {
		fmt.Fprintf(&p.b, `<text x="%s" y="%s" text-anchor="middle" fill="#1b1f24">%s</text>`+"\n", f(x0+pw/2), f(y0+ph+30), esc(p.c.X.Label))
	}
	if p.c.Y.Label != "" {
		fmt.Fprintf(&p.b, `<text transform="translate(14 %s) rotate(-90)" text-anchor="middle" fill="#1b1f24">%s</text>`+"\n", f(y0+ph/2), esc(p.c.Y.Label))
	}
}

// data writes every series, clipped to the plot area.
func (p *plot) data() {
	clip := "clip"
	if p.c.ID != "" {
		clip = "clip-" + p.c.ID
	}
	fmt.Fprintf(&p.b, `<clipPath id="%s"><rect x="%s" y="%s" width="%s" height="%s"/></clipPath>`+"\n", esc(clip), f(p.x0), f(p.y0-1), f(p.pw), f(p.ph+2))
	fmt.Fprintf(&p.b, `<g clip-path="url(#%s)">`+"\n", esc(clip))
	for i, s := range p.c.Series {
		col := color(s.Color, i)
		switch s.Kind {
		case Bars:
			p.bars(s, col)
		case Span:
			p.spans(s, col)
		default:
			p.line(s, col)
		}
	}
	p.b.WriteString("</g>\n")
}

// bars draws a Bars series: a bar from the base of the Y axis to each point.
func (p *plot) bars(s Series, col string) {
	bw := s.Bar
	if bw <= 0 {
		bw = minGap(s.Points)
	}
	for _, pt := range s.Points {
		l, r := p.xs.px(pt.X-bw/2), p.xs.px(pt.X+bw/2)
		if r-l > 2 {
			l, r = l+0.5, r-0.5
		}
		yTop, yBase := p.ys.px(pt.Y), p.ys.px(p.ys.base())
		if yTop > yBase {
			yTop, yBase = yBase, yTop
		}
		fmt.Fprintf(&p.b, `<rect class="bar" x="%s" y="%s" width="%s" height="%s" fill="%s"/>`, f(l), f(yTop), f(math.Max(r-l, 1)), f(math.Max(yBase-yTop, 0.5)), col)
	}
	p.b.WriteString("\n")
}

// spans draws a Span series: each pair of points as a thick segment.
func (p *plot) spans(s Series, col string) {
	width := s.Width
	if width == 0 {
		width = 8
	}
	xs, ys := p.xs, p.ys
	for j := 0; j+1 < len(s.Points); j += 2 {
		a, z := s.Points[j], s.Points[j+1]
		fmt.Fprintf(&p.b, `<line class="span" x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s" stroke-width="%s" stroke-linecap="butt"/>`+"\n",
			f(xs.px(a.X)), f(ys.px(a.Y)), f(math.Max(xs.px(z.X), xs.px(a.X)+2)), f(ys.px(z.Y)), col, f(width))
	}
}

// line draws a Line or Step series as a polyline, with dots when asked
// for or when it has a single point.
func (p *plot) line(s Series, col string) {
	width := s.Width
	if width == 0 {
		width = 1.8
	}
	xs, ys := p.xs, p.ys
	var pts []string
	for j, pt := range s.Points {
		if s.Kind == Step && j > 0 {
			pts = append(pts, f(xs.px(pt.X))+","+f(ys.px(s.Points[j-1].Y)))
		}
		pts = append(pts, f(xs.px(pt.X))+","+f(ys.px(pt.Y)))
	}
	dash := ""
	if s.Dash {
		dash = ` stroke-dasharray="6 3"`
	}
	fmt.Fprintf(&p.b, `<polyline class="series" fill="none" stroke="%s" stroke-width="%s" stroke-linejoin="round"%s points="%s"/>`+"\n", col, f(width), dash, strings.Join(pts, " "))
	if s.Dots || len(s.Points) == 1 {
		for _, pt := range s.Points {
			fmt.Fprintf(&p.b, `<circle cx="%s" cy="%s" r="2.5" fill="%s"/>`, f(xs.px(pt.X)), f(ys.px(pt.Y)), col)
		}
		p.b.WriteString("\n")
	}
}

// markers draws the vertical event lines inside the plot with their
// labels, flipped to the left of the line when they would overflow.
func (p *plot) markers() {
	x0, y0, pw, ph := p.x0, p.y0, p.pw, p.ph
	for i, m := range p.c.Markers {
		col := m.Color
		if col == "" {
			col = "#cf222e"
		}
		x := p.xs.px(m.X)
		if x < x0-0.5 || x > x0+pw+0.5 {
			continue
		}
		fmt.Fprintf(&p.b, `<line class="marker" x1="%s" x2="%s" y1="%s" y2="%s" stroke="%s" stroke-width="1.2" stroke-dasharray="4 3"/>`, f(x), f(x), f(y0), f(y0+ph), col)
		anchor, tx := "start", x+3
		if w := float64(len([]rune(m.Label))) * charW; tx+w > x0+pw {
			anchor, tx = "end", x-3
		}
		fmt.Fprintf(&p.b, `<text x="%s" y="%s" text-anchor="%s" fill="%s">%s</text>`+"\n", f(tx), f(y0+12+float64(i%4)*13), anchor, col, esc(m.Label))
	}
}

// notes draws the labelled points, each label placed where it fits.
func (p *plot) notes() {
	x0, y0, pw := p.x0, p.y0, p.pw
	for _, n := range p.c.Notes {
		col := n.Color
		if col == "" {
			col = "#1b1f24"
		}
		x, y := p.xs.px(n.X), p.ys.px(n.Y)
		fmt.Fprintf(&p.b, `<circle class="note" cx="%s" cy="%s" r="4" fill="#fff" stroke="%s" stroke-width="2"/>`, f(x), f(y), col)
		anchor, tx := "start", x+7
		if w := float64(len([]rune(n.Label))) * charW; tx+w > x0+pw || (x > x0+pw/2 && x-7-w >= x0) {
			anchor, tx = "end", x-7
		}
		ty := y - 7
		if ty < y0+10 {
			ty = y + 15
		}
		fmt.Fprintf(&p.b, `<text x="%s" y="%s" text-anchor="%s" fill="%s" font-weight="600">%s</text>`+"\n", f(tx), f(ty), anchor, col, esc(n.Label))
	}
}

// legend writes the legend rows under the chart, H being the chart's
// height without them.
func (p *plot) legend(rows [][]legendItem, H int) {
	ly := float64(H) + 2
	for _, row := range rows {
		x := p.x0
		for _, it := range row {
			sw := `<line x1="%s" x2="%s" y1="%s" y2="%s" stroke="%s" stroke-width="3"%s/>`
			dash := ""
			if it.dash {
				dash = ` stroke-dasharray="5 2"`
			}
			fmt.Fprintf(&p.b, sw, f(x), f(x+18), f(ly-4), f(ly-4), it.color, dash)
			fmt.Fprintf(&p.b, `<text class="legend" x="%s" y="%s" fill="#1b1f24">%s</text>`, f(x+22), f(ly), esc(it.name))
			x += itemWidth(it)
		}
		p.b.WriteString("\n")
		ly += legendRow
	}
}

type legendItem struct {
	name, color string
	dash        bool
}

func (c *Chart) legendItems() []legendItem {
	var out []legendItem
	for i, s := range c.Series {
		if s.Name == "" {
			continue
		}
		out = append(out, legendItem{s.Name, color(s.Color, i), s.Dash})
	}
	return out
}

func itemWidth(it legendItem) float64 { return 22 + float64(len([]rune(it.name)))*charW + 16 }

func legendRows(items []legendItem, width float64) [][]legendItem {
	var rows [][]legendItem
	var cur []legendItem
	used := 0.0
	for _, it := range items {
		w := itemWidth(it)
		if len(cur) > 0 && used+w > width {
			rows = append(rows, cur)
			cur, used = nil, 0
		}
		cur = append(cur, it)
		used += w
	}
	if len(cur) > 0 {
		rows = append(rows, cur)
	}
	return rows
}

func color(c string, i int) string {
	if c != "" {
		return c
	}
	return Palette[i%len(Palette)]
}

// scale maps data values to pixels along one axis.
type scale struct {
	lo, hi   float64 // data range (log10 of it on a log axis)
	p0, p1   float64 // pixel range
	log      bool
	ticks    []Tick
	axisZero float64
}

func (s scale) tr(v float64) float64 {
	if s.log {
		if v <= 0 {
			return s.lo
		}
		return math.Log10(v)
	}
	return v
}

func (s scale) px(v float64) float64 {
	t := s.tr(v)
	if s.hi == s.lo {
		return (s.p0 + s.p1) / 2
	}
	return s.p0 + (t-s.lo)/(s.hi-s.lo)*(s.p1-s.p0)
}

// base is where bars start: 0, or the bottom of a log axis.
func (s scale) base() float64 {
	if s.log {
		return math.Pow(10, s.lo)
	}
	if s.lo > 0 {
		return s.lo
	}
	return 0
}

// scale is the scale of axis a, mapping its range to the pixels p0..p1:
// the axis' own range, else one from the data (rounded to nice steps on
// a linear axis), with its ticks.
func (c *Chart) scale(a Axis, isX bool, p0, p1 float64) scale {
	lo, hi := a.Min, a.Max
	auto := lo == hi
	if auto {
		lo, hi = c.dataRange(a, isX)
	}
	s := scale{p0: p0, p1: p1, log: a.Log}
	if a.Log {
		s.lo, s.hi = logRange(lo, hi)
	} else {
		s.lo, s.hi = linearRange(lo, hi, auto)
	}
	s.ticks = s.axisTicks(a)
	return s
}

// extent is the smallest and largest value seen on one axis, skipping
// NaN, infinities and, on a log axis, values <= 0.
type extent struct {
	lo, hi float64
	none   bool // nothing seen yet
	log    bool
}

// see widens the extent to v.
func (e *extent) see(v float64) {
	if math.IsNaN(v) || math.IsInf(v, 0) || (e.log && v <= 0) {
		return
	}
	if e.none || v < e.lo {
		e.lo = v
	}
	if e.none || v > e.hi {
		e.hi = v
	}
	e.none = false
}

// dataRange is the range of axis a from what the chart draws along it
// (0..1 when nothing), with headroom above a linear Y axis.
func (c *Chart) dataRange(a Axis, isX bool) (lo, hi float64) {
	e := &extent{none: true, log: a.Log}
	c.seePoints(e, isX)
	if isX {
		for _, m := range c.Markers {
			e.see(m.X)
		}
		for _, bd := range c.Bands {
			e.see(bd.X0)
			e.see(bd.X1)
		}
	}
	for _, n := range c.Notes {
		if isX {
			e.see(n.X)
		} else {
			e.see(n.Y)
		}
	}
	if a.ZeroBase && !a.Log {
		e.see(0)
	}
	lo, hi = e.lo, e.hi
	if e.none {
		lo, hi = 0, 1
	}
	if !isX && !a.Log {
		if hi > 0 {
			hi *= 1.08 // headroom for notes
		}
	}
	return lo, hi
}

// seePoints widens e to the series' points along one axis, on X
// including the edges of bars.
func (c *Chart) seePoints(e *extent, isX bool) {
	for _, s := range c.Series {
		for _, p := range s.Points {
			if !isX {
				e.see(p.Y)
				continue
			}
			e.see(p.X)
			if s.Kind == Bars {
				bw := s.Bar
				if bw <= 0 {
					bw = minGap(s.Points)
				}
				e.see(p.X - bw/2)
				e.see(p.X + bw/2)
			}
		}
	}
}

// logRange is the log10 range of a log axis spanning lo..hi, widened to
// whole decades (at least one).
func logRange(lo, hi float64) (float64, float64) {
	if lo <= 0 {
		lo = 1e-3
	}
	if hi <= lo {
		hi = lo * 10
	}
	l, h := math.Floor(math.Log10(lo)), math.Ceil(math.Log10(hi))
	if h == l {
		h++
	}
	return l, h
}

// linearRange is the range of a linear axis spanning lo..hi, widened
// when empty and, for a range from the data (nice), to whole tick steps.
func linearRange(lo, hi float64, nice bool) (float64, float64) {
	if hi == lo {
		if lo == 0 {
			hi = 1
		} else {
			lo, hi = lo-math.Abs(lo)/2, hi+math.Abs(hi)/2
		}
	}
	if nice {
		step := niceStep((hi - lo) / 5)
		lo = math.Floor(lo/step+1e-9) * step
		hi = math.Ceil(hi/step-1e-9) * step
	}
	return lo, hi
}

// axisTicks is the ticks of axis a on s: its fixed ticks (labelled by
// its Format when unlabelled), else 1-2-5 per decade on a log axis, else
// nice steps.
func (s scale) axisTicks(a Axis) []Tick {
	format := a.Format
	if format == nil {
		format = Num
	}
	if a.Ticks != nil {
		var ticks []Tick
		for _, t := range a.Ticks {
			if t.Label == "" {
				t.Label = format(t.V)
			}
			ticks = append(ticks, t)
		}
		return ticks
	}
	if a.Log {
		return s.logTicks(format)
	}
	return s.linearTicks(format)
}

// logTicks is 1, 2 and 5 times each power of ten in range (only the
// powers when it spans more than three decades).
func (s scale) logTicks(format func(float64) string) []Tick {
	var ticks []Tick
	for e := s.lo; e <= s.hi+1e-9; e++ {
		for _, m := range []float64{1, 2, 5} {
			v := m * math.Pow(10, e)
			if math.Log10(v) > s.hi+1e-9 {
				break
			}
			if m != 1 && s.hi-s.lo > 3 {
				continue
			}
			ticks = append(ticks, Tick{v, format(v)})
		}
	}
	return ticks
}

// linearTicks is a tick at every multiple of a nice step in range.
func (s scale) linearTicks(format func(float64) string) []Tick {
	var ticks []Tick
	step := niceStep((s.hi - s.lo) / 5)
	for v := math.Ceil(s.lo/step-1e-9) * step; v <= s.hi+step*1e-6; v += step {
		vv := math.Round(v/step) * step
		ticks = append(ticks, Tick{vv, format(vv)})
	}
	return ticks
}

func niceStep(raw float64) float64 {
	if raw <= 0 || math.IsNaN(raw) || math.IsInf(raw, 0) {
		return 1
	}
	e := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if raw <= m*e {
			return m * e
		}
	}
	return 10 * e
}

func minGap(ps []Point) float64 {
	g := 0.0
	for i := 1; i < len(ps); i++ {
		if d := math.Abs(ps[i].X - ps[i-1].X); d > 0 && (g == 0 || d < g) {
			g = d
		}
	}
	if g == 0 {
		return 1
	}
	return g
}

func clamp(v, lo, hi float64) float64 { return math.Max(lo, math.Min(hi, v)) }

// f formats a pixel coordinate: two decimals at most, no trailing zeros.
func f(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		v = 0
	}
	s := strconv.FormatFloat(math.Round(v*100)/100, 'f', -1, 64)
	if s == "-0" {
		s = "0"
	}
	return s
}

// Num formats a tick value: the shortest decimal, thousands as k, millions as M.
func Num(v float64) string {
	a := math.Abs(v)
	switch {
	case a >= 1e6 && math.Mod(v, 1e5) == 0:
		return trim(v/1e6) + "M"
	case a >= 1e4 && math.Mod(v, 100) == 0:
		return trim(v/1e3) + "k"
	}
	return trim(v)
}

func trim(v float64) string {
	s := strconv.FormatFloat(v, 'f', 4, 64)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	if s == "-0" {
		s = "0"
	}
	return s
}

func esc(s string) string { return html.EscapeString(s) }

// Plain formats a tick value as the shortest decimal (ports, counts).
func Plain(v float64) string { return trim(v) }
