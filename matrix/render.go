package matrix

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/ftpharness/ftpharness/suites/catalog"
	"github.com/ftpharness/ftpharness/suites/report"
)

// WriteJSON is a reporter: the whole matrix as JSON.
func (m Matrix) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(m)
}

var symbol = map[report.Result]string{
	report.Pass: "pass", report.Fail: "**FAIL**", report.Warn: "warn", report.Skip: "skip", report.Observe: "obs", report.Blocked: "blocked",
}

// WriteMarkdown is a reporter: servers as columns, checks as rows, a
// verdict per cell, the reasons below, and per-server totals.
func (m Matrix) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	b.WriteString("# ftpharness conformance matrix\n\n")
	b.WriteString("Rows are catalog checks, columns are servers. `pass`, `**FAIL**` (MUST/SHOULD broken), `warn` (INTEROP broken), `skip` (reason below), `obs` (OBSERVE: recorded). Reasons for every non-pass cell follow the table.\n\n")
	b.WriteString("| check | sev |")
	for _, s := range m.Servers {
		b.WriteString(" " + s + " |")
	}
	b.WriteString("\n|---|---|")
	for range m.Servers {
		b.WriteString("---|")
	}
	b.WriteString("\n")
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
		star := ""
		if c.Star {
			star = " ★"
		}
		fmt.Fprintf(&b, "| %s%s | %s |", c.ID, star, c.Severity)
		for _, s := range m.Servers {
			v, ok := row[s]
			if !ok {
				b.WriteString(" – |")
				continue
			}
			b.WriteString(" " + symbol[v.Result] + " |")
		}
		b.WriteString("\n")
	}
	b.WriteString("| **totals** (pass/fail/warn/skip/obs) | |")
	for _, s := range m.Servers {
		if run, ok := m.Runs[s]; ok {
			n := run.Counts()
			fmt.Fprintf(&b, " %d/%d/%d/%d/%d |", n[report.Pass], n[report.Fail], n[report.Warn], n[report.Skip], n[report.Observe])
		} else {
			b.WriteString(" error |")
		}
	}
	b.WriteString("\n\n## Reasons\n")
	for _, s := range m.Servers {
		fmt.Fprintf(&b, "\n### %s\n\n", s)
		if e, ok := m.Errors[s]; ok {
			fmt.Fprintf(&b, "Run failed: %s\n", e)
			continue
		}
		for _, v := range m.Runs[s].Verdicts {
			if v.Result == report.Pass {
				continue
			}
			fmt.Fprintf(&b, "- **%s** %s — %s\n", v.ID, v.Result, escape(v.Reason))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func escape(s string) string {
	s = strings.ReplaceAll(s, "|", "\\|")
	return strings.ReplaceAll(s, "\n", " ")
}
