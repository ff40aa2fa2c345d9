// Package htmlreport renders ftpload's load reports as one self-contained
// HTML page with SVG charts (loadgen/charts). It is kept apart from the
// engine, as vegeta keeps lib/plot apart from its attacker: it imports
// loadgen for the Report types, and loadgen does not import it.
package htmlreport

import (
	"bytes"
	"fmt"
	"html/template"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/ftpharness/ftpharness/loadgen"
	"github.com/ftpharness/ftpharness/loadgen/charts"
)

// Run is one JSON report shown in the HTML page, under a name (the
// file's base name, "before", "after"…).
type Run struct {
	Name   string
	Report *loadgen.Report
}

// NewReporter renders one self-contained HTML page (inline CSS and SVG,
// no scripts, nothing fetched) for one run or several overlaid: a header
// sentence per run answering the operator's question, the settings and
// banners, charts over time, latency percentiles, the advertised ports and
// the error table with sample raw replies.
func NewReporter(runs ...Run) loadgen.Reporter {
	return func(w io.Writer) error {
		if len(runs) == 0 {
			return fmt.Errorf("html report: no runs")
		}
		var b bytes.Buffer
		if err := htmlTmpl.Execute(&b, buildPage(runs)); err != nil {
			return err
		}
		// the charts carry run names and replies too: the page is UTF-8
		_, err := w.Write(bytes.ToValidUTF8(b.Bytes(), []byte("\uFFFD")))
		return err
	}
}

// Headline is the one sentence that answers the run's question: the pool's
// capacity and what happened next for exhaust, throughput and latency for
// the other scenarios.
func Headline(r *loadgen.Report) string {
	if ex := r.Exhaust; ex != nil {
		return exhaustHeadline(r, ex)
	}
	s := r.Settings
	var b strings.Builder
	sess := plural(s.Sessions, "session")
	loop := "closed loop"
	if s.Model == "open" {
		loop = fmt.Sprintf("open loop at %s/s", num(s.Rate))
	}
	switch s.Scenario {
	case loadgen.Churn:
		what := "RETR"
		if s.Size > 0 {
			what = fmt.Sprintf("RETR of %s", bytesStr(float64(s.Size)))
		}
		if _, ok := r.Ops["list"]; ok {
			what = "LIST"
		}
		fmt.Fprintf(&b, "%s passive cycles/s (PASV, data connect, %s, 226) over %s for %s, %s", num(r.Totals.Rate), what, sess, secs(r.Duration), loop)
	case loadgen.Retr, loadgen.Stor:
		fmt.Fprintf(&b, "%s moved %s at %s/s over %s for %s", s.Scenario, bytesStr(float64(r.Totals.Bytes)), bytesStr(r.Totals.Throughput), sess, secs(r.Duration))
		if ps := r.PerSession; ps != nil && ps.Sessions > 1 {
			fmt.Fprintf(&b, " (per session %s–%s/s)", bytesStr(ps.MinBps), bytesStr(ps.MaxBps))
		}
		fmt.Fprintf(&b, ", %s", loop)
	default:
		fmt.Fprintf(&b, "%s: %s operations/s over %s for %s, %s", s.Scenario, num(r.Totals.Rate), sess, secs(r.Duration), loop)
	}
	if r.Latency.Count > 0 {
		fmt.Fprintf(&b, "; p99 %s", ms(r.Latency.P99))
		if s.Model == "open" && r.LatencyCorrected.Count > 0 {
			fmt.Fprintf(&b, " (%s corrected for coordinated omission)", ms(r.LatencyCorrected.P99))
		}
	}
	b.WriteString("; ")
	b.WriteString(errorsPhrase(r))
	if r.Interrupted {
		b.WriteString(" (interrupted)")
	}
	return b.String()
}

func exhaustHeadline(r *loadgen.Report, ex *loadgen.ExhaustSummary) string {
	var b strings.Builder
	if ex.RangeSize > 0 {
		fmt.Fprintf(&b, "pool of %s", plural(ex.RangeSize, "port"))
		if ex.BusyBefore > 0 {
			fmt.Fprintf(&b, " (%d already busy)", ex.BusyBefore)
		}
		b.WriteString(" held ")
	} else {
		b.WriteString("the server held ")
	}
	if !ex.CapacityReached {
		fmt.Fprintf(&b, "at least %s; not exhausted: stopped by %s after %s", plural(ex.Capacity, "session"), ex.StoppedBy, secs(ex.TimeToExhaust))
		if ex.ClientLimit != "" {
			fmt.Fprintf(&b, " (a limit of this machine: %s)", ex.ClientLimit)
		}
		return b.String()
	}
	fmt.Fprintf(&b, "%s; the %s ", plural(ex.Capacity, "session"), ordinal(ex.Capacity+1))
	switch ex.FailureMode {
	case "reply-4xx", "reply-5xx":
		if ex.FailureCode != 0 {
			fmt.Fprintf(&b, "got %d", ex.FailureCode)
		} else {
			fmt.Fprintf(&b, "got a %s reply", strings.TrimPrefix(ex.FailureMode, "reply-"))
		}
		if ex.FailurePhase != "" && ex.FailurePhase != "pasv" {
			fmt.Fprintf(&b, " at %s", ex.FailurePhase)
		}
	case "out-of-range":
		if ex.FailurePort != 0 {
			fmt.Fprintf(&b, "got port %d, outside %s", ex.FailurePort, ex.DeclaredRange)
		} else {
			b.WriteString("got a port outside the range")
		}
	case "session-dropped":
		b.WriteString("was dropped")
	case "timeout":
		b.WriteString("timed out")
	case "address-mismatch":
		b.WriteString("was sent to another address")
	default:
		b.WriteString("failed (" + ex.FailureMode + ")")
	}
	fmt.Fprintf(&b, " after %s; ", secs(ex.TimeToExhaust))
	if ex.Recovered {
		fmt.Fprintf(&b, "recovered in %s", secs(ex.RecoveryTime))
	} else {
		b.WriteString("did not recover")
		if ex.RecoveryLast != "" {
			fmt.Fprintf(&b, " (last probe: %s)", ex.RecoveryLast)
		}
	}
	if ex.HeldChecked > 0 && ex.HeldAlive < ex.HeldChecked {
		fmt.Fprintf(&b, "; only %d of %d held sessions survived", ex.HeldAlive, ex.HeldChecked)
	}
	return b.String()
}

func errorsPhrase(r *loadgen.Report) string {
	if r.Totals.Errors == 0 {
		return "no errors"
	}
	var parts []string
	for _, e := range r.Errors {
		parts = append(parts, fmt.Sprintf("%s ×%s", e.Class, num(float64(e.Count))))
	}
	return fmt.Sprintf("%s (%s)", plural(int(r.Totals.Errors), "error"), strings.Join(parts, ", "))
}

// ---- page model

type htmlPage struct {
	Title     string
	Runs      []htmlRunView
	Settings  []settingRow
	Charts    []htmlChart
	Latency   []latencyRow
	Errors    []errorRow
	Exhaust   []settingRow
	Names     []string
	Ports     []string
	MultiRuns bool
}

type htmlRunView struct {
	Name, Headline, Banner, Command, Color string
}

type settingRow struct {
	Name   string
	Values []string
}

type htmlChart struct {
	ID, Caption string
	SVG         template.HTML
	Wide        bool
}

type latencyRow struct {
	Run, Name                                  string
	Count                                      int64
	P50, P90, P99, P999, P9999, Max, Mean, Min string
}

type errorRow struct {
	Run, Class, Count, First, Phase, Codes, Reply string
	Client                                        bool
}

func buildPage(runs []Run) htmlPage {
	p := htmlPage{MultiRuns: len(runs) > 1}
	scen := map[string]bool{}
	for i, r := range runs {
		rep := r.Report
		scen[rep.Settings.Scenario] = true
		p.Names = append(p.Names, r.Name)
		banner := rep.Settings.Banner
		if banner == "" && rep.Exhaust != nil {
			banner = rep.Exhaust.Banner
		}
		p.Runs = append(p.Runs, htmlRunView{Name: r.Name, Headline: Headline(rep), Banner: banner, Command: rep.Settings.Command, Color: runColor(i)})
	}
	var sc []string
	for s := range scen {
		sc = append(sc, s)
	}
	sort.Strings(sc)
	p.Title = "ftpload " + strings.Join(sc, "/") + " report"
	p.Settings = settingsRows(runs)
	p.Exhaust = exhaustRows(runs)
	p.Latency = latencyRows(runs)
	p.Errors = errorRows(runs)
	p.Charts = buildCharts(runs)
	for _, r := range runs {
		p.Ports = append(p.Ports, portsCaption(r))
	}
	safePage(&p)
	return p
}

// safePage escapes what came from a server (banner, replies, error texts)
// or a saved report: html/template escapes markup, TermSafe the control
// characters and bytes that are not UTF-8. A command line is shown
// without its password.
func safePage(p *htmlPage) {
	for i := range p.Runs {
		r := &p.Runs[i]
		r.Name, r.Headline, r.Banner = loadgen.TermSafe(r.Name), loadgen.TermSafe(r.Headline), loadgen.TermSafe(r.Banner)
		r.Command = loadgen.TermSafe(loadgen.RedactURLs(r.Command))
	}
	for _, rows := range [][]settingRow{p.Settings, p.Exhaust} {
		for _, row := range rows {
			for j := range row.Values {
				row.Values[j] = loadgen.TermSafe(row.Values[j])
			}
		}
	}
	for i := range p.Errors {
		e := &p.Errors[i]
		e.Run, e.Class, e.Phase, e.Reply = loadgen.TermSafe(e.Run), loadgen.TermSafe(e.Class), loadgen.TermSafe(e.Phase), loadgen.TermSafe(e.Reply)
	}
	for i := range p.Ports {
		p.Ports[i] = loadgen.TermSafe(p.Ports[i])
	}
}

func settingsRows(runs []Run) []settingRow {
	type field struct {
		name string
		get  func(*loadgen.Report) string
	}
	fields := []field{
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
	var rows []settingRow
	for _, f := range fields {
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

func exhaustRows(runs []Run) []settingRow {
	has := false
	for _, r := range runs {
		has = has || r.Report.Exhaust != nil
	}
	if !has {
		return nil
	}
	get := func(f func(*loadgen.ExhaustSummary) string) []string {
		var out []string
		for _, r := range runs {
			if r.Report.Exhaust == nil {
				out = append(out, "")
				continue
			}
			out = append(out, f(r.Report.Exhaust))
		}
		return out
	}
	rows := []settingRow{
		{"capacity", get(func(e *loadgen.ExhaustSummary) string {
			s := strconv.Itoa(e.Capacity)
			if !e.CapacityReached {
				s = "≥ " + s + " (not reached: stopped by " + e.StoppedBy + ")"
			}
			if e.RangeSize > 0 {
				s += fmt.Sprintf(" of %d declared (%s)", e.RangeSize, e.DeclaredRange)
			}
			return s
		})},
		{"busy before the run", get(func(e *loadgen.ExhaustSummary) string {
			if e.BusyBefore < 0 {
				return "unknown"
			}
			return strconv.Itoa(e.BusyBefore)
		})},
		{"failure mode", get(func(e *loadgen.ExhaustSummary) string {
			s := e.FailureMode
			if e.FailurePhase != "" {
				s += " at " + e.FailurePhase
			}
			return s
		})},
		{"failure reply", get(func(e *loadgen.ExhaustSummary) string {
			if e.FailureReply != "" {
				return e.FailureReply
			}
			return e.FailureError
		})},
		{"failing session survives", get(func(e *loadgen.ExhaustSummary) string {
			if e.SessionSurvive == nil {
				return ""
			}
			s := "no, the session died"
			if *e.SessionSurvive {
				s = "yes"
			}
			if e.SurviveReply != "" {
				s += " (NOOP: " + e.SurviveReply + ")"
			}
			return s
		})},
		{"held sessions alive", get(func(e *loadgen.ExhaustSummary) string {
			if e.HeldChecked == 0 {
				return ""
			}
			return fmt.Sprintf("%d of %d", e.HeldAlive, e.HeldChecked)
		})},
		{"time to exhaust", get(func(e *loadgen.ExhaustSummary) string {
			return fmt.Sprintf("%s (%d sessions started)", secs(e.TimeToExhaust), e.Attempts)
		})},
		{"recovery", get(func(e *loadgen.ExhaustSummary) string {
			if e.Recovered {
				return fmt.Sprintf("%s after release (%d probes)", secs(e.RecoveryTime), e.RecoveryAttempts)
			}
			return fmt.Sprintf("not recovered (%d probes; last: %s)", e.RecoveryAttempts, e.RecoveryLast)
		})},
		{"client limit", get(func(e *loadgen.ExhaustSummary) string { return e.ClientLimit })},
	}
	var out []settingRow
	for _, r := range rows {
		for _, v := range r.Values {
			if v != "" {
				out = append(out, r)
				break
			}
		}
	}
	return out
}

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

func portsCaption(r Run) string {
	ps := r.Report.Ports
	if ps.Seen == 0 {
		return r.Name + ": no passive port advertised"
	}
	s := fmt.Sprintf("%s: %s advertised, %s distinct, %d–%d", r.Name, num(float64(ps.Seen)), num(float64(ps.Distinct)), ps.Min, ps.Max)
	if pr, err := loadgen.ParsePortRange(ps.Range); err == nil && len(ps.Counts) > 0 {
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

// ---- charts

func runColor(i int) string { return charts.Palette[i%len(charts.Palette)] }

// bucket is how long second s of the timeline lasted (the last is partial).
func bucket(r *loadgen.Report, s int) float64 {
	d := r.Duration - float64(s)
	if d > 1 || d <= 0 {
		return 1
	}
	return math.Max(d, 0.05)
}

func buildCharts(runs []Run) []htmlChart {
	var out []htmlChart
	add := func(c *charts.Chart, caption string, wide bool) {
		out = append(out, htmlChart{ID: c.ID, Caption: caption, SVG: template.HTML(c.SVG()), Wide: wide})
	}
	multi := len(runs) > 1
	name := func(r Run, what string) string {
		if multi {
			return r.Name
		}
		return what
	}
	exhaust := false
	anyBytes := false
	anyPorts := false
	for _, r := range runs {
		exhaust = exhaust || r.Report.Exhaust != nil
		anyBytes = anyBytes || r.Report.Totals.Bytes > 0
		anyPorts = anyPorts || r.Report.Ports.Seen > 0
	}

	// time axes: the whole run, not a rounded-up second
	tmax := 0.0
	for _, r := range runs {
		tmax = math.Max(tmax, r.Report.Duration)
	}
	timeAxis := charts.Axis{Label: "seconds since start", ZeroBase: true}
	if tmax > 0 {
		timeAxis.Min, timeAxis.Max = 0, tmax
	}

	// 1. held listeners / open sessions
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
		s := charts.Series{Name: name(r, held.Y.Label), Color: col, Dash: i > 0}
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
	add(held, "", true)

	// 2. operations per second
	opsTitle, opsY := "Passive cycles per second", "cycles/s"
	if exhaust {
		opsTitle, opsY = "Sessions tried per second", "sessions/s"
	} else if !scenarioIs(runs, loadgen.Churn) {
		opsTitle, opsY = "Operations per second", "ops/s"
	}
	rate := &charts.Chart{ID: "chart-rate", Title: opsTitle, Width: 440, Subtitle: "completions per second (the last second is partial)",
		X: timeAxis, Y: charts.Axis{Label: opsY, ZeroBase: true}}
	mbs := &charts.Chart{ID: "chart-mbs", Title: "Throughput", Width: 440, Subtitle: "payload over data connections",
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
		rate.Series = append(rate.Series, charts.Series{Name: name(r, opsY), Points: ops, Color: runColor(i), Dash: i > 0, Dots: true})
		if anyBytes {
			mbs.Series = append(mbs.Series, charts.Series{Name: name(r, "MB/s"), Points: mb, Color: runColor(i), Dash: i > 0, Dots: true})
		}
	}
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
	ranges       []loadgen.PortRange // the distinct declared ranges
	lo, hi       int                 // the ports declared and drawn (edge slots included)
	winLo, winHi int                 // ports shown at their place: winLo..winHi
	w            float64             // bar width: the runs share each port's unit
	edges        map[int]*portEdge   // the folded ports of every run, by edge slot
	redNamed     bool                // the red bars have their legend entry
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
		if pr, err := loadgen.ParsePortRange(ps.Range); err == nil && pr.Set() {
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
	pr, err := loadgen.ParsePortRange(ps.Range)
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
		pr, err := loadgen.ParsePortRange(ps.Range)
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

// ---- formatting

func num(v float64) string {
	if v != math.Trunc(v) && math.Abs(v) < 100 {
		if math.Abs(v) < 10 {
			return strconv.FormatFloat(v, 'f', 2, 64)
		}
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	s := strconv.FormatInt(int64(math.Round(v)), 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return num(float64(n)) + " " + what + "s"
}

func ordinal(n int) string {
	suf := "th"
	if n%100 < 11 || n%100 > 13 {
		switch n % 10 {
		case 1:
			suf = "st"
		case 2:
			suf = "nd"
		case 3:
			suf = "rd"
		}
	}
	return num(float64(n)) + suf
}

// secs formats seconds for people: "12 ms", "0.41 s", "3.0 s", "95 s".
func secs(s float64) string {
	switch {
	case s < 0:
		return "—"
	case s < 0.01:
		return strconv.FormatFloat(s*1000, 'f', 1, 64) + " ms"
	case s < 0.1:
		return strconv.FormatFloat(s*1000, 'f', 0, 64) + " ms"
	case s < 10:
		return strconv.FormatFloat(s, 'f', 2, 64) + " s"
	case s < 100:
		return strconv.FormatFloat(s, 'f', 1, 64) + " s"
	}
	return strconv.FormatFloat(s, 'f', 0, 64) + " s"
}

func ms(v float64) string {
	switch {
	case v < 1:
		return strconv.FormatFloat(v, 'f', 3, 64) + " ms"
	case v < 100:
		return strconv.FormatFloat(v, 'f', 2, 64) + " ms"
	}
	return num(math.Round(v)) + " ms"
}

func bytesStr(b float64) string {
	units := []string{"B", "kB", "MB", "GB", "TB"}
	i := 0
	for b >= 1000 && i < len(units)-1 {
		b /= 1000
		i++
	}
	if i == 0 {
		return strconv.FormatFloat(b, 'f', 0, 64) + " B"
	}
	if b < 10 {
		return strconv.FormatFloat(b, 'f', 2, 64) + " " + units[i]
	}
	return strconv.FormatFloat(b, 'f', 1, 64) + " " + units[i]
}

var htmlTmpl = template.Must(template.New("load").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}}</title>
<style>
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:1.5em;color:#1b1f24;max-width:1400px}
h1{font-size:1.4em;margin:0 0 .4em} h2{font-size:1.1em;margin:1.4em 0 .4em}
.headline{font-size:1.15em;margin:.2em 0;padding:.4em .7em;border-left:4px solid #0072b2;background:#f6f8fa}
.headline b{display:inline-block;min-width:4em}
table{border-collapse:collapse} th,td{border:1px solid #d0d7de;padding:3px 7px;text-align:left;vertical-align:top}
th{background:#f6f8fa} td.n{text-align:right;font-variant-numeric:tabular-nums}
code,pre,.reply{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:12.5px}
.reply{background:#fff8f7;white-space:pre-wrap;word-break:break-word}
.client{color:#57606a}
.charts{display:flex;flex-wrap:wrap;gap:14px}
figure{margin:0;border:1px solid #d0d7de;border-radius:4px;padding:6px;background:#fff}
figcaption{font-size:12.5px;color:#57606a;max-width:880px}
.foot{color:#57606a;font-size:12px;margin-top:2em}
</style></head><body>
<h1>{{.Title}}</h1>
<div id="headline">{{range .Runs}}<p class="headline" style="border-color:{{.Color}}">{{if $.MultiRuns}}<b>{{.Name}}</b> {{end}}{{.Headline}}</p>
{{end}}</div>
<h2>Settings</h2>
<table id="settings"><tr><th></th>{{range .Names}}<th>{{.}}</th>{{end}}</tr>
{{range .Settings}}<tr><th>{{.Name}}</th>{{range .Values}}<td>{{.}}</td>{{end}}</tr>
{{end}}<tr><th>server banner</th>{{range .Runs}}<td><code class="banner">{{.Banner}}</code></td>{{end}}</tr>
<tr><th>command</th>{{range .Runs}}<td><code>{{.Command}}</code></td>{{end}}</tr>
</table>
{{if .Exhaust}}<h2>Exhaustion</h2>
<table id="exhaust"><tr><th></th>{{range .Names}}<th>{{.}}</th>{{end}}</tr>
{{range .Exhaust}}<tr><th>{{.Name}}</th>{{range .Values}}<td>{{.}}</td>{{end}}</tr>
{{end}}</table>{{end}}
<h2>Charts</h2>
<div class="charts">
{{range .Charts}}<figure id="fig-{{.ID}}">{{.SVG}}{{if .Caption}}<figcaption>{{.Caption}}</figcaption>{{end}}{{if eq .ID "chart-ports"}}<figcaption>{{range $.Ports}}{{.}}<br>{{end}}</figcaption>{{end}}</figure>
{{end}}</div>
<h2>Errors</h2>
{{if .Errors}}<table id="errors"><tr>{{if .MultiRuns}}<th>run</th>{{end}}<th>class</th><th>count</th><th>first at</th><th>phase</th><th>codes</th><th>sample raw reply (or error)</th></tr>
{{range .Errors}}<tr class="error{{if .Client}} client{{end}}">{{if $.MultiRuns}}<td>{{.Run}}</td>{{end}}<td>{{.Class}}{{if .Client}} (this machine){{end}}</td><td class="n">{{.Count}}</td><td class="n">{{.First}}</td><td>{{.Phase}}</td><td>{{.Codes}}</td><td class="reply">{{.Reply}}</td></tr>
{{end}}</table>{{else}}<p id="errors">No errors.</p>{{end}}
<h2>Latency</h2>
{{if .Latency}}<table id="latency"><tr>{{if .MultiRuns}}<th>run</th>{{end}}<th>phase</th><th>count</th><th>min</th><th>mean</th><th>p50</th><th>p90</th><th>p99</th><th>p99.9</th><th>p99.99</th><th>max</th></tr>
{{range .Latency}}<tr>{{if $.MultiRuns}}<td>{{.Run}}</td>{{end}}<td>{{.Name}}</td><td class="n">{{.Count}}</td><td class="n">{{.Min}}</td><td class="n">{{.Mean}}</td><td class="n">{{.P50}}</td><td class="n">{{.P90}}</td><td class="n">{{.P99}}</td><td class="n">{{.P999}}</td><td class="n">{{.P9999}}</td><td class="n">{{.Max}}</td></tr>
{{end}}</table>{{else}}<p>No latency recorded.</p>{{end}}
<p class="foot">Rendered by ftpload report --html from {{range $i, $n := .Names}}{{if $i}}, {{end}}{{$n}}{{end}}. Self-contained: no scripts, no fetched resources.</p>
</body></html>
`))
