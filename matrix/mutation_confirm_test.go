package matrix

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"
)

// scripted is a fake suite run for the mutation matrix: per run name, the
// verdicts each attempt gives (its first run, then its second: name-again) (a run name seen more often than scripted
// gives its last verdicts); a nil map is a run that produced no verdicts.
type scripted struct {
	mu    sync.Mutex
	runs  map[string][]map[string]string
	calls map[string]int
}

func (s *scripted) run(_ context.Context, _ MutationOptions, r *MutationRun) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	// a second run (name-again) gives the run's next scripted verdicts
	base := strings.TrimSuffix(r.Name, "-again")
	n := s.calls[base] + s.calls[base+"-again"]
	s.calls[r.Name]++
	list, ok := s.runs[base]
	if !ok {
		return errors.New("unscripted run " + r.Name)
	}
	v := list[min(n, len(list)-1)]
	if v == nil {
		return errors.New(r.Name + ": the suite produced no verdicts")
	}
	r.Verdicts, r.reasons = map[string]string{}, map[string]string{}
	for id, x := range v {
		r.Verdicts[id] = x
		if x != "pass" {
			r.reasons[id] = id + " " + x + " in " + r.Name
		}
	}
	return nil
}

// confirmRun runs the focused mutation matrix (as TestMutation) on a fake
// server with the scripted runs of abor-plain-ignored (kills XFER-024;
// areas transfer, pasv, epsv) and pasv-no-parens (kills PASV-002).
func confirmRun(t *testing.T, runs map[string][]map[string]string) (MutationReport, map[string]int) {
	t.Helper()
	s := &scripted{runs: runs, calls: map[string]int{}}
	ms, err := Mutations(context.Background(), MutationOptions{
		Dir: t.TempDir(), Parallel: 2, Focused: true, WholeClean: true, NoDirect: true, Confirm: true,
		Faults: []string{"abor-plain-ignored", "pasv-no-parens"}, runner: s.run,
	}, []string{"fake"})
	if err != nil {
		t.Fatal(err)
	}
	return ms[0], s.calls
}

// The clean run, and each fault's run as it goes when nothing is flaky.
var (
	confirmClean     = map[string]string{"XFER-024": "pass", "PASV-002": "pass", "PASV-004": "pass", "PASV-014": "pass"}
	aborAsDeclared   = map[string]string{"XFER-024": "warn", "PASV-002": "pass", "PASV-004": "pass", "PASV-014": "pass"}
	parensAsDeclared = map[string]string{"PASV-002": "warn", "PASV-004": "pass", "PASV-014": "pass"}
)

// with returns v with the verdicts of kv (id, verdict, ...) replaced.
func with(v map[string]string, kv ...string) map[string]string {
	out := map[string]string{}
	for id, x := range v {
		out[id] = x
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

func faultOf(t *testing.T, m MutationReport, name string) FaultOutcome {
	t.Helper()
	for _, f := range m.Faults {
		if f.Fault == name {
			return f
		}
	}
	t.Fatalf("no outcome for %s", name)
	return FaultOutcome{}
}

// TestConfirmNotRepeated: an undeclared change the second run of the fault
// does not show is not counted but listed as not repeated; the faults that
// matched their declaration and the clean run are not run again.
func TestConfirmNotRepeated(t *testing.T) {
	m, calls := confirmRun(t, map[string][]map[string]string{
		"clean":                    {confirmClean},
		"fault-abor-plain-ignored": {with(aborAsDeclared, "PASV-004", "fail"), aborAsDeclared},
		"fault-pasv-no-parens":     {parensAsDeclared},
	})
	f := faultOf(t, m, "abor-plain-ignored")
	if !f.OK || len(f.Unexpected) > 0 {
		t.Errorf("abor-plain-ignored: OK %v, unexpected %v; want OK (PASV-004 did not repeat)", f.OK, f.Unexpected)
	}
	if len(f.NotRepeated) != 1 || !strings.HasPrefix(f.NotRepeated[0], "PASV-004 unexpected, violation in the first run (pass -> fail: PASV-004 fail in fault-abor-plain-ignored), not in the second (verdict unchanged)") {
		t.Errorf("not repeated: %q", f.NotRepeated)
	}
	want := map[string]int{"clean": 1, "fault-abor-plain-ignored": 1, "fault-abor-plain-ignored-again": 1, "fault-pasv-no-parens": 1}
	if !reflect.DeepEqual(calls, want) {
		t.Errorf("runs %v, want %v", calls, want)
	}
	if !reflect.DeepEqual(faultOf(t, m, "pasv-no-parens").Killed, []string{"PASV-002"}) {
		t.Errorf("pasv-no-parens killed %v", faultOf(t, m, "pasv-no-parens").Killed)
	}
}

// TestConfirmRepeated: what both runs show counts; what only the second
// shows is listed, not counted; a declared kill missed first and made the
// second time is killed.
func TestConfirmRepeated(t *testing.T) {
	m, _ := confirmRun(t, map[string][]map[string]string{
		"clean": {confirmClean},
		"fault-abor-plain-ignored": {
			with(aborAsDeclared, "PASV-004", "fail"),
			with(aborAsDeclared, "PASV-004", "fail", "PASV-014", "warn"),
		},
		"fault-pasv-no-parens": {with(parensAsDeclared, "PASV-002", "pass"), parensAsDeclared},
	})
	f := faultOf(t, m, "abor-plain-ignored")
	if f.OK || !reflect.DeepEqual(f.Unexpected, []string{"PASV-004"}) {
		t.Errorf("abor-plain-ignored: OK %v, unexpected %v; want PASV-004 (in both runs)", f.OK, f.Unexpected)
	}
	if len(f.NotRepeated) != 1 || !strings.HasPrefix(f.NotRepeated[0], "PASV-014 unexpected in the second run only (pass -> warn") {
		t.Errorf("not repeated: %q", f.NotRepeated)
	}
	p := faultOf(t, m, "pasv-no-parens")
	if !p.OK || !reflect.DeepEqual(p.Killed, []string{"PASV-002"}) || len(p.Missed) > 0 {
		t.Errorf("pasv-no-parens: OK %v, killed %v, missed %v; want PASV-002 killed by the second run", p.OK, p.Killed, p.Missed)
	}
	if len(p.NotRepeated) != 1 || !strings.HasPrefix(p.NotRepeated[0], "PASV-002 missed in the first run (verdict unchanged), not in the second (pass -> warn)") {
		t.Errorf("not repeated: %q", p.NotRepeated)
	}
	if m.Score != 1 {
		t.Errorf("score %.2f, want 1 (both declared kills made)", m.Score)
	}
}

// TestConfirmFlakyClean: a clean run that lost a race (PASV-014 warns
// clean, passes with both faults) makes the same change in two faults,
// and a better one: the clean run runs again too, and against its verdicts
// the change is gone.
func TestConfirmFlakyClean(t *testing.T) {
	m, calls := confirmRun(t, map[string][]map[string]string{
		"clean":                    {with(confirmClean, "PASV-014", "warn"), confirmClean},
		"fault-abor-plain-ignored": {aborAsDeclared},
		"fault-pasv-no-parens":     {parensAsDeclared},
	})
	for _, n := range []string{"abor-plain-ignored", "pasv-no-parens"} {
		f := faultOf(t, m, n)
		if !f.OK || len(f.NotRepeated) != 1 || !strings.HasPrefix(f.NotRepeated[0], "PASV-014 unexpected in the first run (warn -> pass)") {
			t.Errorf("%s: OK %v, unexpected %v, not repeated %q", n, f.OK, f.Unexpected, f.NotRepeated)
		}
	}
	if calls["clean-again"] != 1 {
		t.Errorf("runs %v: want the clean run again", calls)
	}
}

// TestConfirmRerunFails: a second run without verdicts confirms nothing:
// the first outcome stands, with the reason.
func TestConfirmRerunFails(t *testing.T) {
	m, _ := confirmRun(t, map[string][]map[string]string{
		"clean":                    {confirmClean},
		"fault-abor-plain-ignored": {with(aborAsDeclared, "PASV-004", "fail"), nil},
		"fault-pasv-no-parens":     {parensAsDeclared},
	})
	f := faultOf(t, m, "abor-plain-ignored")
	if f.OK || !reflect.DeepEqual(f.Unexpected, []string{"PASV-004"}) || !strings.Contains(f.RerunError, "no verdicts") {
		t.Errorf("OK %v, unexpected %v, rerun error %q; want the first outcome and the error", f.OK, f.Unexpected, f.RerunError)
	}
}

// TestSuspectClean: the clean side is suspect when a fault made the check
// better, or two faults show the same change; one fault breaking a check
// that passed clean puts the fault's run in doubt, not the clean one.
func TestSuspectClean(t *testing.T) {
	ch := func(id, c, f string) Change { return Change{ID: id, Clean: c, Faulted: f, Reason: "r " + f} }
	fos := []FaultOutcome{
		{Fault: "a", Unexpected: []string{"PASV-004", "PASV-014", "RANGE-008"}, Changes: []Change{ch("PASV-004", "pass", "fail"), ch("PASV-014", "warn", "pass"), ch("RANGE-008", "pass", "warn")}},
		{Fault: "b", Unexpected: []string{"RANGE-008"}, Violations: []string{"RANGE-008"}, Changes: []Change{ch("RANGE-008", "pass", "warn")}},
	}
	if got, want := suspectClean(fos), []string{"PASV-014", "RANGE-008"}; !reflect.DeepEqual(got, want) {
		t.Errorf("suspectClean = %v, want %v", got, want)
	}
	if got := suspectClean(fos[1:]); len(got) > 0 {
		t.Errorf("one fault listing a change twice: suspectClean = %v, want none", got)
	}
}

// TestRunWithoutVerdictsRunsAgain: a run that produced no verdicts (in CI,
// a clean run whose login probe got no answer within its 2 s timeout on a
// loaded machine) runs once more before its error counts, so the faults
// compared with it are judged; twice without verdicts is an error.
func TestRunWithoutVerdictsRunsAgain(t *testing.T) {
	m, calls := confirmRun(t, map[string][]map[string]string{
		"clean":                    {nil, confirmClean},
		"fault-abor-plain-ignored": {aborAsDeclared},
		"fault-pasv-no-parens":     {parensAsDeclared},
	})
	if calls["clean"] != 2 {
		t.Errorf("clean ran %d times, want 2", calls["clean"])
	}
	for _, f := range m.Faults {
		if !f.OK || f.Error != "" {
			t.Errorf("%s: OK %v, error %q; want judged against the second clean run", f.Fault, f.OK, f.Error)
		}
	}
	m, _ = confirmRun(t, map[string][]map[string]string{
		"clean":                    {nil},
		"fault-abor-plain-ignored": {aborAsDeclared},
		"fault-pasv-no-parens":     {parensAsDeclared},
	})
	if f := faultOf(t, m, "pasv-no-parens"); f.OK || !strings.Contains(f.Error, "no verdicts") {
		t.Errorf("clean without verdicts twice: OK %v, error %q; want the error", f.OK, f.Error)
	}
}
