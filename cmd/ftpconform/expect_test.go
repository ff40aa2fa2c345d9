package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ftpharness/ftpharness/suites/report"
)

func writeYAML(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// Later --expect files override earlier ones per check; a verdict that
// differs gives exit 4 and names the check; a matching run gives 0; checks a
// label filter left out are not mismatches.
func TestExpectLayersAndCompares(t *testing.T) {
	dir := t.TempDir()
	base := writeYAML(t, dir, "srv.yaml", "server: srv\nchecks:\n  PASV-010: {result: pass, reason: local run sees 127.0.0.2}\n  PASV-002: {result: warn, reason: no parentheses}\n")
	over := writeYAML(t, dir, "over.yaml", "server: srv\nchecks:\n  PASV-010: {result: fail, reason: docker-proxy hides the foreign source}\n")
	*expectFiles = base + "," + over
	defer func() { *expectFiles = "" }()
	e, err := loadExpect(*expectFiles)
	if err != nil {
		t.Fatal(err)
	}
	if got := e.Expected("PASV-010"); got != report.Fail {
		t.Fatalf("PASV-010 expected %s after layering, want fail", got)
	}
	if got := e.Expected("PASV-002"); got != report.Warn {
		t.Fatalf("PASV-002 expected %s, want warn (kept from the base file)", got)
	}
	run := report.Run{Server: "srv", Verdicts: []report.Verdict{
		{ID: "PASV-010", Result: report.Fail},
		{ID: "PASV-002", Result: report.Warn},
		{ID: "PASV-001", Result: report.Pass},
		{ID: "XFER-001", Result: report.Skip, Reason: "not selected"},
	}}
	var out bytes.Buffer
	if code := checkExpect(&out, run, e, true); code != 0 {
		t.Fatalf("matching run: exit %d, want 0\n%s", code, out.String())
	}
	run.Verdicts[2].Result = report.Fail
	run.Verdicts[2].Reason = "227 malformed"
	out.Reset()
	if code := checkExpect(&out, run, e, true); code != exitUnexpected {
		t.Fatalf("differing run: exit %d, want %d", code, exitUnexpected)
	}
	if !strings.Contains(out.String(), "PASV-001: expected pass, got fail (227 malformed)") {
		t.Fatalf("mismatch not named:\n%s", out.String())
	}
	// An unfocused run that lacks an expected check reports it absent.
	out.Reset()
	short := report.Run{Server: "srv", Verdicts: run.Verdicts[2:3]}
	short.Verdicts[0].Result = report.Pass
	if code := checkExpect(&out, short, e, false); code != exitUnexpected || !strings.Contains(out.String(), "absent") {
		t.Fatalf("absent checks not reported (exit %d):\n%s", code, out.String())
	}
}

func TestExpectBadFile(t *testing.T) {
	dir := t.TempDir()
	p := writeYAML(t, dir, "bad.yaml", "server: x\nchecks:\n  NOPE-001: {result: pass, reason: r}\n")
	if _, err := loadExpect(p); err == nil || !strings.Contains(err.Error(), "NOPE-001") {
		t.Fatalf("unknown check not refused: %v", err)
	}
}

// --verdicts compares a verdicts.json written elsewhere (the harness
// container's) without running anything.
func TestCompareVerdictsFile(t *testing.T) {
	dir := t.TempDir()
	exp := writeYAML(t, dir, "srv.yaml", "server: srv\nchecks:\n  PASV-002: {result: warn, reason: no parentheses}\n")
	e, err := loadExpect(exp)
	if err != nil {
		t.Fatal(err)
	}
	run := report.Run{Schema: report.Schema, Verdicts: []report.Verdict{{ID: "PASV-002", Result: report.Warn}, {ID: "PASV-001", Result: report.Pass}}}
	var b bytes.Buffer
	if err := run.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	p := writeYAML(t, dir, "verdicts.json", b.String())
	if code := compareFile(p, e); code != 0 {
		t.Fatalf("matching verdicts file: exit %d", code)
	}
	run.Verdicts[0].Result = report.Pass
	b.Reset()
	_ = run.WriteJSON(&b)
	p = writeYAML(t, dir, "verdicts2.json", b.String())
	if code := compareFile(p, e); code != exitUnexpected {
		t.Fatalf("differing verdicts file: exit %d, want %d", code, exitUnexpected)
	}
	if code := compareFile(filepath.Join(dir, "missing.json"), e); code != 2 {
		t.Fatalf("missing file: exit %d, want 2", code)
	}
}
