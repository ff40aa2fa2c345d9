package report

import (
	"strings"
	"testing"

	"github.com/onsi/ginkgo/v2/types"
)

// The summary a person reads (issue 16 §2): failures first, MUST before
// SHOULD, then blocked checks, then warnings, one line each with the
// reason cut to one line; observations and skips counted (listed with
// Verbose); the counts; where the reports are.
func TestTextSummaryOrderAndShape(t *testing.T) {
	long := strings.Repeat("a long reason\nover lines ", 40)
	run := Run{Target: "127.0.0.1:21", Seconds: 1.5, Verdicts: []Verdict{
		{ID: "PASV-008", Severity: "interop", Title: "PASV x", Result: Warn, Reason: "PASV-008 (RFC 959 §5.4): got 227"},
		{ID: "ACT-004", Severity: "should", Title: "privileged port", Result: Fail, Reason: "got 200"},
		{ID: "PASV-004", Severity: "must", Title: "data", Result: Blocked, Reason: "blocked by RANGE-007: 425"},
		{ID: "EPSV-004", Severity: "must", Title: "EPSV 2", Result: Fail, Reason: long},
		{ID: "PASV-009", Severity: "observe", Title: "during RETR", Result: Observe, Reason: "deferred"},
		{ID: "MASQ-001", Severity: "interop", Title: "masq", Result: Skip, Reason: "needs --ftp.pasv-address"},
		{ID: "XFER-001", Severity: "must", Title: "x", Result: Skip, Reason: "not selected"},
		{ID: "PASV-001", Severity: "must", Title: "p", Result: Pass},
	}}
	var b strings.Builder
	if err := run.WriteText(&b, TextOptions{Reports: []string{"out/verdicts.json", "out/junit.xml"}}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(b.String(), "\n"), "\n")
	starts := []string{"ftpharness verdicts for 127.0.0.1:21", "FAIL    EPSV-004", "FAIL    ACT-004    should  privileged port: got 200",
		"BLOCKED PASV-004   must    data: blocked by RANGE-007: 425", "WARN    PASV-008   interop PASV x: RFC 959 §5.4: got 227", "1 observation, 1 skipped check (listed with -v",
		"1 passed, 2 failed, 1 warned, 2 skipped, 1 observed, 1 blocked (8 checks, 1.5s)", "reports: out/verdicts.json, out/junit.xml"}
	if len(lines) != len(starts) {
		t.Fatalf("%d lines, want %d:\n%s", len(lines), len(starts), b.String())
	}
	for i, s := range starts {
		if !strings.HasPrefix(lines[i], s) {
			t.Errorf("line %d: %q, want it to start %q", i+1, lines[i], s)
		}
	}
	if reason := lines[1][strings.Index(lines[1], ": ")+2:]; len(reason) > textReasonMax || !strings.HasSuffix(reason, "...") {
		t.Errorf("long reason not cut to %d: %d bytes", textReasonMax, len(reason))
	}

	b.Reset()
	run.WriteText(&b, TextOptions{Verbose: true})
	for _, want := range []string{"OBSERVE PASV-009   observe during RETR: deferred", "SKIP    MASQ-001   interop masq: needs --ftp.pasv-address"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("verbose summary lacks %q:\n%s", want, b.String())
		}
	}
	if strings.Contains(b.String(), "XFER-001") {
		t.Errorf("verbose summary lists a check not selected:\n%s", b.String())
	}
}

// A failed suite setup (the embedded server did not start) is said once,
// and the checks it kept from running are not "not selected" (which
// ftpconform would take for a filter selecting nothing).
func TestSetupFailureIsSaid(t *testing.T) {
	before := spec("", types.SpecStateFailed, "start the embedded ftpserverlib server: listen: address in use")
	before.LeafNodeType = types.NodeTypeSynchronizedBeforeSuite
	run := FromGinkgo(types.Report{SpecReports: []types.SpecReport{before, spec("PASV-001 x", types.SpecStateSkipped, "")}})
	if run.Setup == "" || len(run.Verdicts) != 1 || run.Verdicts[0].Reason != reasonNoSetup {
		t.Fatalf("setup %q, verdicts %+v", run.Setup, run.Verdicts)
	}
	var b strings.Builder
	run.WriteText(&b)
	if !strings.Contains(b.String(), "suite setup failed: start the embedded ftpserverlib server: listen: address in use") {
		t.Errorf("summary:\n%s", b.String())
	}
}
