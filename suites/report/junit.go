package report

import (
	"encoding/xml"
	"os"
	"strings"

	"github.com/onsi/ginkgo/v2/reporters"

	"github.com/ftpharness/ftpharness/suites/catalog"
)

// JUnitVerdictProperty is the testcase property MarkJUnit gives every
// check: its verdict (pass, fail, warn, skip, observe, blocked).
const JUnitVerdictProperty = "ftpharness.verdict"

// MarkJUnit rewrites the JUnit report Ginkgo wrote at path so JUnit
// consumers (GitHub, GitLab test reports) see the verdicts, not only
// Ginkgo's pass/fail: each check's testcase gets the property
// ftpharness.verdict (and ftpharness.reason); a warned check's name starts
// "[WARN]" and its system-out carries the reason, an observation's
// "[OBSERVE]"; a blocked check is skipped with "blocked by X: ..."; a check
// failed by run-wide evidence while its own spec passed is a failure.
func (r Run) MarkJUnit(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var suites reporters.JUnitTestSuites
	if err := xml.Unmarshal(b, &suites); err != nil {
		return err
	}
	byID := map[string]Verdict{}
	for _, v := range r.printable().Verdicts {
		byID[v.ID] = v
	}
	suites.Failures, suites.Disabled = 0, 0
	for i := range suites.TestSuites {
		s := &suites.TestSuites[i]
		for j := range s.TestCases {
			if v, ok := byID[checkOf(s.TestCases[j].Name)]; ok {
				markCase(s, &s.TestCases[j], v)
			}
		}
		suites.Failures += s.Failures
		suites.Disabled += s.Disabled + s.Skipped
	}
	out, err := xml.MarshalIndent(suites, "  ", "    ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append([]byte(xml.Header), append(out, '\n')...), 0o644)
}

// checkOf is the catalog ID in a testcase name ("[It] PASV PASV-006
// title [labels]"), or "".
func checkOf(name string) string {
	if !strings.HasPrefix(name, "[It] ") {
		return ""
	}
	for _, f := range strings.Fields(name) {
		if _, ok := catalog.Get(f); ok {
			return f
		}
	}
	return ""
}

// markCase records v on its testcase.
func markCase(s *reporters.JUnitTestSuite, tc *reporters.JUnitTestCase, v Verdict) {
	if tc.Properties == nil {
		tc.Properties = &reporters.JUnitProperties{}
	}
	tc.Properties.Properties = append(tc.Properties.Properties, reporters.JUnitProperty{Name: JUnitVerdictProperty, Value: string(v.Result)})
	if v.Reason != "" {
		tc.Properties.Properties = append(tc.Properties.Properties, reporters.JUnitProperty{Name: "ftpharness.reason", Value: v.Reason})
	}
	passed := tc.Status == "passed"
	switch {
	case v.Result == Warn && passed:
		tc.Name = "[WARN] " + tc.Name
		tc.SystemOut = "WARN " + v.ID + ": " + v.Reason + "\n" + tc.SystemOut
	case v.Result == Observe && passed:
		tc.Name = "[OBSERVE] " + tc.Name
		tc.SystemOut = "OBSERVE " + v.ID + ": " + strings.Join(v.Observations, "\n") + "\n" + tc.SystemOut
	case v.Result == Blocked && tc.Skipped != nil:
		tc.Name = "[BLOCKED] " + tc.Name
		tc.Skipped.Message = v.Reason
	case v.Result == Fail && passed:
		// run-wide evidence from other specs failed the check
		tc.Status = "failed"
		tc.Failure = &reporters.JUnitFailure{Message: v.Reason, Type: "failed", Description: v.Reason}
		s.Failures++
	}
}
