package htmlreport

import (
	"math"

	"github.com/ftpharness/ftpharness/loadgen"
	"github.com/ftpharness/ftpharness/loadgen/charts"
)

var pctQuantiles = []float64{50, 75, 90, 95, 99, 99.5, 99.9, 99.95, 99.99}

func pctX(q float64) float64 { return math.Log10(100 / (100 - q)) }

func pctAxis() charts.Axis {
	var ticks []charts.Tick
	for _, q := range []float64{50, 90, 99, 99.9, 99.99} {
		ticks = append(ticks, charts.Tick{V: pctX(q), Label: "p" + charts.Plain(q)})
	}
	return charts.Axis{Label: "percentile (log scale of 1/(1-p))", Ticks: ticks, Min: pctX(50), Max: pctX(99.99)}
}

func pctSeries(name string, l loadgen.LatencyStats, col string, dash bool) charts.Series {
	s := charts.Series{Name: name, Color: col, Dash: dash, Dots: true}
	for _, q := range pctQuantiles {
		v := l.Quantile(q)
		if v <= 0 {
			v = 0.001
		}
		s.Points = append(s.Points, charts.Point{X: pctX(q), Y: v})
	}
	return s
}

func latencyCharts(runs []Run) []*charts.Chart {
	multi := len(runs) > 1
	phases := &charts.Chart{ID: "chart-latency", Title: "Latency percentiles by phase", Width: 440, Height: 300,
		Subtitle: "service time (uncorrected), ms, log scale", X: pctAxis(), Y: charts.Axis{Label: "ms", Log: true},
		Empty: "no latency recorded"}
	phaseColor := map[string]string{}
	open := false
	ci := 0
	for i, r := range runs {
		rep := r.Report
		open = open || (rep.Settings.Model == "open" && rep.LatencyCorrected.Count > 0)
		list := []struct {
			name string
			l    loadgen.LatencyStats
		}{{"operation", rep.Latency}}
		for ph := loadgen.Phase(0); ph < loadgen.NumPhases; ph++ {
			list = append(list, struct {
				name string
				l    loadgen.LatencyStats
			}{ph.String(), rep.Phases[ph.String()]})
		}
		for _, it := range list {
			if it.l.Count == 0 {
				continue
			}
			col, ok := phaseColor[it.name]
			if !ok {
				col = charts.Palette[ci%len(charts.Palette)]
				ci++
				phaseColor[it.name] = col
			}
			n := it.name
			if multi {
				n = r.Name + " " + it.name
			}
			phases.Series = append(phases.Series, pctSeries(n, it.l, col, i > 0))
		}
	}
	out := []*charts.Chart{phases}
	if !open {
		phases.Width = 900
		return out
	}
	corr := &charts.Chart{ID: "chart-latency-corrected", Title: "Corrected vs uncorrected (open loop)", Width: 440, Height: 300,
		Subtitle: "whole operation, ms, log scale", X: pctAxis(), Y: charts.Axis{Label: "ms", Log: true}}
	for i, r := range runs {
		rep := r.Report
		if rep.Settings.Model != "open" || rep.LatencyCorrected.Count == 0 {
			continue
		}
		p := prefix(multi, r.Name)
		corr.Series = append(corr.Series,
			pctSeries(p+"corrected (from intended start)", rep.LatencyCorrected, "#cf222e", i > 0),
			pctSeries(p+"uncorrected (service time)", rep.Latency, "#0072b2", i > 0))
	}
	return append(out, corr)
}
