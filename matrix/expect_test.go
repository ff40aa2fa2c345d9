package matrix

import (
	"os"
	"path/filepath"
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

// Layers go over the base in order; a layer missing for the server is
// skipped.
func TestLoadLayers(t *testing.T) {
	dir := t.TempDir()
	write := func(sub, body string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, sub, "x.yaml"), []byte("server: x\nchecks:\n"+body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("base", "  TLS-001: {result: skip, reason: plaintext}\n  TLS-014: {result: skip, reason: plaintext}\n")
	write("tls", "  TLS-001: {result: pass, reason: explicit}\n")
	write("implicit", "  TLS-001: {result: skip, reason: no AUTH TLS}\n  TLS-014: {result: observe, reason: implicit}\n")
	e, err := LoadLayers("x", filepath.Join(dir, "base"), filepath.Join(dir, "tls"), filepath.Join(dir, "none"), filepath.Join(dir, "implicit"))
	if err != nil {
		t.Fatal(err)
	}
	if e.Expected("TLS-001") != report.Skip || e.Expected("TLS-014") != report.Observe {
		t.Fatalf("layers not applied in order: %+v", e.Checks)
	}
	if _, err := LoadLayers("x"); err == nil {
		t.Fatal("LoadLayers without a directory succeeded")
	}
}

// CompareSelected compares what a filtered run selected: neither the
// skips "not selected" nor the expectations of checks it did not run.
func TestCompareSelected(t *testing.T) {
	e := Expectations{Server: "x", Checks: map[string]Expectation{
		"XFER-012": {Result: report.Warn, Reason: "outside the filter"},
		"TLS-001":  {Result: report.Pass, Reason: "explicit"},
	}}
	run := report.Run{Verdicts: []report.Verdict{
		{ID: "ACT-010", Result: report.Skip, Reason: "not selected"},
		{ID: "TLS-001", Result: report.Skip, Reason: "target is implicit FTPS"},
		{ID: "PASV-001", Result: report.Pass},
	}}
	mm := CompareSelected(run, e)
	if len(mm) != 1 || mm[0].ID != "TLS-001" || len(Compare(run, e)) != 3 {
		t.Fatalf("CompareSelected: %v", mm)
	}
}
