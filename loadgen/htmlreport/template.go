package htmlreport

import (
	"html/template"
)

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
