package report

import (
	"strings"
	"testing"

	"github.com/onsi/ginkgo/v2/types"
)

func itSpec(text string, state types.SpecState, entries ...string) types.SpecReport {
	sr := types.SpecReport{LeafNodeType: types.NodeTypeIt, LeafNodeText: text, State: state}
	for _, e := range entries {
		sr.ReportEntries = append(sr.ReportEntries, types.ReportEntry{Name: entryUnsolicited, Value: types.WrapEntryValue(e)})
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
