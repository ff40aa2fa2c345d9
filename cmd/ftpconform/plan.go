package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/ftpharness/ftpharness/suites/framework"
)

// plannedCheck is one check a run spread over workers will run.
type plannedCheck struct {
	ID          string
	Slow, Alone bool
	ControlOnly bool // may run on beside the checks that need the server alone
}

// plan lists the checks the run selects, with their labels, from a worker
// told to list them without touching the server (framework.NotRunEnv);
// its report is returned too: when the filters select nothing, it is the
// run's report (every check unselected).
func (w *workers) plan(ctx context.Context, exe string) ([]plannedCheck, []types.Report, error) {
	rs, err := w.start(ctx, exe, framework.Shard{Plan: true}, "plan")
	if err != nil {
		return nil, nil, err
	}
	return plannedChecks(rs), rs, nil
}

// plannedChecks reads a plan worker's report: every check it listed (a
// check a --ginkgo.* filter leaves out was never started and carries no
// skip reason: it is left out here too).
func plannedChecks(rs []types.Report) []plannedCheck {
	var out []plannedCheck
	for _, r := range rs {
		for _, s := range r.SpecReports {
			if s.LeafNodeType != types.NodeTypeIt || s.Failure.Message == "" {
				continue
			}
			id, _, _ := strings.Cut(s.LeafNodeText, " ")
			labels := map[string]bool{}
			for _, l := range s.Labels() {
				labels[l] = true
			}
			out = append(out, plannedCheck{ID: id, Slow: labels[framework.LabelSlow], Alone: labels[framework.LabelAlone],
				ControlOnly: labels[framework.LabelControlOnly]})
		}
	}
	return out
}

// sharesFor splits the checks that may share the server into the shares
// the workers run, n at a time, in order: the slow checks first, so the
// long waits overlap each other and the rest (longest first, as a
// scheduler packing jobs does): each control-only one in a share of its
// own (the serial share need not wait for them, so they may end last),
// the others dealt into at most n shares of at least
// framework.StoppedTimeouts checks (one per worker, so their waits overlap,
// and enough checks in each for a worker to find a server that stopped
// answering: its breaker counts the timeouts of one process's checks, and
// a check that skips does not count); then the others
// in sharesPerWorker shares per worker. The checks that need the server
// alone are the serial share, not here; hasAlone says whether there are any.
func sharesFor(checks []plannedCheck, n int) (shares []framework.Shard, hasAlone bool) {
	var slow, rest []string
	for _, c := range checks {
		switch {
		case c.Alone:
			hasAlone = true
		case c.Slow && c.ControlOnly:
			shares = append(shares, framework.ShardOf(c.ID))
		case c.Slow:
			slow = append(slow, c.ID)
		default:
			rest = append(rest, c.ID)
		}
	}
	per := max(framework.StoppedTimeouts, 1)
	k := min(n, len(slow)/per)
	if k == 0 && len(slow) > 0 {
		k = 1
	}
	shares = append(shares, dealt(slow, k)...)
	shares = append(shares, dealt(rest, min(sharesPerWorker*n, len(rest)))...)
	return shares, hasAlone
}

// dealt deals ids round-robin into k shares.
func dealt(ids []string, k int) []framework.Shard {
	var out []framework.Shard
	for i := 0; i < k; i++ {
		var share []string
		for j := i; j < len(ids); j += k {
			share = append(share, ids[j])
		}
		out = append(out, framework.ShardOf(share...))
	}
	return out
}

// shareName names a share's directory and progress: "serial", "plan", or
// its first check and how many more.
func shareName(s framework.Shard) string {
	if s.IDs == nil {
		return strings.ReplaceAll(s.String(), "/", "-of-")
	}
	ids := strings.Split(strings.TrimPrefix(s.String(), "ids:"), ",")
	if len(ids) == 1 {
		return ids[0]
	}
	return fmt.Sprintf("%s-and-%d", ids[0], len(ids)-1)
}
