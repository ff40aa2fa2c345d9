package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ftpharness/ftpharness/loadgen"
)

func writeReportJSON(t *testing.T, path string, ops int) {
	t.Helper()
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	m := loadgen.NewMetrics(start)
	for i := 0; i < ops; i++ {
		r := &loadgen.Result{Op: "cycle", Start: start.Add(time.Duration(i) * 10 * time.Millisecond), Bytes: 100, Port: 30000 + i%5, Active: 2}
		r.End = r.Start.Add(3 * time.Millisecond)
		r.SetPhase(loadgen.PhasePasv, time.Millisecond)
		m.Add(r)
	}
	m.Close()
	rep := m.Report(loadgen.Settings{Scenario: loadgen.Churn, Model: "closed", Sessions: 2, PasvRange: "30000-30009", Banner: "220 test"})
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := loadgen.NewJSONReporter(rep)(f); err != nil {
		t.Fatal(err)
	}
}

func TestReportHTML(t *testing.T) {
	dir := t.TempDir()
	a, b, out := filepath.Join(dir, "before.json"), filepath.Join(dir, "after.json"), filepath.Join(dir, "cmp.html")
	writeReportJSON(t, a, 50)
	writeReportJSON(t, b, 80)
	var stdout, stderr bytes.Buffer
	if code := run([]string{"report", a, "--html", out, b}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	page, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	s := string(page)
	if n := strings.Count(s, `class="headline"`); n != 2 {
		t.Errorf("%d headlines, want one per run", n)
	}
	if !strings.Contains(s, "<b>before</b>") || !strings.Contains(s, "<b>after</b>") || strings.Contains(s, "<script") {
		t.Error("page lacks the run names or has a script")
	}
	if !strings.Contains(stdout.String(), "== "+a) || !strings.Contains(stdout.String(), "== "+b) {
		t.Errorf("text output does not name both files:\n%s", stdout.String())
	}
	if code := run([]string{"report", "--csv", filepath.Join(dir, "x.csv"), a, b}, &stdout, &stderr); code != exitUsage {
		t.Errorf("--csv with two files: exit %d, want %d", code, exitUsage)
	}
}
