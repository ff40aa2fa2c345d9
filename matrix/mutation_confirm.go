package matrix

import (
	"context"
	"fmt"
	"sort"
	"strings"
)

// The mutation matrix's runs wait on timers and share two cores with the
// other test lanes, so a run now and then loses a race the suite does not
// mean to test (a data port refused 1.5 s after LIST, a bind that gives up
// after a few taken ports): a verdict change seen once. With Confirm, a
// fault whose outcome differs from its declaration runs once more (a fresh
// proxy and server, the same selection) and only what both runs show
// counts, the way TestExpectations counts a mismatch only when a second run
// repeats it (Repeated). Faults that match their declaration are not run
// again: a second run could only clear findings, and they have none.

// confirmPlans runs the second runs of every plan in one pool.
func confirmPlans(ctx context.Context, plans []*mutationPlan, parallel int) {
	var jobs []job
	for _, p := range plans {
		for _, r := range p.planAgain() {
			jobs = append(jobs, job{p.o, r})
		}
	}
	runJobs(ctx, jobs, parallel)
}

// planAgain adds p's second runs: each fault whose first outcome differs
// from its declaration, and the clean run it was compared with when the
// clean side of one of its changes looks like the flaky one (suspectClean):
// a fault run again alone would repeat a change that only the first clean
// run's bad luck made.
func (p *mutationPlan) planAgain() []*MutationRun {
	first, _ := p.faultOutcomes()
	byBase := map[string][]FaultOutcome{}
	var out []*MutationRun
	for _, fo := range first {
		if fo.Error != "" || fo.OK {
			continue
		}
		r := p.run("fault-"+fo.Fault+"-again", p.filterOf[fo.Fault], fo.Fault, false)
		p.againOf[fo.Fault] = r
		out = append(out, r)
		k := p.baseOf[fo.Fault]
		byBase[k] = append(byBase[k], fo)
		p.progress(r.Name, fmt.Sprintf("run again to confirm (missed %v, unexpected %v, violations %v)", fo.Missed, fo.Unexpected, fo.Violations))
	}
	for _, k := range sortedKeys(byBase) {
		ids := suspectClean(byBase[k])
		if len(ids) == 0 {
			continue
		}
		c := p.run(p.cleanOf[k].Name+"-again", k, "", false)
		p.cleanAgainOf[k] = c
		out = append(out, c)
		p.progress(c.Name, fmt.Sprintf("run again: its verdicts of %s look like the flaky side", strings.Join(ids, " ")))
	}
	p.runs = append(p.runs, out...)
	return out
}

// progress tells o.Progress about one of p's runs.
func (p *mutationPlan) progress(run, event string) {
	if p.o.Progress != nil {
		p.o.Progress(p.o.Server+"/"+run, event)
	}
}

// suspectClean lists the checks whose clean verdict, in the changes the
// faults fos did not declare (unexpected, violations), looks like the
// flaky side of the change rather than the faulted one:
//   - the fault made the check better (a fault breaks rules, it does not
//     mend them: the clean run lost a race), or
//   - two faults compared with the same clean run show the same change
//     (clean → faulted): the clean run is what they share.
//
// A missed kill's clean side is a pass, the verdict every other run of the
// check gives; the fault's run is the suspect, and it runs again anyway.
func suspectClean(fos []FaultOutcome) []string {
	seen := map[Change]int{}
	set := map[string]bool{}
	for _, fo := range fos {
		changed := map[string]Change{}
		for _, c := range fo.Changes {
			changed[c.ID] = Change{ID: c.ID, Clean: c.Clean, Faulted: c.Faulted}
		}
		ids := map[string]bool{}
		for _, id := range append(append([]string{}, fo.Unexpected...), fo.Violations...) {
			ids[id] = true
		}
		for id := range ids {
			c := changed[id]
			seen[c]++
			if better(c.Clean, c.Faulted) || seen[c] > 1 {
				set[id] = true
			}
		}
	}
	return sortedKeys(set)
}

// better reports whether a check's verdict got better from clean to
// faulted: the opposite of worse, or a check skipped or blocked clean
// that passes with the fault.
func better(clean, faulted string) bool {
	return worse(faulted, clean) || (faulted == "pass" && (clean == "skip" || clean == "blocked"))
}

// confirm merges a fault's first outcome with a second run's: a missed
// kill, an unexpected change or a violation counts when both runs show it;
// what only one shows goes to NotRepeated. A declared kill missed first
// and killed the second time is killed. When the second run gave no
// verdicts, the first outcome stands.
func confirm(first, second FaultOutcome) FaultOutcome {
	if second.Error != "" {
		first.RerunError = second.Error
		return first
	}
	out := first
	var nr notRepeated
	out.Missed = nr.both("missed", first.Missed, second.Missed)
	out.Unexpected = nr.both("unexpected", first.Unexpected, second.Unexpected)
	out.Violations = nr.both("violation", first.Violations, second.Violations)
	out.NotRepeated = nr.lines(changesByID(first.Changes), changesByID(second.Changes))
	out.Killed = append([]string{}, first.Killed...)
	for _, id := range first.Missed {
		if !contains(out.Missed, id) && contains(second.Killed, id) && !contains(out.Killed, id) {
			out.Killed = append(out.Killed, id)
		}
	}
	sort.Strings(out.Killed)
	out.Seconds += second.Seconds
	out.OK = len(out.Missed) == 0 && len(out.Unexpected) == 0 && len(out.Violations) == 0
	return out
}

// notRepeated collects, per check, the kinds of finding (missed,
// unexpected, violation) only one of a fault's two runs shows.
type notRepeated struct {
	ids   []string            // "1 ID" (first run only) or "2 ID", in order
	kinds map[string][]string // by those keys
}

// both keeps the IDs a (first run) and b (second run) both list and
// notes the others.
func (n *notRepeated) both(kind string, a, b []string) []string {
	if n.kinds == nil {
		n.kinds = map[string][]string{}
	}
	note := func(k string) {
		if n.kinds[k] == nil {
			n.ids = append(n.ids, k)
		}
		n.kinds[k] = append(n.kinds[k], kind)
	}
	var out []string
	for _, id := range a {
		if contains(b, id) {
			out = append(out, id)
		} else {
			note("1 " + id)
		}
	}
	for _, id := range b {
		if !contains(a, id) {
			note("2 " + id)
		}
	}
	return out
}

// lines describes each noted check with its changes in both runs.
func (n *notRepeated) lines(ch1, ch2 map[string]Change) []string {
	var out []string
	for _, k := range n.ids {
		run, id := k[:1], k[2:]
		kinds := strings.Join(n.kinds[k], ", ")
		if run == "1" {
			out = append(out, fmt.Sprintf("%s %s in the first run (%s), not in the second (%s)", id, kinds, changeText(ch1, id, true), changeText(ch2, id, false)))
		} else {
			out = append(out, fmt.Sprintf("%s %s in the second run only (%s)", id, kinds, changeText(ch2, id, true)))
		}
	}
	return out
}

// changeText says how check id's verdict changed (clean -> faulted), with
// the faulted run's reason when withReason.
func changeText(ch map[string]Change, id string, withReason bool) string {
	c, ok := ch[id]
	if !ok {
		return "verdict unchanged"
	}
	s := c.Clean + " -> " + c.Faulted
	if withReason && c.Reason != "" {
		r := c.Reason
		if len(r) > 200 {
			r = r[:200] + "..."
		}
		s += ": " + r
	}
	return s
}

func changesByID(cs []Change) map[string]Change {
	out := make(map[string]Change, len(cs))
	for _, c := range cs {
		out[c.ID] = c
	}
	return out
}
