package loadgen

import (
	"fmt"
	"math"
	"sort"
)

// MergeTolerance bounds how far a merged report's latency percentiles may
// be from a reference run's: got ≤ Factor·want + Slack and the other way
// round. The two are different runs (the shards compete with each other and
// with the server for the same cores), so only a gross difference — a merge
// that lost or double-counted a histogram — should trip it.
type MergeTolerance struct {
	Factor             float64
	P50Slack, P99Slack float64 // milliseconds
}

// DefaultMergeTolerance is what the shard tests use on a busy 2-core machine.
var DefaultMergeTolerance = MergeTolerance{Factor: 4, P50Slack: 2, P99Slack: 10}

// CheckMerged compares a merged report with a reference run that did the
// same total work unsharded and with the shard reports it was merged from,
// and lists every difference (none: nil). Counts must be equal (operations,
// bytes, errors, per-operation stats, ports seen, sessions and count
// settings), the merge must say it holds every shard, the merged latency
// histogram must hold every shard's operations with its p50/p99 between
// the shards' own, and the percentiles must be near the reference's.
func CheckMerged(whole, merged *Report, shards []*Report, tol MergeTolerance) []string {
	var out []string
	add := func(f string, a ...any) { out = append(out, fmt.Sprintf(f, a...)) }
	w, m, n := whole, merged, len(shards)
	if mi := m.Merged; mi == nil || mi.Shards != n || mi.ShardCount != n || len(mi.Indices) != n || len(mi.Missing) != 0 {
		add("merged report does not say %d shards of %d: %+v", n, n, mi)
	}
	if w.Settings.Shard != nil {
		add("the reference run is shard %v, not unsharded", *w.Settings.Shard)
	}
	if m.Totals.Count != w.Totals.Count || m.Totals.OK != w.Totals.OK || m.Totals.Errors != w.Totals.Errors || m.Totals.Bytes != w.Totals.Bytes {
		add("totals: merged %+v, unsharded %+v", m.Totals, w.Totals)
	}
	ops := make([]string, 0, len(w.Ops))
	for op := range w.Ops {
		ops = append(ops, op)
	}
	sort.Strings(ops)
	for _, op := range ops {
		if m.Ops[op] != w.Ops[op] {
			add("%s: merged %+v, unsharded %+v", op, m.Ops[op], w.Ops[op])
		}
	}
	if m.Settings.Sessions != w.Settings.Sessions || m.Settings.Count != w.Settings.Count || m.Ports.Seen != w.Ports.Seen {
		add("merged sessions %d count %d ports seen %d; unsharded %d, %d, %d",
			m.Settings.Sessions, m.Settings.Count, m.Ports.Seen, w.Settings.Sessions, w.Settings.Count, w.Ports.Seen)
	}
	var shardErrs, byClass uint64
	for _, r := range shards {
		shardErrs += r.Totals.Errors
	}
	for _, e := range m.Errors {
		byClass += e.Count
	}
	if m.Totals.Errors != shardErrs || byClass != shardErrs {
		add("errors: merged %d (by class %d), shards %d", m.Totals.Errors, byClass, shardErrs)
	}
	near := func(name string, got, want, slack float64) {
		if got > tol.Factor*want+slack || want > tol.Factor*got+slack {
			add("%s: merged %.3f ms, unsharded %.3f ms: not within %gx + %g ms", name, got, want, tol.Factor, slack)
		}
	}
	near("p50", m.Latency.P50, w.Latency.P50, tol.P50Slack)
	near("p99", m.Latency.P99, w.Latency.P99, tol.P99Slack)
	var count int64
	lo50, hi50, lo99, hi99 := math.Inf(1), 0.0, math.Inf(1), 0.0
	for _, r := range shards {
		count += r.Latency.Count
		lo50, hi50 = math.Min(lo50, r.Latency.P50), math.Max(hi50, r.Latency.P50)
		lo99, hi99 = math.Min(lo99, r.Latency.P99), math.Max(hi99, r.Latency.P99)
	}
	if m.Latency.Count != count || m.Latency.Count != w.Latency.Count ||
		m.Latency.P50 < lo50 || m.Latency.P50 > hi50 || m.Latency.P99 < lo99 || m.Latency.P99 > hi99 {
		add("merged latency %+v outside the shards' (p50 %v..%v, p99 %v..%v, count %d; unsharded count %d)",
			m.Latency, lo50, hi50, lo99, hi99, count, w.Latency.Count)
	}
	return out
}
