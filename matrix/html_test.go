package matrix_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/ftpharness/ftpharness/internal/browsertest"
	"github.com/ftpharness/ftpharness/matrix"
	"github.com/ftpharness/ftpharness/suites/catalog"
	"github.com/ftpharness/ftpharness/suites/report"
)

// smallMatrix is two servers over one catalog check of each severity (and
// a few more), with every verdict kind present.
func smallMatrix(t *testing.T) matrix.Matrix {
	t.Helper()
	pick := map[catalog.Severity][]catalog.Check{}
	for _, c := range catalog.All() {
		if len(pick[c.Severity]) < 2 {
			pick[c.Severity] = append(pick[c.Severity], c)
		}
	}
	verdict := func(c catalog.Check, r report.Result, reason string) report.Verdict {
		return report.Verdict{ID: c.ID, Severity: string(c.Severity), Area: c.Area, Title: c.Title, RFC: c.Cite(), Result: r, Reason: reason, Seconds: 0.01}
	}
	var a, b []report.Verdict
	for _, sev := range []catalog.Severity{catalog.Must, catalog.Should, catalog.Interop, catalog.Observe} {
		cs := pick[sev]
		if len(cs) == 0 {
			t.Fatalf("catalog has no %s check", sev)
		}
		for i, c := range cs {
			switch sev {
			case catalog.Must:
				a = append(a, verdict(c, report.Pass, ""))
				if i == 0 {
					b = append(b, verdict(c, report.Fail, "PASV answered 421 while 3 of 20 ports were free"))
				} else {
					b = append(b, verdict(c, report.Skip, "EPSV not implemented"))
				}
			case catalog.Should:
				a = append(a, verdict(c, report.Fail, "227 advertised port 30021 outside 30000-30019"))
				b = append(b, verdict(c, report.Pass, ""))
			case catalog.Interop:
				a = append(a, verdict(c, report.Warn, "listener kept after ABOR"))
				b = append(b, verdict(c, report.Pass, ""))
			default:
				a = append(a, verdict(c, report.Observe, "passive ports picked at random"))
				b = append(b, verdict(c, report.Observe, "passive ports picked in sequence"))
			}
		}
	}
	started := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	return matrix.Matrix{
		Servers: []string{"ftpserverlib", "goftp"},
		Runs: map[string]report.Run{
			"ftpserverlib": {Schema: report.Schema, Server: "ftpserverlib", Started: started, Seconds: 1.5, Verdicts: a},
			"goftp":        {Schema: report.Schema, Server: "goftp", Started: started, Seconds: 2.5, Verdicts: b},
		},
	}
}

// TestMatrixHTMLBrowser renders matrix.html in headless Chromium: failing
// cells are there and visible, the totals too, and the CSS-only severity
// filter hides rows when its box is unchecked.
func TestMatrixHTMLBrowser(t *testing.T) {
	browsertest.Chromium(t)
	m := smallMatrix(t)
	var b bytes.Buffer
	if err := m.WriteHTML(&b); err != nil {
		t.Fatal(err)
	}
	page := b.Bytes()
	if low := strings.ToLower(b.String()); strings.Contains(low, "<script") || strings.Contains(low, "http://") || strings.Contains(low, "https://") {
		t.Error("matrix.html is not self-contained (script or remote URL)")
	}
	res := browsertest.Probe(t, page, "#matrix td.fail", "#matrix td.pass", "#matrix td.warn", "#matrix td.observe",
		"#matrix tr.must", "#matrix tr.should", "#totals td.fail", "h1", "#matrix tbody th")
	el := res.Elements
	if res.Scripts != 0 || len(res.External) != 0 {
		t.Errorf("page has %d scripts and external resources %v", res.Scripts, res.External)
	}
	// ftpserverlib fails both should checks, goftp one must check
	if f := el["#matrix td.fail"]; f.Count != 3 || f.Visible != 3 || f.Text != "fail" {
		t.Errorf("failing cells: %d present, %d visible, first %q; want 3 visible", f.Count, f.Visible, f.Text)
	}
	for _, s := range []string{"#matrix td.pass", "#matrix td.warn", "#matrix td.observe", "#matrix tbody th"} {
		if el[s].Visible == 0 {
			t.Errorf("%s: none visible", s)
		}
	}
	if tf := el["#totals td.fail"]; tf.Visible != 2 || tf.Text != "2" {
		t.Errorf("per-server fail totals: %d visible, first %q", tf.Visible, tf.Text)
	}
	if h := el["h1"]; h.Text != "ftpharness conformance matrix" {
		t.Errorf("title %q", h.Text)
	}
	browsertest.Screenshot(t, page, "matrix.png", 1100, res.Height+20)

	// untick "must": its rows disappear, the others stay
	unticked := bytes.Replace(page, []byte(`id="f-must" checked`), []byte(`id="f-must"`), 1)
	res = browsertest.Probe(t, unticked, "#matrix tr.must", "#matrix tr.should")
	if got := res.Elements["#matrix tr.must"]; got.Count == 0 || got.Visible != 0 {
		t.Errorf("severity filter: with must unticked %d of %d must rows still visible", got.Visible, got.Count)
	}
	if got := res.Elements["#matrix tr.should"]; got.Visible == 0 {
		t.Error("severity filter: should rows hidden too")
	}
}
