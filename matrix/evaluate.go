package matrix

import (
	"sort"

	"github.com/ftpharness/ftpharness/servers/faulty"
	"github.com/ftpharness/ftpharness/suites/catalog"
)

// Given the verdicts of a clean run (through the proxy without faults)
// and of a run through one fault, say which checks the fault killed and
// how that compares with its declared kills (fixtures/mutations.yaml). Verdicts map a catalog ID to "pass", "fail", "warn", "skip" or
// "observe" (suites/report's results).

// Killed reports whether a verdict change from clean to faulted counts as
// a kill: a check that passed now fails, or (INTEROP) warns.
func Killed(clean, faulted string) bool {
	return clean == "pass" && (faulted == "fail" || faulted == "warn")
}

// Outcome is one fault's row of the matrix.
type Outcome struct {
	Fault string
	// Killed lists checks that passed clean and fail/warn with the fault.
	Killed []string
	// Missed lists declared Kills that were not killed (the declaration or
	// the check is wrong, or the check did not pass clean).
	Missed []string
	// Unexpected lists checks whose verdict changed although the fault
	// does not declare them.
	Unexpected []string
	// Violations lists MUST/SHOULD checks that fail under a Conformant
	// fault (each one is a bug in the check or in the fault).
	Violations []string
}

// OK reports whether the run matches the declaration exactly.
func (o Outcome) OK() bool {
	return len(o.Missed) == 0 && len(o.Unexpected) == 0 && len(o.Violations) == 0
}

// Evaluate compares a faulted run with the clean one; kills are the
// fault's declared kills.
func Evaluate(f faulty.Fault, kills []string, clean, faulted map[string]string) Outcome {
	o := Outcome{Fault: f.Name}
	declared := map[string]bool{}
	for _, id := range kills {
		declared[id] = true
	}
	ids := map[string]bool{}
	for id := range clean {
		ids[id] = true
	}
	for id := range faulted {
		ids[id] = true
	}
	for id := range ids {
		c, x := clean[id], faulted[id]
		if Killed(c, x) {
			o.Killed = append(o.Killed, id)
		}
		if declared[id] && !Killed(c, x) {
			o.Missed = append(o.Missed, id)
		}
		if !declared[id] && c != x {
			o.Unexpected = append(o.Unexpected, id)
		}
		if f.Conformant && x == "fail" {
			if chk, ok := catalog.Get(id); ok && chk.Severity.Fails() {
				o.Violations = append(o.Violations, id)
			}
		}
	}
	sort.Strings(o.Killed)
	sort.Strings(o.Missed)
	sort.Strings(o.Unexpected)
	sort.Strings(o.Violations)
	return o
}

// Score is the mutation score: of the MUST/SHOULD checks in the catalog,
// the share that at least one outcome killed, and those none killed.
func Score(outcomes []Outcome) (score float64, killed, survivors []string) {
	hit := map[string]bool{}
	for _, o := range outcomes {
		for _, id := range o.Killed {
			hit[id] = true
		}
	}
	n := 0
	for _, c := range catalog.All() {
		if !c.Severity.Fails() {
			continue
		}
		n++
		if hit[c.ID] {
			killed = append(killed, c.ID)
		} else {
			survivors = append(survivors, c.ID)
		}
	}
	if n == 0 {
		return 0, nil, nil
	}
	return float64(len(killed)) / float64(n), killed, survivors
}
