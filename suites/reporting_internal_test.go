package suites

import (
	"strings"
	"testing"

	"github.com/onsi/ginkgo/v2/types"
)

// redactReport masks the password in everything a report file is written
// from, in its JSON-escaped spelling too, and keeps the rest.
func TestRedactReport(t *testing.T) {
	const pw = `Zq7"<secret>`
	r := types.Report{SuiteDescription: "s", SpecReports: types.SpecReports{{
		LeafNodeText:               "SEQ-004 x",
		State:                      types.SpecStateFailed,
		Failure:                    types.Failure{Message: "PASS " + pw + ": no reply"},
		CapturedGinkgoWriterOutput: "> raw \"USER u\\rPASS " + pw + "\\r\\n\"",
		ReportEntries:              types.ReportEntries{{Name: "ftpharness:observe", Value: types.WrapEntryValue("echo " + pw)}},
	}}}
	got := redactReport(r, pw)
	sr := got.SpecReports[0]
	for what, s := range map[string]string{"failure": sr.Failure.Message, "writer": sr.CapturedGinkgoWriterOutput, "entry": sr.ReportEntries[0].StringRepresentation()} {
		if strings.Contains(s, "Zq7") || !strings.Contains(s, "****") {
			t.Errorf("%s: %q", what, s)
		}
	}
	if sr.LeafNodeText != "SEQ-004 x" || sr.State != types.SpecStateFailed || got.SuiteDescription != "s" {
		t.Errorf("report changed beyond the password: %+v", sr)
	}
	if r.SpecReports[0].Failure.Message != "PASS "+pw+": no reply" {
		t.Error("the original report was modified")
	}
}
