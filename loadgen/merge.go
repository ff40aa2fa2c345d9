package loadgen

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// MergeInfo marks a report made by Merge from the reports of a sharded
// run's shards (v1.2).
type MergeInfo struct {
	Shards     int        `json:"shards"`      // reports merged
	ShardCount int        `json:"shard_count"` // shards the run was split into
	Indices    []int      `json:"indices"`     // shard indices merged, ascending
	Missing    []int      `json:"missing,omitempty"`
	Runs       []ShardRun `json:"runs"` // one per shard, by index
}

// ShardRun is one merged shard, in brief.
type ShardRun struct {
	Index    int       `json:"index"`
	Name     string    `json:"name,omitempty"` // the file it came from
	Start    time.Time `json:"start"`
	End      time.Time `json:"end"`
	Sessions int       `json:"sessions"`
	Rate     float64   `json:"rate_per_s,omitempty"`
	Count    int       `json:"count,omitempty"`
	Sources  []string  `json:"sources,omitempty"`
	Seed     *uint64   `json:"seed,omitempty"`
	Ops      uint64    `json:"ops"`
	Errors   uint64    `json:"errors"`
	Bytes    int64     `json:"bytes"`
	Capacity *int      `json:"capacity,omitempty"` // exhaust
}

// Merge combines the reports of the shards of one sharded run into the
// report of the whole run. names (optional, same length) name the reports
// in errors and warnings.
//
// Exact: counters, bytes, operations, errors by class (with their codes
// and phases), per-port advertisement counts, and the latency histograms
// (every report keeps each as an HdrHistogram, which Merge adds up before
// taking the percentiles: the merged p99 is the p99 of all operations, not
// an average of p99s). The timeline is laid on wall-clock seconds: shard
// second i is second i of the merged timeline shifted by the distance
// between the shards' timeline_start, which for sharded runs (v1.2) are
// whole seconds; otherwise the shift is rounded to the nearest second and
// a warning says so. Start is the earliest start, End the latest end,
// rates are over that span; error classes keep the earliest first
// occurrence; the exhaust summary is the shard's that exhausted first (by
// wall clock), its time to exhaust measured from the merged start, each
// shard's capacity listed in merged.runs and in a warning.
//
// Merge refuses reports of different schemas, scenarios or targets,
// reports that are not shard reports (no settings.shard) or already
// merged, different shard counts and duplicated shard indices. Missing
// indices and lesser differences (user, PASV/EPSV, size, model, declared
// range) are warnings.
func Merge(reps []*Report, names []string) (*Report, []string, error) {
	if len(reps) == 0 {
		return nil, nil, fmt.Errorf("merge: no report")
	}
	name := func(i int) string {
		if i < len(names) && names[i] != "" {
			return names[i]
		}
		return fmt.Sprintf("report %d", i+1)
	}
	var warns []string
	warn := func(f string, a ...any) { warns = append(warns, fmt.Sprintf(f, a...)) }

	// checks
	first := reps[0]
	byIndex := map[int]int{}
	for i, r := range reps {
		if r == nil {
			return nil, nil, fmt.Errorf("merge: %s: no report", name(i))
		}
		if r.Merged != nil {
			return nil, nil, fmt.Errorf("merge: %s is already a merged report (of %d shards)", name(i), r.Merged.Shards)
		}
		if r.Settings.Shard == nil {
			return nil, nil, fmt.Errorf("merge: %s is not a shard report (no settings.shard: run ftpload with --shard i/n, --shards or JOB_COMPLETION_INDEX)", name(i))
		}
		if r.Schema != first.Schema {
			return nil, nil, fmt.Errorf("merge: schemas differ: %s is %s, %s is %s", name(0), first.Schema, name(i), r.Schema)
		}
		s, f := r.Settings, first.Settings
		if s.Scenario != f.Scenario {
			return nil, nil, fmt.Errorf("merge: scenarios differ: %s ran %s, %s ran %s", name(0), f.Scenario, name(i), s.Scenario)
		}
		if s.Target != f.Target {
			return nil, nil, fmt.Errorf("merge: targets differ: %s loaded %s, %s loaded %s", name(0), f.Target, name(i), s.Target)
		}
		if s.Shard.Count != f.Shard.Count {
			return nil, nil, fmt.Errorf("merge: shard counts differ: %s is shard %s, %s is shard %s", name(0), f.Shard, name(i), s.Shard)
		}
		if err := s.Shard.Validate(); err != nil {
			return nil, nil, fmt.Errorf("merge: %s: %v", name(i), err)
		}
		if j, dup := byIndex[s.Shard.Index]; dup {
			return nil, nil, fmt.Errorf("merge: shard index %d twice: %s and %s", s.Shard.Index, name(j), name(i))
		}
		byIndex[s.Shard.Index] = i
		for _, d := range []struct {
			what string
			a, b any
		}{
			{"user", f.User, s.User}, {"EPSV", f.EPSV, s.EPSV}, {"size", f.Size, s.Size}, {"file", f.File, s.File},
			{"model", f.Model, s.Model}, {"declared range", f.PasvRange, s.PasvRange}, {"mix", f.Mix, s.Mix},
		} {
			if d.a != d.b {
				warn("%s differs: %v in %s, %v in %s", d.what, d.a, name(0), d.b, name(i))
			}
		}
	}
	n := first.Settings.Shard.Count
	var missing []int
	for i := 0; i < n; i++ {
		if _, ok := byIndex[i]; !ok {
			missing = append(missing, i)
		}
	}
	if len(missing) > 0 {
		warn("%d of %d shards missing: indices %s (the merged report covers only the shards given)", len(missing), n, intList(missing))
	}
	// work in shard order
	order := make([]int, 0, len(reps))
	for _, i := range byIndex {
		order = append(order, i)
	}
	sort.Slice(order, func(a, b int) bool {
		return reps[order[a]].Settings.Shard.Index < reps[order[b]].Settings.Shard.Index
	})

	out := &Report{
		Schema:   SchemaVersion,
		Tool:     "ftpload",
		Settings: first.Settings,
		Ops:      map[string]OpStats{},
		Phases:   map[string]LatencyStats{},
		Merged:   &MergeInfo{Shards: len(reps), ShardCount: n, Missing: missing},
	}
	st := &out.Settings
	st.Shard, st.Seed, st.Command, st.Sources = nil, nil, "", nil
	st.Sessions, st.Rate, st.Count = 0, 0, 0
	if s := reps[order[0]].Settings; s.Seed != nil {
		base := *s.Seed - uint64(s.Shard.Index)
		st.Seed = &base
	}

	// span
	for _, i := range order {
		r := reps[i]
		if r.Start.IsZero() {
			continue
		}
		if out.Start.IsZero() || r.Start.Before(out.Start) {
			out.Start = r.Start
		}
		if r.End.After(out.End) {
			out.End = r.End
		}
		ts := timelineStart(r)
		if out.TimelineStart.IsZero() || ts.Before(out.TimelineStart) {
			out.TimelineStart = ts
		}
	}
	if !out.Start.IsZero() {
		out.Duration = out.End.Sub(out.Start).Seconds()
	}

	hists := map[string]*hdr.Histogram{}
	addHist := func(key string, l LatencyStats, who int) error {
		if l.Count == 0 {
			return nil
		}
		if l.HDR == "" {
			return fmt.Errorf("merge: %s: %s has %d values but no histogram (hdr): cannot merge its percentiles", name(who), key, l.Count)
		}
		h, err := hdr.Decode([]byte(l.HDR))
		if err != nil {
			return fmt.Errorf("merge: %s: %s histogram: %v", name(who), key, err)
		}
		if hists[key] == nil {
			hists[key] = newHist()
		}
		if dropped := hists[key].Merge(h); dropped > 0 {
			return fmt.Errorf("merge: %s: %s histogram: %d values out of range", name(who), key, dropped)
		}
		return nil
	}

	errs := map[ErrorClass]*ErrorStats{}
	var errFirst = map[ErrorClass]time.Time{}
	portCounts := map[int]uint64{}
	countsExact := true
	var ps *SessionStats
	var psWeighted float64
	type sec struct {
		Second
		latSum float64 // mean_ms * ops
	}
	var tl []sec
	var earliestEx time.Time
	exFrom := -1

	for _, i := range order {
		r := reps[i]
		s := r.Settings
		st.Sessions += s.Sessions
		st.Rate += s.Rate
		st.Count += s.Count
		st.Sources = append(st.Sources, s.Sources...)
		if st.Banner == "" {
			st.Banner = s.Banner
		}
		out.Interrupted = out.Interrupted || r.Interrupted
		run := ShardRun{Index: s.Shard.Index, Name: name(i), Start: r.Start, End: r.End, Sessions: s.Sessions, Rate: s.Rate,
			Count: s.Count, Sources: s.Sources, Seed: s.Seed, Ops: r.Totals.Count, Errors: r.Totals.Errors, Bytes: r.Totals.Bytes}
		out.Merged.Indices = append(out.Merged.Indices, s.Shard.Index)

		// counters
		out.Totals.Count += r.Totals.Count
		out.Totals.OK += r.Totals.OK
		out.Totals.Errors += r.Totals.Errors
		out.Totals.Bytes += r.Totals.Bytes
		for k, v := range r.Ops {
			o := out.Ops[k]
			o.Count += v.Count
			o.OK += v.OK
			o.Errors += v.Errors
			o.Bytes += v.Bytes
			out.Ops[k] = o
		}

		// histograms
		if err := addHist("latency", r.Latency, i); err != nil {
			return nil, nil, err
		}
		if err := addHist("latency_corrected", r.LatencyCorrected, i); err != nil {
			return nil, nil, err
		}
		for p, l := range r.Phases {
			if err := addHist("phases."+p, l, i); err != nil {
				return nil, nil, err
			}
		}

		// errors: sums, and the earliest first occurrence
		for _, e := range r.Errors {
			m := errs[e.Class]
			if m == nil {
				m = &ErrorStats{Class: e.Class, Codes: map[int]uint64{}, Phases: map[string]uint64{}}
				errs[e.Class] = m
			}
			m.Count += e.Count
			m.ClientSide = m.ClientSide || e.ClientSide
			for c, k := range e.Codes {
				m.Codes[c] += k
			}
			for p, k := range e.Phases {
				m.Phases[p] += k
			}
			at := r.Start.Add(secDur(e.First))
			if f, seen := errFirst[e.Class]; !seen || at.Before(f) {
				errFirst[e.Class] = at
				m.FirstPhase, m.FirstError, m.FirstReply = e.FirstPhase, e.FirstError, e.FirstReply
			}
		}

		// ports
		p := r.Ports
		if p.Seen > 0 {
			if out.Ports.Seen == 0 || p.Min < out.Ports.Min {
				out.Ports.Min = p.Min
			}
			if p.Max > out.Ports.Max {
				out.Ports.Max = p.Max
			}
			if p.Counts == nil {
				countsExact = false
			}
		}
		out.Ports.Seen += p.Seen
		out.Ports.OutOfRange += p.OutOfRange
		out.Ports.AddrMismatch += p.AddrMismatch
		out.Ports.Distinct = max(out.Ports.Distinct, p.Distinct)
		for port, k := range p.Counts {
			portCounts[port] += k
		}

		// per-session throughput
		if q := r.PerSession; q != nil {
			if ps == nil {
				ps = &SessionStats{MinBps: q.MinBps}
			}
			ps.Sessions += q.Sessions
			ps.MinBps = math.Min(ps.MinBps, q.MinBps)
			ps.MaxBps = math.Max(ps.MaxBps, q.MaxBps)
			psWeighted += q.MeanBps * float64(q.Sessions)
		}

		// exhaust: the first shard to exhaust, by wall clock
		if ex := r.Exhaust; ex != nil {
			c := ex.Capacity
			run.Capacity = &c
			at := r.Start.Add(secDur(ex.TimeToExhaust))
			better := exFrom < 0
			if !better {
				prev := reps[exFrom].Exhaust
				switch {
				case ex.CapacityReached != prev.CapacityReached:
					better = ex.CapacityReached
				default:
					better = at.Before(earliestEx)
				}
			}
			if better {
				exFrom, earliestEx = i, at
			}
		}

		// timeline on wall-clock seconds
		if len(r.Timeline) > 0 {
			d := timelineStart(r).Sub(out.TimelineStart)
			shift := int(math.Round(d.Seconds()))
			if d%time.Second != 0 {
				warn("%s: timeline starts %s after the earliest, not a whole number of seconds (not a v1.2 shard report?): placed %d s later", name(i), d, shift)
			}
			for _, t := range r.Timeline {
				j := t.Second + shift
				for len(tl) <= j {
					tl = append(tl, sec{Second: Second{Second: len(tl)}})
				}
				m := &tl[j]
				m.Ops += t.Ops
				m.Errors += t.Errors
				m.Bytes += t.Bytes
				m.latSum += t.MeanMs * float64(t.Ops)
				m.MaxMs = math.Max(m.MaxMs, t.MaxMs)
				m.Active += t.Active
				for c, k := range t.ErrorsByClass {
					if m.ErrorsByClass == nil {
						m.ErrorsByClass = map[ErrorClass]uint64{}
					}
					m.ErrorsByClass[c] += k
				}
			}
		}
		out.Merged.Runs = append(out.Merged.Runs, run)
	}

	// finish
	if out.Totals.Count > 0 {
		out.Totals.SuccessRatio = float64(out.Totals.OK) / float64(out.Totals.Count)
	}
	if out.Duration > 0 {
		var opsNoLogin uint64
		for k, v := range out.Ops {
			if k != "login" && k != "recover" {
				opsNoLogin += v.Count
			}
		}
		out.Totals.Rate = float64(opsNoLogin) / out.Duration
		out.Totals.Throughput = float64(out.Totals.Bytes) / out.Duration
	}
	if h := hists["latency"]; h != nil {
		out.Latency = summarize(h)
	}
	if h := hists["latency_corrected"]; h != nil {
		out.LatencyCorrected = summarize(h)
	}
	for k, h := range hists {
		if p, ok := strings.CutPrefix(k, "phases."); ok {
			out.Phases[p] = summarize(h)
		}
	}
	for c, e := range errs {
		e.First = errFirst[c].Sub(out.Start).Seconds()
		out.Errors = append(out.Errors, *e)
	}
	sort.Slice(out.Errors, func(i, j int) bool {
		if out.Errors[i].Count != out.Errors[j].Count {
			return out.Errors[i].Count > out.Errors[j].Count
		}
		return out.Errors[i].Class < out.Errors[j].Class
	})
	out.Ports.Range = st.PasvRange
	if len(portCounts) > 0 {
		out.Ports.Counts = portCounts
		if countsExact {
			out.Ports.Distinct = len(portCounts)
		}
	}
	if out.Ports.Seen > 0 && !countsExact {
		warn("a shard report has no ports.counts (v1.0): ports.distinct is only a lower bound (the largest shard's)")
	}
	if ps != nil {
		if ps.Sessions > 0 {
			ps.MeanBps = psWeighted / float64(ps.Sessions)
		}
		out.PerSession = ps
	}
	if exFrom >= 0 {
		ex := *reps[exFrom].Exhaust
		ex.TimeToExhaust = earliestEx.Sub(out.Start).Seconds()
		out.Exhaust = &ex
		var sum int
		var caps []int
		for _, r := range out.Merged.Runs {
			if r.Capacity != nil {
				sum += *r.Capacity
				caps = append(caps, *r.Capacity)
			}
		}
		warn("exhaust: each shard ramped on its own; the capacity shown (%d) is shard %d's, the first to exhaust; the shards held %s (sum %d) when each stopped, not necessarily at once",
			ex.Capacity, reps[exFrom].Settings.Shard.Index, intList(caps), sum)
	}
	out.Timeline = make([]Second, len(tl))
	for j, t := range tl {
		if t.Ops > 0 {
			t.MeanMs = t.latSum / float64(t.Ops)
		}
		out.Timeline[j] = t.Second
	}
	slices.Sort(out.Merged.Indices)
	return out, warns, nil
}

// timelineStart is when r's timeline second 0 begins (Start before v1.2).
func timelineStart(r *Report) time.Time {
	if !r.TimelineStart.IsZero() {
		return r.TimelineStart
	}
	return r.Start
}

func secDur(s float64) time.Duration { return time.Duration(math.Round(s * float64(time.Second))) }

func intList(v []int) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = fmt.Sprint(x)
	}
	return strings.Join(s, ",")
}
