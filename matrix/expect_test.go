package matrix

import (
	"testing"

	"github.com/ftpharness/ftpharness/suites/report"
)

// A mismatch counts only when a second run repeats it.
func TestRepeated(t *testing.T) {
	e := Expectations{Server: "x", Checks: map[string]Expectation{"PASV-002": {Result: report.Warn, Reason: "r"}}}
	first := report.Run{Verdicts: []report.Verdict{{ID: "PASV-001", Result: report.Fail}, {ID: "PASV-002", Result: report.Pass}}}
	mm := Compare(first, e)
	if len(mm) != 2 {
		t.Fatalf("first run: %v", mm)
	}
	again := report.Run{Verdicts: []report.Verdict{{ID: "PASV-001", Result: report.Fail}, {ID: "PASV-002", Result: report.Warn}}}
	repeated, flaky := Repeated(mm, again, e)
	if len(repeated) != 1 || repeated[0].ID != "PASV-001" || len(flaky) != 1 || flaky[0].ID != "PASV-002" {
		t.Fatalf("repeated %v flaky %v", repeated, flaky)
	}
}
