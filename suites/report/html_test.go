package report_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/ftpharness/ftpharness/internal/browsertest"
	"github.com/ftpharness/ftpharness/suites/report"
)

// TestRunHTMLBrowser renders one server's page in headless Chromium: the
// failure is shown with its reason and transcript, passes only in the
// full list.
func TestRunHTMLBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser; skipped with -short")
	}
	browsertest.Chromium(t)
	run := report.Run{Schema: report.Schema, Server: "goftp", Target: "ftp://ftpuser@127.0.0.1:2121 (goftp)",
		Started: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Seconds: 3.2,
		Verdicts: []report.Verdict{
			{ID: "PASV-001", Severity: "must", Area: "pasv", Title: "PASV answers 227 with h1,h2,h3,h4,p1,p2", RFC: "RFC 959 §4.1.2", Result: report.Pass},
			{ID: "PASV-009", Severity: "should", Area: "pasv", Title: "Advertised port lies in the declared range", RFC: "RFC 959 §4.1.2", Result: report.Fail,
				Reason:     "227 advertised port 30021, outside 30000-30019",
				Transcript: "> PASV\r\n< 227 Entering Passive Mode (127,0,0,1,117,85)\r\n"},
			{ID: "EPSV-003", Severity: "interop", Area: "epsv", Title: "EPSV ALL is accepted", RFC: "RFC 2428 §4", Result: report.Warn, Reason: "502 Command not implemented"},
			{ID: "RANGE-004", Severity: "observe", Area: "range", Title: "Port allocation order", Result: report.Observe, Observations: []string{"sequential"}},
		}}
	var b bytes.Buffer
	if err := run.WriteHTML(&b); err != nil {
		t.Fatal(err)
	}
	page := b.Bytes()
	res := browsertest.Probe(t, page, "section.problem.fail", "section.problem.warn", "section.problem pre", "td.fail", "#totals")
	el := res.Elements
	if res.Scripts != 0 || len(res.External) != 0 {
		t.Errorf("page has %d scripts and external resources %v", res.Scripts, res.External)
	}
	if f := el["section.problem.fail"]; f.Visible != 1 || !strings.Contains(f.Text, "PASV-009") || !strings.Contains(f.Text, "outside 30000-30019") {
		t.Errorf("failure section (%d visible): %q", f.Visible, f.Text)
	}
	if p := el["section.problem pre"]; p.Visible != 1 || !strings.Contains(p.Text, "227 Entering Passive Mode") {
		t.Errorf("transcript (%d visible): %q", p.Visible, p.Text)
	}
	if el["section.problem.warn"].Visible != 1 || el["td.fail"].Visible != 1 {
		t.Errorf("warn sections %d, failing cells %d; want 1 and 1", el["section.problem.warn"].Visible, el["td.fail"].Visible)
	}
	if tt := el["#totals"]; !strings.Contains(tt.Text, "1 fail") || !strings.Contains(tt.Text, "1 pass") {
		t.Errorf("totals: %q", tt.Text)
	}
	browsertest.Screenshot(t, page, "report-goftp.png", 1000, res.Height+20)
}
