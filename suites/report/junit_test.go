package report

import (
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onsi/ginkgo/v2/reporters"
	"github.com/onsi/ginkgo/v2/types"
)

// JUnit consumers see the project's verdicts (issue 16 §5): a warning or an
// observation is not a plain pass, a blocked check is skipped naming the
// blocking check, a check failed by run-wide evidence is a failure;
// failures stay failures (before: Ginkgo's pass/fail only).
func TestJUnitCarriesVerdicts(t *testing.T) {
	withEntry := func(sr types.SpecReport, name, value string) types.SpecReport {
		sr.ReportEntries = append(sr.ReportEntries, types.ReportEntry{Name: name, Value: types.WrapEntryValue(value)})
		return sr
	}
	r := types.Report{SuiteDescription: "ftpharness conformance", SpecReports: []types.SpecReport{
		withEntry(spec("PASV-008 x", types.SpecStatePassed, ""), entryWarn, "PASV x answered 227"),
		withEntry(spec("PASV-009 x", types.SpecStatePassed, ""), entryObserve, "PASV during RETR: deferred"),
		spec("PASV-004 x", types.SpecStateSkipped, "blocked by RANGE-007: PASV answered 425"),
		spec("RANGE-007 x", types.SpecStateFailed, "PASV answered 425"),
		spec("XFER-001 x", types.SpecStatePassed, ""),
		itSpec("REPLY-006 x", types.SpecStatePassed),
		itSpec("XFER-002 x", types.SpecStatePassed, "226 after NOOP"),
	}}
	path := filepath.Join(t.TempDir(), "junit.xml")
	if err := reporters.GenerateJUnitReport(r, path); err != nil {
		t.Fatal(err)
	}
	if err := FromGinkgo(r).MarkJUnit(path); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var got reporters.JUnitTestSuites
	if err := xml.Unmarshal(b, &got); err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	cases := map[string]reporters.JUnitTestCase{}
	for _, tc := range got.TestSuites[0].TestCases {
		cases[checkOf(strings.TrimPrefix(strings.TrimPrefix(strings.TrimPrefix(tc.Name, "[WARN] "), "[OBSERVE] "), "[BLOCKED] "))] = tc
	}
	verdict := func(tc reporters.JUnitTestCase) string { return tc.Properties.WithName(JUnitVerdictProperty) }
	if tc := cases["PASV-008"]; !strings.HasPrefix(tc.Name, "[WARN] ") || verdict(tc) != "warn" || !strings.Contains(tc.SystemOut, "PASV x answered 227") {
		t.Errorf("warned check: %+v", tc)
	}
	if tc := cases["PASV-009"]; !strings.HasPrefix(tc.Name, "[OBSERVE] ") || verdict(tc) != "observe" {
		t.Errorf("observation: %+v", tc)
	}
	if tc := cases["PASV-004"]; tc.Skipped == nil || tc.Skipped.Message != "blocked by RANGE-007: PASV answered 425" || verdict(tc) != "blocked" {
		t.Errorf("blocked check: %+v", tc)
	}
	if tc := cases["RANGE-007"]; tc.Failure == nil || verdict(tc) != "fail" {
		t.Errorf("failure: %+v", tc)
	}
	if tc := cases["REPLY-006"]; tc.Failure == nil || tc.Status != "failed" || !strings.Contains(tc.Failure.Message, "226 after NOOP") {
		t.Errorf("run-wide failure: %+v", tc)
	}
	if tc := cases["XFER-001"]; tc.Failure != nil || tc.Skipped != nil || verdict(tc) != "pass" || strings.HasPrefix(tc.Name, "[") && !strings.HasPrefix(tc.Name, "[It]") {
		t.Errorf("pass: %+v", tc)
	}
	if got.Failures != 2 || got.TestSuites[0].Failures != 2 {
		t.Errorf("failures: %d / %d, want 2", got.Failures, got.TestSuites[0].Failures)
	}
}
