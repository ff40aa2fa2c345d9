package matrix

import (
	"html/template"
	"io"

	"github.com/ftpharness/ftpharness/suites/catalog"
	"github.com/ftpharness/ftpharness/suites/report"
)

type htmlCell struct {
	Result report.Result
	Reason string
}

type htmlRow struct {
	Check catalog.Check
	Cells []htmlCell
}

type htmlArea struct {
	Name string
	Rows []htmlRow
}

type htmlTotals struct {
	Server string
	Counts map[string]int
	Error  string
}

// WriteHTML is a reporter: one self-contained page (inline CSS, no
// scripts or fetched resources) with servers as columns, checks as rows
// grouped by area, a colour per verdict, the reason on hover and in an
// expandable detail, per-server totals and a severity filter that works
// without JavaScript (CSS :checked selectors).
func (m Matrix) WriteHTML(w io.Writer) error {
	var areas []htmlArea
	idx := map[string]int{}
	cells := map[string]map[string]report.Verdict{}
	for s, run := range m.Runs {
		for _, v := range run.Verdicts {
			if cells[v.ID] == nil {
				cells[v.ID] = map[string]report.Verdict{}
			}
			cells[v.ID][s] = v
		}
	}
	for _, c := range catalog.All() {
		row, ok := cells[c.ID]
		if !ok {
			continue
		}
		r := htmlRow{Check: c}
		for _, s := range m.Servers {
			v, ok := row[s]
			if !ok {
				r.Cells = append(r.Cells, htmlCell{Result: "none"})
				continue
			}
			r.Cells = append(r.Cells, htmlCell{Result: v.Result, Reason: v.Reason})
		}
		i, ok := idx[c.Prefix()]
		if !ok {
			i = len(areas)
			idx[c.Prefix()] = i
			areas = append(areas, htmlArea{Name: c.Prefix()})
		}
		areas[i].Rows = append(areas[i].Rows, r)
	}
	var totals []htmlTotals
	for _, s := range m.Servers {
		t := htmlTotals{Server: s, Error: m.Errors[s]}
		if run, ok := m.Runs[s]; ok {
			t.Counts = stringCounts(run.Counts())
		}
		totals = append(totals, t)
	}
	return matrixTmpl.Execute(w, map[string]any{"Servers": m.Servers, "Areas": areas, "Totals": totals, "Cols": len(m.Servers) + 2})
}

// Style shared by the matrix and the per-server page.
const pageCSS = `
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:1.5em;color:#1b1f24}
h1{font-size:1.4em;margin:0 0 .3em} h2{font-size:1.1em;margin:1.2em 0 .3em}
table{border-collapse:collapse} th,td{border:1px solid #d0d7de;padding:3px 6px;text-align:left;vertical-align:top}
th{background:#f6f8fa;position:sticky;top:0}
td.r{text-align:center;min-width:5.5em;font-weight:600}
.pass{background:#dafbe1;color:#116329}.fail{background:#ffd8d3;color:#a40e26}
.warn{background:#fff1c2;color:#7d4e00}.skip{background:#eaeef2;color:#57606a}
.observe{background:#ddf4ff;color:#0a3069}.none{background:#fff;color:#8c959f}
.sev{font-size:.85em;color:#57606a} .id{font-family:ui-monospace,monospace;white-space:nowrap}
details summary{cursor:pointer} pre{background:#f6f8fa;padding:.6em;overflow:auto;font-size:12px}
.legend span{display:inline-block;padding:1px 8px;margin-right:4px;border-radius:3px}
.filters label{margin-right:1em}
`

var matrixTmpl = template.Must(template.New("m").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ftpharness conformance matrix</title>
<style>` + pageCSS + `
#f-must:not(:checked)~table tr.must,#f-should:not(:checked)~table tr.should,
#f-interop:not(:checked)~table tr.interop,#f-observe:not(:checked)~table tr.observe{display:none}
tr.observe{background:none;color:inherit}
</style></head><body>
<h1>ftpharness conformance matrix</h1>
<p>Each row is a catalog check, each column a server. MUST/SHOULD rules <b>fail</b>, INTEROP rules
<b>warn</b>, OBSERVE rules are <b>recorded</b>. Hover a cell for the reason.</p>
<p class="legend"><span class="pass">pass</span><span class="fail">fail</span><span class="warn">warn</span><span class="skip">skip</span><span class="observe">observe</span></p>
<h2>Totals</h2>
<table id="totals"><tr><th>server</th><th>pass</th><th>fail</th><th>warn</th><th>skip</th><th>observe</th></tr>
{{range .Totals}}<tr><td>{{.Server}}</td>{{if .Error}}<td colspan="5" class="fail">{{.Error}}</td>{{else}}<td class="r pass">{{index .Counts "pass"}}</td><td class="r fail">{{index .Counts "fail"}}</td><td class="r warn">{{index .Counts "warn"}}</td><td class="r skip">{{index .Counts "skip"}}</td><td class="r observe">{{index .Counts "observe"}}</td>{{end}}</tr>
{{end}}</table>
<h2>Checks</h2>
<div class="filters">Severity:
<input type="checkbox" id="f-must" checked><label for="f-must">must</label>
<input type="checkbox" id="f-should" checked><label for="f-should">should</label>
<input type="checkbox" id="f-interop" checked><label for="f-interop">interop</label>
<input type="checkbox" id="f-observe" checked><label for="f-observe">observe</label>
<table id="matrix"><thead><tr><th>check</th><th>severity</th>{{range .Servers}}<th>{{.}}</th>{{end}}</tr></thead>
{{range .Areas}}<tbody><tr><th colspan="{{$.Cols}}">{{.Name}}</th></tr>
{{range .Rows}}<tr class="{{.Check.Severity}}"><td><details><summary class="id">{{.Check.ID}}{{if .Check.Star}} ★{{end}}</summary>{{.Check.Title}}<br><span class="sev">{{.Check.Cite}}</span>
<ul>{{range $i, $c := .Cells}}{{if $c.Reason}}<li><b>{{index $.Servers $i}}</b>: {{$c.Reason}}</li>{{end}}{{end}}</ul></details></td>
<td class="sev">{{.Check.Severity}}</td>{{range .Cells}}<td class="r {{.Result}}" title="{{.Reason}}">{{.Result}}</td>{{end}}</tr>
{{end}}</tbody>{{end}}</table></div>
</body></html>
`))

func stringCounts(m map[report.Result]int) map[string]int {
	out := map[string]int{}
	for _, r := range []report.Result{report.Pass, report.Fail, report.Warn, report.Skip, report.Observe, report.Blocked} {
		out[string(r)] = m[r]
	}
	return out
}
