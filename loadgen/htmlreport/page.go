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
	"sort"
	"strings"

	"github.com/ftpharness/ftpharness/loadgen"
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
