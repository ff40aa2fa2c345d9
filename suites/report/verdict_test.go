package report

import (
	"strings"
	"testing"
	"unicode/utf8"

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

// Of a streak of checks that ended waiting for a server that then stopped
// answering, the first keeps its failure and the others, which only
// waited for it too, are skips naming it (one defect, one failure).
func TestStoppedStreakFailsOnce(t *testing.T) {
	trip := spec("PASV-004 x", types.SpecStateFailed, "read reply: i/o timeout")
	trip.ReportEntries = append(trip.ReportEntries, types.ReportEntry{Name: entryStoppedStreak, Value: types.WrapEntryValue("PASV-002 PASV-003 PASV-004")})
	run := FromGinkgo(types.Report{SpecReports: []types.SpecReport{
		spec("PASV-001 x", types.SpecStateFailed, "wrong code"),
		spec("PASV-002 x", types.SpecStateFailed, "read reply: i/o timeout"),
		spec("PASV-003 x", types.SpecStateFailed, "read reply: i/o timeout"),
		trip,
		spec("PASV-005 x", types.SpecStateSkipped, "server stopped answering after PASV-004"),
	}})
	want := map[string]string{
		"PASV-001": "fail: wrong code",
		"PASV-002": "fail: read reply: i/o timeout",
		"PASV-003": "skip: server stopped answering after PASV-002 (this check then waited for an answer that never came: read reply: i/o timeout)",
		"PASV-004": "skip: server stopped answering after PASV-002 (this check then waited for an answer that never came: read reply: i/o timeout)",
		"PASV-005": "skip: server stopped answering after PASV-004",
	}
	for id, w := range want {
		if v := verdictFor(t, run, id); string(v.Result)+": "+v.Reason != w {
			t.Errorf("%s: %q, want %q", id, string(v.Result)+": "+v.Reason, w)
		}
	}
}

// itSpec is a spec whose sessions saw the given extra replies (evidence
// for REPLY-006).
func itSpec(text string, state types.SpecState, entries ...string) types.SpecReport {
	return evidenceSpec(text, state, "REPLY-006", entries...)
}

// evidenceSpec is a spec whose sessions saw the given breaches of check's
// rule.
func evidenceSpec(text string, state types.SpecState, check string, entries ...string) types.SpecReport {
	sr := types.SpecReport{LeafNodeType: types.NodeTypeIt, LeafNodeText: text, State: state}
	for _, e := range entries {
		sr.ReportEntries = append(sr.ReportEntries, types.ReportEntry{Name: entryEvidence + check, Value: types.WrapEntryValue(e)})
	}
	return sr
}

func verdictFor(t *testing.T, run Run, id string) Verdict {
	t.Helper()
	for _, v := range run.Verdicts {
		if v.ID == id {
			return v
		}
	}
	t.Fatalf("no verdict for %s in %+v", id, run.Verdicts)
	return Verdict{}
}

// REPLY-006 fails once for the run with the extra replies every spec saw;
// the specs that saw them keep their own verdicts.
func TestReply006CollectsEveryCheck(t *testing.T) {
	const twice = "XYZZ → extra reply 500 unknown"
	run := FromGinkgo(types.Report{SpecReports: types.SpecReports{
		itSpec("XFER-008 some transfer", types.SpecStatePassed, twice),
		itSpec("PASV-001 pasv", types.SpecStatePassed, twice, "MODE Q → extra reply 501 bad mode"),
		itSpec("REPLY-006 pairing", types.SpecStatePassed),
		itSpec("REPLY-005 quotes", types.SpecStatePassed),
	}})
	v := verdictFor(t, run, "REPLY-006")
	if v.Result != Fail {
		t.Fatalf("REPLY-006 = %s, want fail", v.Result)
	}
	for _, want := range []string{"3 unsolicited replies", twice + " (seen in XFER-008, PASV-001)", "MODE Q → extra reply 501 bad mode (seen in PASV-001)"} {
		if !strings.Contains(v.Reason, want) {
			t.Errorf("reason %q lacks %q", v.Reason, want)
		}
	}
	if len(v.Observations) != 2 {
		t.Errorf("observations %v, want the two distinct extra replies", v.Observations)
	}
	for _, id := range []string{"XFER-008", "PASV-001", "REPLY-005"} {
		if r := verdictFor(t, run, id).Result; r != Pass {
			t.Errorf("%s = %s: the spec that saw an extra reply must keep its own verdict", id, r)
		}
	}
	if n := run.Counts()[Fail]; n != 1 {
		t.Errorf("%d failures, want REPLY-006 only", n)
	}
}

func TestReply006PassesWithoutExtraReplies(t *testing.T) {
	run := FromGinkgo(types.Report{SpecReports: types.SpecReports{
		itSpec("XFER-008 some transfer", types.SpecStatePassed),
		itSpec("REPLY-006 pairing", types.SpecStatePassed),
	}})
	if v := verdictFor(t, run, "REPLY-006"); v.Result != Pass {
		t.Fatalf("REPLY-006 = %s (%s), want pass", v.Result, v.Reason)
	}
}

// Evidence counts even when REPLY-006's own spec was not selected, and
// the list in the reason is capped.
func TestReply006WithoutItsSpecAndCapped(t *testing.T) {
	var specs types.SpecReports
	for i := 0; i < 12; i++ {
		specs = append(specs, itSpec("XFER-008 x", types.SpecStatePassed, strings.Repeat("X", i+1)+" → extra reply 500 no"))
	}
	specs = append(specs, itSpec("REPLY-006 pairing", types.SpecStateSkipped))
	v := verdictFor(t, FromGinkgo(types.Report{SpecReports: specs}), "REPLY-006")
	if v.Result != Fail || !strings.Contains(v.Reason, "7 more") {
		t.Fatalf("REPLY-006 = %s %q, want fail listing 5 and '7 more'", v.Result, v.Reason)
	}
	v = verdictFor(t, FromGinkgo(types.Report{SpecReports: specs[:1]}), "REPLY-006")
	if v.Result != Fail {
		t.Fatalf("REPLY-006 absent from the report: %s, want fail", v.Result)
	}
}

// A malformed reply seen by any check fails REPLY-001 once for the run,
// naming the checks where it was seen, even when REPLY-001's own exchange
// was clean; the checks that saw it keep their verdicts (before: REPLY-001
// graded only its own exchange and the sessions that happened to run
// before it in the same process).
func TestReply001CollectsEveryCheck(t *testing.T) {
	const bare = `[line ends in LF without CR] raw "211-Features:\n EPSV\n211 End\n"`
	run := FromGinkgo(types.Report{SpecReports: types.SpecReports{
		evidenceSpec("FEAT-001 feat", types.SpecStatePassed, "REPLY-001", bare),
		evidenceSpec("XFER-016 stat", types.SpecStatePassed, "REPLY-001", bare, `[reply line has no code] raw "file\r\n"`),
		itSpec("REPLY-001 framing", types.SpecStatePassed),
	}})
	v := verdictFor(t, run, "REPLY-001")
	if v.Result != Fail {
		t.Fatalf("REPLY-001 = %s, want fail", v.Result)
	}
	for _, want := range []string{"3 malformed replies", bare + " (seen in FEAT-001, XFER-016)", "no code", "RFC 959 §4.2"} {
		if !strings.Contains(v.Reason, want) {
			t.Errorf("reason %q lacks %q", v.Reason, want)
		}
	}
	if len(v.Observations) != 2 || !strings.HasPrefix(v.Observations[0], "malformed reply: ") {
		t.Errorf("observations %q, want the two distinct malformed replies", v.Observations)
	}
	for _, id := range []string{"FEAT-001", "XFER-016"} {
		if r := verdictFor(t, run, id).Result; r != Pass {
			t.Errorf("%s = %s: the spec that saw a malformed reply must keep its own verdict", id, r)
		}
	}
	if n := run.Counts()[Fail]; n != 1 {
		t.Errorf("%d failures, want REPLY-001 only", n)
	}
}

// REPLY-001's own failure is kept and the run-wide evidence added; each
// check gets only its own evidence (REPLY-002's multi-line problems do not
// fail REPLY-001).
func TestRunWideEvidenceKeepsOwnFailureAndRoutes(t *testing.T) {
	run := FromGinkgo(types.Report{SpecReports: types.SpecReports{
		spec("REPLY-001 framing", types.SpecStateFailed, "dedicated exchange: bare LF"),
		evidenceSpec("FEAT-001 feat", types.SpecStatePassed, "REPLY-001", "bare LF in FEAT"),
		evidenceSpec("HELP-001 help", types.SpecStatePassed, "REPLY-002", "214- ended with 200"),
		evidenceSpec("PASV-001 pasv", types.SpecStatePassed, "NOSUCH-001", "ignored"),
	}})
	v := verdictFor(t, run, "REPLY-001")
	if v.Result != Fail || !strings.HasPrefix(v.Reason, "dedicated exchange: bare LF; run-wide: 1 malformed replies") || strings.Contains(v.Reason, "214-") {
		t.Errorf("REPLY-001 = %s %q, want its own failure then the run-wide evidence of FEAT-001 only", v.Result, v.Reason)
	}
	v = verdictFor(t, run, "REPLY-002")
	if v.Result != Fail || !strings.Contains(v.Reason, "214- ended with 200 (seen in HELP-001)") {
		t.Errorf("REPLY-002 = %s %q, want fail with HELP-001's evidence", v.Result, v.Reason)
	}
}

// An argument's CR or LF echoed into a reply that another check provoked
// (SEC-005's USER a\nPASS b) is REPLY-004's rule: an INTEROP row, so it
// warns, and REPLY-001 stays clean.
func TestEchoEvidenceWarnsReply004(t *testing.T) {
	run := FromGinkgo(types.Report{SpecReports: types.SpecReports{
		evidenceSpec("SEC-005 cr lf", types.SpecStatePassed, "REPLY-004", `line ends in LF without CR: raw "331 Password required for ftpuser\n"`),
		itSpec("REPLY-004 echo", types.SpecStatePassed),
		itSpec("REPLY-001 framing", types.SpecStatePassed),
	}})
	if v := verdictFor(t, run, "REPLY-004"); v.Result != Warn || !strings.Contains(v.Reason, "(seen in SEC-005)") || !strings.Contains(v.Reason, "echoed") {
		t.Errorf("REPLY-004 = %s %q, want warn naming SEC-005", v.Result, v.Reason)
	}
	if v := verdictFor(t, run, "REPLY-001"); v.Result != Pass {
		t.Errorf("REPLY-001 = %s %q, want pass", v.Result, v.Reason)
	}
	if run.Failed() {
		t.Error("an INTEROP row's run-wide evidence failed the run")
	}
}

// A check kept from testing its own rule by another check's defect is
// "blocked" (counted apart, not a failure), and several specs of one ID
// combine to the worst real result.
func TestBlockedIsCountedApart(t *testing.T) {
	const reason = "blocked by RANGE-007: PASV answered 500 Address already in use"
	run := FromGinkgo(types.Report{SpecReports: []types.SpecReport{
		spec("PASV-004 x", types.SpecStateSkipped, reason),
		spec("RANGE-007 x", types.SpecStateFailed, "PASV answered 500 Address already in use"),
		spec("XFER-001 x", types.SpecStateSkipped, reason),
		spec("XFER-001 y", types.SpecStatePassed, ""),
	}})
	want := map[string]Result{"PASV-004": Blocked, "RANGE-007": Fail, "XFER-001": Pass}
	for _, v := range run.Verdicts {
		if v.Result != want[v.ID] {
			t.Errorf("%s: %s (%s), want %s", v.ID, v.Result, v.Reason, want[v.ID])
		}
	}
	if n := run.Counts(); n[Blocked] != 1 || n[Fail] != 1 {
		t.Errorf("counts %v", n)
	}
	var b strings.Builder
	run.WriteText(&b)
	if !strings.Contains(b.String(), "1 blocked") || !strings.Contains(b.String(), "BLOCKED") {
		t.Errorf("text report:\n%s", b.String())
	}
}

func TestBlockedBy(t *testing.T) {
	for reason, want := range map[string]string{
		"blocked by RANGE-007: PASV answered 500 Address already in use": "RANGE-007",
		"blocked by XFER-012":         "XFER-012",
		"not selected":                "",
		"skipped: blocked by nothing": "",
	} {
		if got := BlockedBy(reason); got != want {
			t.Errorf("BlockedBy(%q) = %q, want %q", reason, got, want)
		}
	}
}

// A pool that ran dry because listeners leak (RANGE-008 fails) while the
// exhaustion check itself passed: the checks the suite saw blocked "by
// RANGE-007" name RANGE-008, the defect that was reported; with RANGE-007
// failing, or no other check of the group failing, the reason stays.
func TestBlockedReattributedToReportedCause(t *testing.T) {
	const reason = "blocked by RANGE-007: PASV answered 425 no port available"
	for _, c := range []struct {
		name               string
		range007, range008 types.SpecState
		want               string
	}{
		{"leak", types.SpecStatePassed, types.SpecStateFailed, "RANGE-008"},
		{"exhaustion", types.SpecStateFailed, types.SpecStateFailed, "RANGE-007"},
		{"neither", types.SpecStatePassed, types.SpecStatePassed, "RANGE-007"},
	} {
		run := FromGinkgo(types.Report{SpecReports: []types.SpecReport{
			spec("PASV-004 x", types.SpecStateSkipped, reason),
			spec("RANGE-007 x", c.range007, "transfer 21: 425"),
			spec("RANGE-008 x", c.range008, "port 30021 still listening"),
		}})
		for _, v := range run.Verdicts {
			if v.ID != "PASV-004" {
				continue
			}
			if v.Result != Blocked || BlockedBy(v.Reason) != c.want || !strings.HasSuffix(v.Reason, ": PASV answered 425 no port available") {
				t.Errorf("%s: PASV-004 %s (%s), want blocked by %s", c.name, v.Result, v.Reason, c.want)
			}
		}
	}
}

// A long reason is cut to MaxReason on a character boundary: verdicts.json
// and the HTML report stay valid UTF-8 when the cut falls inside "—".
func TestOneLineCutsOnCharacterBoundary(t *testing.T) {
	for pad := 0; pad < 3; pad++ {
		got := oneLine(strings.Repeat("x", pad) + strings.Repeat("—", MaxReason))
		if len(got) > MaxReason || !utf8.ValidString(got) || !strings.HasSuffix(got, "...") {
			t.Errorf("pad %d: %d bytes, valid UTF-8 %v, tail %q", pad, len(got), utf8.ValidString(got), got[len(got)-8:])
		}
	}
}

// A run spread over workers that gets the signal while it lists the
// checks starts none: no worker's report says it was interrupted, every
// check reads "not run (interrupted)", and the signal alone must make it
// an interrupted run (exit 130), not a clean one (it exited 0).
func TestSignalBeforeAnyCheckRanIsAnInterruptedRun(t *testing.T) {
	run := FromGinkgo(types.Report{SpecReports: []types.SpecReport{
		spec("PASV-001 x", types.SpecStateSkipped, "not run (interrupted)", "pasv"),
	}})
	if run.Interrupted != "" {
		t.Fatalf("interrupted %q before the signal was named", run.Interrupted)
	}
	run.NameSignal("SIGTERM")
	if run.Interrupted != "interrupted by SIGTERM" {
		t.Errorf("interrupted %q, want %q", run.Interrupted, "interrupted by SIGTERM")
	}
	run.NameSignal("")
	if run.Interrupted != "interrupted by SIGTERM" {
		t.Errorf("no signal changed it to %q", run.Interrupted)
	}
}
