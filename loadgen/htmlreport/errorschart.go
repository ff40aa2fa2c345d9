package htmlreport

import (
	"fmt"

	"github.com/ftpharness/ftpharness/loadgen"
	"github.com/ftpharness/ftpharness/loadgen/charts"
)

func errorsChart(runs []Run) *charts.Chart {
	c := &charts.Chart{ID: "chart-errors", Title: "Errors per second by class", Width: 900,
		Y:     charts.Axis{Label: "errors/s", ZeroBase: true},
		Empty: "no errors in this run"}
	if len(runs) > 1 {
		c.Empty = "no errors in these runs"
	}
	total := 0
	for _, r := range runs {
		total += int(r.Report.Totals.Errors)
	}
	if total == 0 {
		c.Series = nil
		return c
	}
	if len(runs) > 1 {
		c.Title = "Errors per second"
		c.Subtitle = "all classes, one line per run; classes are in the table below"
		for i, r := range runs {
			var pts []charts.Point
			for _, t := range r.Report.Timeline {
				d := bucket(r.Report, t.Second)
				pts = append(pts, charts.Point{X: float64(t.Second) + d/2, Y: float64(t.Errors) / d})
			}
			c.Series = append(c.Series, charts.Series{Name: r.Name, Points: pts, Color: runColor(i), Dash: i > 0, Dots: true})
		}
		return c
	}
	rep := runs[0].Report
	var classes []loadgen.ErrorStats
	for _, e := range rep.Errors {
		if e.Count > 0 {
			classes = append(classes, e)
		}
	}
	if byClass(rep) {
		// stacked: the first (most frequent) class at the bottom. Each
		// series is drawn from the axis to its cumulative top, the tallest
		// first, so the later (lower) ones paint the bottom of the stack.
		cum := make([]float64, len(rep.Timeline))
		stack := make([]charts.Series, 0, len(classes))
		for _, e := range classes {
			var pts []charts.Point
			for i, t := range rep.Timeline {
				n := t.ErrorsByClass[e.Class]
				if n == 0 {
					continue
				}
				cum[i] += float64(n) / bucket(rep, t.Second)
				pts = append(pts, charts.Point{X: float64(t.Second) + 0.5, Y: cum[i]})
			}
			stack = append(stack, charts.Series{Name: fmt.Sprintf("%s (×%s)", e.Class, num(float64(e.Count))), Kind: charts.Bars, Bar: 1, Points: pts, Color: classColor(e.Class)})
		}
		for i := len(stack) - 1; i >= 0; i-- {
			c.Series = append(c.Series, stack[i])
		}
		c.Subtitle = "stacked by class (legend from the top of the stack down); markers: when each class first appeared"
		if len(classes) == 1 {
			c.Subtitle = "one class in this run"
		}
		for _, e := range classes {
			c.Markers = append(c.Markers, charts.Marker{X: e.First, Label: fmt.Sprintf("%s first (×%s)", e.Class, num(float64(e.Count))), Color: classColor(e.Class)})
		}
		return c
	}
	var pts []charts.Point
	for _, t := range rep.Timeline {
		d := bucket(rep, t.Second)
		pts = append(pts, charts.Point{X: float64(t.Second) + 0.5, Y: float64(t.Errors) / d})
	}
	name, col := "all classes", "#57606a"
	if len(classes) == 1 {
		name, col = string(classes[0].Class), classColor(classes[0].Class)
		c.Subtitle = "one class in this run"
	} else {
		c.Subtitle = "bars: all classes (a v1.0 report keeps per-second totals only); markers: when each class first appeared"
	}
	c.Series = []charts.Series{{Name: name, Kind: charts.Bars, Bar: 1, Points: pts, Color: col}}
	for _, e := range classes {
		c.Markers = append(c.Markers, charts.Marker{X: e.First, Label: fmt.Sprintf("%s first (×%s)", e.Class, num(float64(e.Count))), Color: classColor(e.Class)})
	}
	return c
}

// byClass reports whether the timeline splits every second's errors by
// class (v1.1 reports).
func byClass(rep *loadgen.Report) bool {
	for _, t := range rep.Timeline {
		if t.Errors > 0 && t.ErrorsByClass == nil {
			return false
		}
	}
	return true
}

func classColor(c loadgen.ErrorClass) string {
	switch c {
	case loadgen.ClassReply4xx:
		return "#d55e00"
	case loadgen.ClassReply5xx:
		return "#cf222e"
	case loadgen.ClassTimeout:
		return "#8250df"
	case loadgen.ClassOutOfRange, loadgen.ClassAddrMismatch:
		return "#bf3989"
	case loadgen.ClassDropped, loadgen.ClassReset, loadgen.ClassRefused:
		return "#953800"
	case loadgen.ClassClientAddrLimit, loadgen.ClassClientFDLimit, loadgen.ClassCanceled:
		return "#8c959f"
	}
	return "#57606a"
}
