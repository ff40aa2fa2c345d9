package htmlreport

import (
	"fmt"
	"strings"

	"github.com/ftpharness/ftpharness/loadgen"
)

// settingField is one row of the settings table: its name and its value
// for a report ("" when it does not apply; a row empty for every run is
// left out).
type settingField struct {
	name string
	get  func(*loadgen.Report) string
}

// settingFields are the rows of the settings table, in order.
var settingFields = []settingField{
	{"scenario", func(r *loadgen.Report) string { return r.Settings.Scenario }},
	{"target", func(r *loadgen.Report) string {
		t := r.Settings.Target
		if r.Settings.Server != "" {
			t += " (" + r.Settings.Server + ", started by ftpload)"
		}
		return t
	}},
	{"user", func(r *loadgen.Report) string { return r.Settings.User }},
	{"load model", func(r *loadgen.Report) string {
		if r.Settings.Model == "open" {
			return fmt.Sprintf("open loop, %s/s, pool of %d sessions", num(r.Settings.Rate), r.Settings.Sessions)
		}
		return fmt.Sprintf("closed loop, %d sessions", r.Settings.Sessions)
	}},
	{"passive command", func(r *loadgen.Report) string {
		if r.Settings.EPSV {
			return "EPSV"
		}
		return "PASV"
	}},
	{"TLS", func(r *loadgen.Report) string {
		if r.Settings.TLS == nil {
			return ""
		}
		return r.Settings.TLS.String()
	}},
	{"TLS data handshakes", func(r *loadgen.Report) string {
		if t := r.TLS; t != nil && t.DataHandshakes > 0 {
			return fmt.Sprintf("%d, %d resumed the control session (%.1f%%)", t.DataHandshakes, t.Resumed, 100*t.ResumptionRate)
		}
		return ""
	}},
	{"declared passive range", func(r *loadgen.Report) string { return r.Settings.PasvRange }},
	{"bounds", func(r *loadgen.Report) string {
		var s []string
		if r.Settings.Duration > 0 {
			s = append(s, "duration "+secs(r.Settings.Duration))
		}
		if r.Settings.Count > 0 {
			s = append(s, fmt.Sprintf("count %d", r.Settings.Count))
		}
		if r.Settings.Timeout > 0 {
			s = append(s, "step timeout "+secs(r.Settings.Timeout))
		}
		return strings.Join(s, ", ")
	}},
	{"size", func(r *loadgen.Report) string {
		if r.Settings.Size == 0 {
			return ""
		}
		return bytesStr(float64(r.Settings.Size))
	}},
	{"file", func(r *loadgen.Report) string { return r.Settings.File }},
	{"mix", func(r *loadgen.Report) string { return r.Settings.Mix }},
	{"think", func(r *loadgen.Report) string {
		if r.Settings.Think == 0 {
			return ""
		}
		return secs(r.Settings.Think)
	}},
	{"sources", func(r *loadgen.Report) string { return strings.Join(r.Settings.Sources, " ") }},
	{"shard", func(r *loadgen.Report) string {
		if mi := r.Merged; mi != nil {
			return "merged " + mi.String()
		}
		if r.Settings.Shard != nil {
			return "shard " + r.Settings.Shard.String() + " of a sharded run"
		}
		return ""
	}},
	{"started", func(r *loadgen.Report) string {
		if r.Start.IsZero() {
			return ""
		}
		return r.Start.UTC().Format("2006-01-02 15:04:05 MST")
	}},
	{"ran for", func(r *loadgen.Report) string {
		s := secs(r.Duration)
		if r.Interrupted {
			s += " (interrupted)"
		}
		return s
	}},
	{"operations", func(r *loadgen.Report) string {
		t := r.Totals
		return fmt.Sprintf("%s total, %s ok, %s errors (%.2f%% success)", num(float64(t.Count)), num(float64(t.OK)), num(float64(t.Errors)), 100*t.SuccessRatio)
	}},
	{"rate", func(r *loadgen.Report) string { return num(r.Totals.Rate) + " operations/s (logins excluded)" }},
	{"bytes", func(r *loadgen.Report) string {
		if r.Totals.Bytes == 0 {
			return ""
		}
		return fmt.Sprintf("%s (%s/s)", bytesStr(float64(r.Totals.Bytes)), bytesStr(r.Totals.Throughput))
	}},
	{"schema", func(r *loadgen.Report) string { return r.Schema }},
}

// settingsRows is the settings table: one column per run.
func settingsRows(runs []Run) []settingRow {
	var rows []settingRow
	for _, f := range settingFields {
		row := settingRow{Name: f.name}
		any := false
		for _, r := range runs {
			v := f.get(r.Report)
			any = any || v != ""
			row.Values = append(row.Values, v)
		}
		if any {
			rows = append(rows, row)
		}
	}
	return rows
}
