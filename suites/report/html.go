package report

import (
	"html/template"
	"io"
)

// WriteHTML is a reporter: one self-contained page for one server's run —
// totals, then every failure and warning with its reason and session
// transcript, then the full verdict list.
func (r Run) WriteHTML(w io.Writer) error {
	r = r.printable()
	var problems []Verdict
	for _, v := range r.Verdicts {
		if v.Result == Fail || v.Result == Warn {
			problems = append(problems, v)
		}
	}
	counts := map[string]int{}
	for _, res := range []Result{Pass, Fail, Warn, Skip, Observe, Blocked} {
		counts[string(res)] = r.Counts()[res]
	}
	return runTmpl.Execute(w, map[string]any{"Run": r, "Counts": counts, "Problems": problems})
}

var runTmpl = template.Must(template.New("run").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ftpharness verdicts {{.Run.Server}}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#1b1f24}
table{border-collapse:collapse} th,td{border:1px solid #d0d7de;padding:3px 6px;text-align:left;vertical-align:top}
th{background:#f6f8fa} .pass{background:#dafbe1}.fail{background:#ffd8d3}.warn{background:#fff1c2}
.skip{background:#eaeef2}.blocked{background:#e8e0f5}.observe{background:#ddf4ff} pre{background:#f6f8fa;padding:.6em;overflow:auto;font-size:12px}
.id{font-family:ui-monospace,monospace}
</style></head><body>
<h1>ftpharness verdicts{{if .Run.Server}} for {{.Run.Server}}{{end}}</h1>
<p id="target">{{.Run.Target}}</p>
<p id="totals"><span class="pass">{{index .Counts "pass"}} pass</span> · <span class="fail">{{index .Counts "fail"}} fail</span> ·
<span class="warn">{{index .Counts "warn"}} warn</span> · <span class="skip">{{index .Counts "skip"}} skip</span> ·
<span class="observe">{{index .Counts "observe"}} observe</span> · <span class="blocked">{{index .Counts "blocked"}} blocked</span> ({{printf "%.1f" .Run.Seconds}} s)</p>
{{if .Problems}}<h2>Failures and warnings</h2>{{range .Problems}}
<section class="problem {{.Result}}"><h3><span class="id">{{.ID}}</span> {{.Result}} — {{.Title}}</h3>
<p>{{.RFC}} ({{.Severity}})</p><p>{{.Reason}}</p>{{if .Transcript}}<pre>{{.Transcript}}</pre>{{end}}</section>
{{end}}{{end}}
<h2>All checks</h2>
<table><tr><th>check</th><th>severity</th><th>result</th><th>reason</th></tr>
{{range .Run.Verdicts}}<tr><td class="id">{{.ID}}</td><td>{{.Severity}}</td><td class="{{.Result}}">{{.Result}}</td><td>{{.Reason}}{{range .Observations}}<br>{{.}}{{end}}</td></tr>
{{end}}</table></body></html>
`))
