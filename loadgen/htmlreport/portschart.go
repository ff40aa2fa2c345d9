package htmlreport

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/ftpharness/ftpharness/loadgen"
	"github.com/ftpharness/ftpharness/loadgen/charts"
	"github.com/ftpharness/ftpharness/target"
)

func portsCaption(r Run) string {
	ps := r.Report.Ports
	if ps.Seen == 0 {
		return r.Name + ": no passive port advertised"
	}
	s := fmt.Sprintf("%s: %s advertised, %s distinct, %d–%d", r.Name, num(float64(ps.Seen)), num(float64(ps.Distinct)), ps.Min, ps.Max)
	if pr, err := target.ParseRange(ps.Range); err == nil && len(ps.Counts) > 0 {
		s += fmt.Sprintf("; declared %s (%d ports)", ps.Range, pr.Size())
		if ps.OutOfRange > 0 {
			s += fmt.Sprintf("; %s outside the range", plural(int(ps.OutOfRange), "advertisement"))
		}
		var gaps []string
		never := 0
		for p := pr.Lo; p <= pr.Hi; p++ {
			if ps.Counts[p] > 0 {
				continue
			}
			never++
			if n := len(gaps); n > 0 && ps.Counts[p-1] == 0 && p > pr.Lo {
				// extend the last gap "a" or "a–b"
				a, _, _ := strings.Cut(gaps[n-1], "–")
				gaps[n-1] = a + "–" + strconv.Itoa(p)
			} else {
				gaps = append(gaps, strconv.Itoa(p))
			}
		}
		if never == 0 {
			s += "; every port of the range used, no gaps"
		} else {
			more := ""
			if len(gaps) > 8 {
				more = fmt.Sprintf(" and %d more gaps", len(gaps)-8)
				gaps = gaps[:8]
			}
			s += fmt.Sprintf("; %s of the range never advertised (%s%s)", plural(never, "port"), strings.Join(gaps, ", "), more)
		}
	} else if err == nil {
		inSpan := ps.Max - ps.Min + 1
		if ps.Min < pr.Lo || ps.Max > pr.Hi {
			inSpan = min(ps.Max, pr.Hi) - max(ps.Min, pr.Lo) + 1
		}
		s += fmt.Sprintf("; declared %s (%d ports)", ps.Range, pr.Size())
		inRange := ps.Distinct
		if ps.OutOfRange > 0 {
			s += fmt.Sprintf("; %s outside the range", plural(int(ps.OutOfRange), "advertisement"))
		}
		switch {
		case ps.OutOfRange == 0 && inRange >= pr.Size():
			s += "; every port of the range used, no gaps"
		case ps.OutOfRange == 0:
			s += fmt.Sprintf("; %d ports of the range never advertised", pr.Size()-inRange)
		case inSpan > 0 && inSpan < pr.Size():
			s += fmt.Sprintf("; at least %d ports of the range never advertised", pr.Size()-inSpan)
		}
	} else {
		s += "; no declared range"
	}
	if ps.AddrMismatch > 0 {
		s += fmt.Sprintf("; %d address mismatches", ps.AddrMismatch)
	}
	return s
}

// portsChart draws each port's advertisement count across the declared
// range when the reports carry per-port counts (v1.1), else the v1.0 spans.
func portsChart(runs []Run) *charts.Chart {
	for _, r := range runs {
		if ps := r.Report.Ports; ps.Seen > 0 && len(ps.Counts) == 0 {
			return portsSpanChart(runs)
		}
	}
	pb := newPortBars(runs)
	for i, r := range runs {
		pb.addRun(i, r)
	}
	c := pb.c
	if pb.hi < pb.lo {
		c.Series = nil
		return c
	}
	pb.markFolds()
	pb.markGaps()
	pad := math.Max(1, math.Ceil(float64(pb.hi-pb.lo+1)*0.02))
	c.X.Min, c.X.Max = float64(pb.lo)-pad, float64(pb.hi+1)+pad
	return c
}

// portBars builds the ports chart from per-port counts. The window is
// the declared ranges with a margin where out-of-range ports nearby show
// at their place; ports further out are folded into one red bar at each
// edge (a far port would squash the range).
type portBars struct {
	c            *charts.Chart
	runs         []Run
	ranges       []target.Range    // the distinct declared ranges
	lo, hi       int               // the ports declared and drawn (edge slots included)
	winLo, winHi int               // ports shown at their place: winLo..winHi
	w            float64           // bar width: the runs share each port's unit
	edges        map[int]*portEdge // the folded ports of every run, by edge slot
	redNamed     bool              // the red bars have their legend entry
}

// portEdge is the ports of every run folded into one edge slot.
type portEdge struct {
	from, to int
	counts   []string // per run: "name: ×n"
}

// portFold is the ports of one run folded into one edge slot.
type portFold struct {
	n        uint64
	from, to int
}

// add folds n advertisements of port p in (ports come in ascending order).
func (f *portFold) add(p int, n uint64) {
	f.n += n
	f.to = p
	if f.from == 0 {
		f.from = p
	}
}

// newPortBars starts the chart: its titles, the declared ranges as green
// bands and the window they give.
func newPortBars(runs []Run) *portBars {
	c := &charts.Chart{ID: "chart-ports", Title: "Advertised passive ports across the declared range", Width: 900, Height: 280,
		Subtitle: "times each port was advertised; green: declared range; amber: ports of it never advertised; red: outside it",
		X:        charts.Axis{Label: "port", Format: charts.Plain}, Y: charts.Axis{Label: "times advertised", ZeroBase: true}}
	if len(runs) > 1 {
		c.Subtitle = "times each port was advertised, one bar per run; green: declared range; amber: ports no run advertised; red: outside it"
	}
	pb := &portBars{c: c, runs: runs, lo: 65536, hi: 0, winLo: 0, winHi: 65536, w: 1 / float64(len(runs)), edges: map[int]*portEdge{}}
	pb.declare()
	if len(pb.ranges) > 0 {
		pad := max(2, int(math.Ceil(float64(pb.hi-pb.lo+1)*0.05)))
		pb.winLo, pb.winHi = pb.lo-pad+1, pb.hi+pad-1
	}
	return pb
}

// declare adds a band for each distinct declared range and widens lo..hi
// to the ranges.
func (pb *portBars) declare() {
	seenRange := map[string]bool{}
	for _, r := range pb.runs {
		ps := r.Report.Ports
		if pr, err := target.ParseRange(ps.Range); err == nil && pr.Set() {
			pb.lo, pb.hi = min(pb.lo, pr.Lo), max(pb.hi, pr.Hi)
			if !seenRange[ps.Range] {
				seenRange[ps.Range] = true
				pb.ranges = append(pb.ranges, pr)
				pb.c.Bands = append(pb.c.Bands, charts.Band{X0: float64(pr.Lo), X1: float64(pr.Hi) + 1, Label: "declared " + ps.Range})
			}
		}
	}
}

// addRun adds run i's bars: in its declared range in the run's colour,
// outside it in red (one legend entry for every run's red bars).
func (pb *portBars) addRun(i int, r Run) {
	in, out, below, above := pb.place(i, r.Report.Ports)
	pre := prefix(len(pb.runs) > 1, r.Name)
	out = pb.addFolds(i, pre, out, below, above)
	sort.Slice(out, func(a, b int) bool { return out[a].X < out[b].X })
	pb.c.Series = append(pb.c.Series, charts.Series{Name: pre + "advertised, in range", Kind: charts.Bars, Bar: pb.w, Points: in, Color: runColor(i)})
	if len(out) > 0 {
		redName := "advertised, out of range"
		if pb.redNamed {
			redName = "" // one legend entry for every run's red bars
		}
		pb.redNamed = true
		pb.c.Series = append(pb.c.Series, charts.Series{Name: redName, Kind: charts.Bars, Bar: pb.w, Points: out, Color: "#cf222e"})
	}
}

// place turns run i's ports in the window into bars at their place, in or
// out of its declared range, and folds the ports below and above it.
func (pb *portBars) place(i int, ps loadgen.PortStats) (in, out []charts.Point, below, above portFold) {
	pr, err := target.ParseRange(ps.Range)
	hasRange := err == nil && pr.Set()
	ports := make([]int, 0, len(ps.Counts))
	for p := range ps.Counts {
		ports = append(ports, p)
	}
	sort.Ints(ports)
	for _, p := range ports {
		n := ps.Counts[p]
		switch {
		case p < pb.winLo:
			below.add(p, n)
			continue
		case p > pb.winHi:
			above.add(p, n)
			continue
		}
		pb.lo, pb.hi = min(pb.lo, p), max(pb.hi, p)
		pt := charts.Point{X: float64(p) + pb.w*(float64(i)+0.5), Y: float64(n)}
		if hasRange && !pr.Contains(p) {
			out = append(out, pt)
		} else {
			in = append(in, pt)
		}
	}
	return in, out, below, above
}

// addFolds adds run i's folded ports to out as a red bar at each edge
// slot, and their ports and count to the edge's marker.
func (pb *portBars) addFolds(i int, pre string, out []charts.Point, below, above portFold) []charts.Point {
	for _, f := range []struct {
		portFold
		slot int
	}{{below, pb.winLo - 1}, {above, pb.winHi + 1}} {
		if f.n == 0 {
			continue
		}
		pb.lo, pb.hi = min(pb.lo, f.slot), max(pb.hi, f.slot)
		x := float64(f.slot) + pb.w*(float64(i)+0.5)
		out = append(out, charts.Point{X: x, Y: float64(f.n)})
		e := pb.edges[f.slot]
		if e == nil {
			e = &portEdge{from: f.from, to: f.to}
			pb.edges[f.slot] = e
		}
		e.from, e.to = min(e.from, f.from), max(e.to, f.to)
		e.counts = append(e.counts, pre+"×"+num(float64(f.n)))
	}
	return out
}

// markFolds marks the folded edges, labelled with the ports they hold.
func (pb *portBars) markFolds() {
	for _, slot := range []int{pb.winLo - 1, pb.winHi + 1} {
		e := pb.edges[slot]
		if e == nil {
			continue
		}
		ports := strconv.Itoa(e.from)
		if e.to != e.from {
			ports += "–" + strconv.Itoa(e.to)
		}
		pb.c.Markers = append(pb.c.Markers, charts.Marker{X: float64(slot) + 0.5, Color: "#cf222e",
			Label: fmt.Sprintf("outside, folded here: ports %s %s", ports, strings.Join(e.counts, ", "))})
	}
}

// markGaps shades the ports of a declared range that no run advertised,
// the first band labelled with how many there are.
func (pb *portBars) markGaps() {
	c := pb.c
	gaps := 0
	for _, pr := range pb.ranges {
		for p := pr.Lo; p <= pr.Hi; p++ {
			used := false
			for _, r := range pb.runs {
				used = used || r.Report.Ports.Counts[p] > 0
			}
			if used {
				continue
			}
			if n := len(c.Bands); n > 0 && c.Bands[n-1].Color == gapColor && c.Bands[n-1].X1 == float64(p) {
				c.Bands[n-1].X1++
			} else {
				c.Bands = append(c.Bands, charts.Band{X0: float64(p), X1: float64(p) + 1, Color: gapColor, Opacity: 0.45})
			}
			gaps++
		}
	}
	for i := range c.Bands {
		if c.Bands[i].Color == gapColor {
			c.Bands[i].Label = fmt.Sprintf("never advertised: %s", plural(gaps, "port"))
			break
		}
	}
}

const gapColor = "#bf8700"

// portsSpanChart is the ports chart of v1.0 reports (no per-port counts):
// the span of advertised ports, which cannot show gaps.
func portsSpanChart(runs []Run) *charts.Chart {
	c := &charts.Chart{ID: "chart-ports", Title: "Advertised passive ports across the declared range", Width: 900,
		Height: 90 + 34*len(runs), Subtitle: "green band: declared range; blue: span of advertised ports inside it; red: outside it (a v1.0 report: no per-port counts, gaps unknown)",
		X: charts.Axis{Label: "port", Format: charts.Plain}}
	lo, hi := 65536, 0
	var ticks []charts.Tick
	seenRange := map[string]bool{}
	var in, out []charts.Point
	for i, r := range runs {
		ps := r.Report.Ports
		y := float64(len(runs) - i)
		ticks = append(ticks, charts.Tick{V: y, Label: r.Name})
		if ps.Seen == 0 {
			continue
		}
		lo, hi = min(lo, ps.Min), max(hi, ps.Max)
		pr, err := target.ParseRange(ps.Range)
		if err != nil {
			in = append(in, charts.Point{X: float64(ps.Min), Y: y}, charts.Point{X: float64(ps.Max) + 1, Y: y})
			continue
		}
		lo, hi = min(lo, pr.Lo), max(hi, pr.Hi)
		if !seenRange[ps.Range] {
			seenRange[ps.Range] = true
			c.Bands = append(c.Bands, charts.Band{X0: float64(pr.Lo), X1: float64(pr.Hi) + 1, Label: "declared " + ps.Range})
		}
		if ps.Min < pr.Lo {
			out = append(out, charts.Point{X: float64(ps.Min), Y: y}, charts.Point{X: float64(min(ps.Max, pr.Lo-1)) + 1, Y: y})
		}
		if a, b := max(ps.Min, pr.Lo), min(ps.Max, pr.Hi); a <= b {
			in = append(in, charts.Point{X: float64(a), Y: y}, charts.Point{X: float64(b) + 1, Y: y})
		}
		if ps.Max > pr.Hi {
			out = append(out, charts.Point{X: float64(max(ps.Min, pr.Hi+1)), Y: y}, charts.Point{X: float64(ps.Max) + 1, Y: y})
		}
	}
	if hi < lo {
		return c
	}
	pad := math.Max(1, math.Ceil(float64(hi-lo+1)*0.04))
	c.X.Min, c.X.Max = float64(lo)-pad, float64(hi+1)+pad
	c.Y = charts.Axis{Min: 0.4, Max: float64(len(runs)) + 0.6, Ticks: ticks}
	c.Series = []charts.Series{{Name: "advertised, in range", Kind: charts.Span, Points: in, Color: "#0072b2", Width: 14}}
	if len(out) > 0 {
		c.Series = append(c.Series, charts.Series{Name: "advertised, out of range", Kind: charts.Span, Points: out, Color: "#cf222e", Width: 14})
	}
	return c
}
