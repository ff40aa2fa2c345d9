package report

import (
	"testing"

	"github.com/onsi/ginkgo/v2/types"
)

func spec(text string, state types.SpecState, msg string, labels ...string) types.SpecReport {
	return types.SpecReport{
		LeafNodeType:   types.NodeTypeIt,
		LeafNodeText:   text,
		LeafNodeLabels: labels,
		State:          state,
		Failure:        types.Failure{Message: msg},
	}
}

// An interrupt is the operator's doing, not the server's: the running check
// is a skip naming the signal, the selected checks not reached say so, the
// ones the label filter left out stay "not selected" (before: the running
// check was "fail: timed out").
func TestInterruptedRunIsNoVerdictOnTheServer(t *testing.T) {
	r := types.Report{
		SuiteConfig:                types.SuiteConfig{LabelFilter: "pasv"},
		SpecialSuiteFailureReasons: []string{"Interrupted by User"},
		SpecReports: []types.SpecReport{
			spec("PASV-001 x", types.SpecStatePassed, "", "pasv"),
			spec("PASV-002 x", types.SpecStateInterrupted, "Interrupted by User", "pasv"),
			spec("PASV-003 x", types.SpecStateSkipped, "", "pasv"),
			spec("XFER-001 x", types.SpecStateSkipped, "", "transfer"),
		},
	}
	run := FromGinkgo(r)
	run.NameSignal("SIGINT")
	want := map[string]string{
		"PASV-001": "pass: ",
		"PASV-002": "skip: interrupted (SIGINT) while running",
		"PASV-003": "skip: not run (interrupted)",
		"XFER-001": "skip: not selected",
	}
	for _, v := range run.Verdicts {
		if got := string(v.Result) + ": " + v.Reason; got != want[v.ID] {
			t.Errorf("%s: %q, want %q", v.ID, got, want[v.ID])
		}
	}
	if run.Interrupted != "interrupted by SIGINT" || run.Failed() {
		t.Errorf("interrupted %q, failed %v", run.Interrupted, run.Failed())
	}
}

// The checks skipped after the server stopped answering mark the run.
func TestStoppedRunIsRecorded(t *testing.T) {
	const reason = "server stopped answering after PASV-002"
	run := FromGinkgo(types.Report{SpecReports: []types.SpecReport{
		spec("PASV-002 x", types.SpecStateFailed, "no reply"),
		spec("PASV-003 x", types.SpecStateSkipped, reason),
	}})
	if run.Stopped != reason {
		t.Errorf("stopped = %q, want %q", run.Stopped, reason)
	}
}
