package htmlreport

import (
	"fmt"
	"sort"
	"strings"

	"github.com/ftpharness/ftpharness/loadgen"
)

func latencyRows(runs []Run) []latencyRow {
	var out []latencyRow
	for _, r := range runs {
		rep := r.Report
		add := func(name string, l loadgen.LatencyStats) {
			if l.Count == 0 {
				return
			}
			out = append(out, latencyRow{Run: r.Name, Name: name, Count: l.Count, Min: ms(l.Min), Mean: ms(l.Mean), P50: ms(l.P50), P90: ms(l.P90),
				P99: ms(l.P99), P999: ms(l.P999), P9999: ms(l.P9999), Max: ms(l.Max)})
		}
		add("operation", rep.Latency)
		if rep.Settings.Model == "open" {
			add("operation, corrected", rep.LatencyCorrected)
		}
		for ph := loadgen.Phase(0); ph < loadgen.NumPhases; ph++ {
			add(ph.String(), rep.Phases[ph.String()])
		}
	}
	return out
}

func errorRows(runs []Run) []errorRow {
	var out []errorRow
	for _, r := range runs {
		for _, e := range r.Report.Errors {
			var codes []string
			var ks []int
			for c := range e.Codes {
				ks = append(ks, c)
			}
			sort.Ints(ks)
			for _, c := range ks {
				codes = append(codes, fmt.Sprintf("%d ×%d", c, e.Codes[c]))
			}
			reply := e.FirstReply
			if reply == "" {
				reply = e.FirstError
			}
			out = append(out, errorRow{Run: r.Name, Class: string(e.Class), Count: num(float64(e.Count)), First: secs(e.First),
				Phase: e.FirstPhase, Codes: strings.Join(codes, ", "), Reply: reply, Client: e.ClientSide})
		}
	}
	return out
}
