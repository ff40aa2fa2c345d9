package htmlreport

import (
	"fmt"
	"html/template"
	"math"
	"strings"

	"github.com/ftpharness/ftpharness/loadgen"
	"github.com/ftpharness/ftpharness/loadgen/charts"
)

// The charts of the page, in order: open sessions (or held listeners),
// operations and throughput per second, errors, latency, ports.

func runColor(i int) string { return charts.Palette[i%len(charts.Palette)] }

// bucket is how long second s of the timeline lasted (the last is partial).
func bucket(r *loadgen.Report, s int) float64 {
	d := r.Duration - float64(s)
	if d > 1 || d <= 0 {
		return 1
	}
	return math.Max(d, 0.05)
}

// buildCharts draws every chart of the page.
func buildCharts(runs []Run) []htmlChart {
	var out []htmlChart
	add := func(c *charts.Chart, caption string, wide bool) {
		out = append(out, htmlChart{ID: c.ID, Caption: caption, SVG: template.HTML(c.SVG()), Wide: wide})
	}
	exhaust := false
	anyBytes := false
	anyPorts := false
	for _, r := range runs {
		exhaust = exhaust || r.Report.Exhaust != nil
		anyBytes = anyBytes || r.Report.Totals.Bytes > 0
		anyPorts = anyPorts || r.Report.Ports.Seen > 0
	}
	timeAxis := runsTimeAxis(runs)

	// 1. held listeners / open sessions
	add(heldChart(runs, timeAxis, exhaust), "", true)

	// 2. operations per second
	rate, mbs := perSecondCharts(runs, timeAxis, exhaust, anyBytes)
	add(rate, "", false)
	add(mbs, "", false)

	// 3. errors per second
	errs := errorsChart(runs)
	errs.X = timeAxis
	add(errs, "", true)

	// 4. latency percentiles
	for _, c := range latencyCharts(runs) {
		add(c, "", false)
	}

	// 5. advertised ports
	if anyPorts {
		add(portsChart(runs), "", true)
	}
	return out
}

// runsTimeAxis is the time axis of the charts over time: the whole run,
// not a rounded-up second.
func runsTimeAxis(runs []Run) charts.Axis {
	tmax := 0.0
	for _, r := range runs {
		tmax = math.Max(tmax, r.Report.Duration)
	}
	timeAxis := charts.Axis{Label: "seconds since start", ZeroBase: true}
	if tmax > 0 {
		timeAxis.Min, timeAxis.Max = 0, tmax
	}
	return timeAxis
}

// seriesName is a curve's name: the run's when runs are overlaid, else
// what it shows.
func seriesName(runs []Run, r Run, what string) string {
	if len(runs) > 1 {
		return r.Name
	}
	return what
}

// heldChart is the open sessions of each second, or for exhaust runs the
// held listeners with the exhaustion, release and recovery marked.
func heldChart(runs []Run, timeAxis charts.Axis, exhaust bool) *charts.Chart {
	multi := len(runs) > 1
	held := &charts.Chart{ID: "chart-held", Title: "Open sessions over time", Width: 900,
		X: timeAxis, Y: charts.Axis{Label: "sessions", ZeroBase: true}}
	if exhaust {
		held.Title = "Held passive listeners over time"
		held.Y.Label = "listeners held"
		held.Subtitle = "per-second peaks of the timeline joined to the exhaust summary: exhaustion, release, recovery"
	} else {
		held.Subtitle = "most sessions open in each second"
	}
	for i, r := range runs {
		rep := r.Report
		col := runColor(i)
		s := charts.Series{Name: seriesName(runs, r, held.Y.Label), Color: col, Dash: i > 0}
		if ex := rep.Exhaust; ex != nil {
			s.Points, held.Markers, held.Notes = exhaustSeries(r, ex, col, multi, held.Markers, held.Notes)
		} else {
			s.Kind = charts.Step
			for _, t := range rep.Timeline {
				s.Points = append(s.Points, charts.Point{X: float64(t.Second), Y: float64(t.Active)})
			}
			if n := len(rep.Timeline); n > 0 {
				s.Points = append(s.Points, charts.Point{X: math.Max(rep.Duration, float64(n-1)), Y: float64(rep.Timeline[n-1].Active)})
			}
			if first, cls, ok := firstFailure(rep); ok {
				held.Markers = append(held.Markers, charts.Marker{X: first, Label: prefix(multi, r.Name) + "first failure: " + cls, Color: col})
			}
		}
		held.Series = append(held.Series, s)
	}
	// headroom above the curves for the event labels
	peak := 0.0
	for _, s := range held.Series {
		for _, pt := range s.Points {
			peak = math.Max(peak, pt.Y)
		}
	}
	held.Y.Min, held.Y.Max = 0, math.Max(1, math.Ceil(peak*1.45))
	return held
}

// perSecondCharts are the operations (or sessions tried) and the MB moved
// in each second.
func perSecondCharts(runs []Run, timeAxis charts.Axis, exhaust, anyBytes bool) (rate, mbs *charts.Chart) {
	opsTitle, opsY := "Passive cycles per second", "cycles/s"
	if exhaust {
		opsTitle, opsY = "Sessions tried per second", "sessions/s"
	} else if !scenarioIs(runs, loadgen.Churn) {
		opsTitle, opsY = "Operations per second", "ops/s"
	}
	rate = &charts.Chart{ID: "chart-rate", Title: opsTitle, Width: 440, Subtitle: "completions per second (the last second is partial)",
		X: timeAxis, Y: charts.Axis{Label: opsY, ZeroBase: true}}
	mbs = &charts.Chart{ID: "chart-mbs", Title: "Throughput", Width: 440, Subtitle: "payload over data connections",
		X: timeAxis, Y: charts.Axis{Label: "MB/s", ZeroBase: true},
		Empty: "no payload bytes moved in this run"}
	for i, r := range runs {
		var ops, mb []charts.Point
		for _, t := range r.Report.Timeline {
			d := bucket(r.Report, t.Second)
			x := float64(t.Second) + d/2
			ops = append(ops, charts.Point{X: x, Y: float64(t.Ops) / d})
			mb = append(mb, charts.Point{X: x, Y: float64(t.Bytes) / d / 1e6})
		}
		rate.Series = append(rate.Series, charts.Series{Name: seriesName(runs, r, opsY), Points: ops, Color: runColor(i), Dash: i > 0, Dots: true})
		if anyBytes {
			mbs.Series = append(mbs.Series, charts.Series{Name: seriesName(runs, r, "MB/s"), Points: mb, Color: runColor(i), Dash: i > 0, Dots: true})
		}
	}
	return rate, mbs
}

func scenarioIs(runs []Run, s string) bool {
	for _, r := range runs {
		if r.Report.Settings.Scenario != s {
			return false
		}
	}
	return true
}

func prefix(multi bool, name string) string {
	if multi {
		return name + ": "
	}
	return ""
}

// firstFailure is when the first server-side error happened.
func firstFailure(r *loadgen.Report) (float64, string, bool) {
	best, cls, ok := 0.0, "", false
	for _, e := range r.Errors {
		if e.ClientSide {
			continue
		}
		if !ok || e.First < best {
			best, cls, ok = e.First, string(e.Class), true
			if e.FirstReply != "" {
				cls = loadgen.TermSafe(firstWords(e.FirstReply, 4))
			}
		}
	}
	return best, cls, ok
}

func firstWords(s string, n int) string {
	f := strings.Fields(s)
	if len(f) > n {
		return strings.Join(f[:n], " ") + "…"
	}
	return s
}

// exhaustSeries is the held-listener curve of an exhaust run: the
// timeline's per-second peaks up to the failure, the capacity at the first
// failure, the plateau until all sessions are released, the drop, and the
// recovery.
func exhaustSeries(r Run, ex *loadgen.ExhaustSummary, col string, multi bool, ms []charts.Marker, ns []charts.Note) ([]charts.Point, []charts.Marker, []charts.Note) {
	rep := r.Report
	tFail, cls, failed := firstFailure(rep)
	if !failed || !ex.CapacityReached {
		tFail = rep.Duration
		if ex.Recovered {
			tFail = rep.Duration - ex.RecoveryTime
		}
	}
	// the ramp starts after the setup (banner, busy-port check): the
	// summary's time to exhaust counts from there
	ramp := 0.0
	if failed && ex.CapacityReached && tFail-ex.TimeToExhaust > 0.001 {
		ramp = tFail - ex.TimeToExhaust
	}
	pts := []charts.Point{{X: ramp, Y: 0}}
	for _, t := range rep.Timeline {
		end := float64(t.Second + 1)
		if end >= tFail {
			break
		}
		if end > ramp {
			pts = append(pts, charts.Point{X: end, Y: float64(t.Active)})
		}
	}
	release := rep.Duration
	if ex.Recovered {
		release = rep.Duration - ex.RecoveryTime
	}
	if release < tFail {
		release = tFail
	}
	pts = append(pts, charts.Point{X: tFail, Y: float64(ex.Capacity)}, charts.Point{X: release, Y: float64(ex.Capacity)}, charts.Point{X: release, Y: 0})
	if ex.Recovered {
		pts = append(pts, charts.Point{X: rep.Duration, Y: 0})
	}
	p := prefix(multi, r.Name)
	if ramp > 0 {
		ms = append(ms, charts.Marker{X: ramp, Label: p + "ramp starts", Color: "#57606a"})
	}
	if ex.CapacityReached {
		label := fmt.Sprintf("%sexhausted: %d held", p, ex.Capacity)
		if ex.RangeSize > 0 {
			label = fmt.Sprintf("%sexhausted: %d of %d held", p, ex.Capacity, ex.RangeSize)
		}
		ns = append(ns, charts.Note{X: tFail, Y: float64(ex.Capacity), Label: label, Color: col})
		if failed {
			ms = append(ms, charts.Marker{X: tFail, Label: fmt.Sprintf("%sfirst failure (%s): %s", p, ordinal(ex.Capacity+1), cls), Color: "#cf222e"})
		}
	} else {
		ns = append(ns, charts.Note{X: tFail, Y: float64(ex.Capacity), Label: fmt.Sprintf("%s%d held, not exhausted (%s)", p, ex.Capacity, ex.StoppedBy), Color: col})
	}
	ms = append(ms, charts.Marker{X: release, Label: p + "all released", Color: "#57606a"})
	if ex.Recovered {
		ms = append(ms, charts.Marker{X: rep.Duration, Label: fmt.Sprintf("%srecovered +%s", p, secs(ex.RecoveryTime)), Color: "#1a7f37"})
	}
	return pts, ms, ns
}
