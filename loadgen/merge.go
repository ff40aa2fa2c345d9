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

// String says which shards were merged, as the text report and the HTML
// page show it: "from 3 shards of 4 (indices 0,1,3), missing 2".
func (mi *MergeInfo) String() string {
	s := fmt.Sprintf("from %d shards of %d (indices %s)", mi.Shards, mi.ShardCount, intList(mi.Indices))
	if len(mi.Missing) > 0 {
		s += ", missing " + intList(mi.Missing)
	}
	return s
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
	m := &merger{reps: reps, names: names}
	byIndex, err := m.check()
	if err != nil {
		return nil, nil, err
	}
	n := reps[0].Settings.Shard.Count
	missing := missingShards(byIndex, n)
	if len(missing) > 0 {
		m.warn("%d of %d shards missing: indices %s (the merged report covers only the shards given)", len(missing), n, intList(missing))
	}
	order := m.shardOrder(byIndex)
	m.start(n, missing, order)
	m.span(order)
	for _, i := range order {
		if err := m.add(i); err != nil {
			return nil, nil, err
		}
	}
	m.finish()
	return m.out, m.warns, nil
}

// merger is the state of one Merge: the reports given, the merged report
// being built and the sums that are finished once every shard is added.
type merger struct {
	reps  []*Report
	names []string
	warns []string

	out         *Report
	st          *Settings // &out.Settings
	hists       map[string]*hdr.Histogram
	errs        map[ErrorClass]*ErrorStats
	errFirst    map[ErrorClass]time.Time // earliest first occurrence, wall clock
	portCounts  map[int]uint64
	countsExact bool // every shard that saw ports has ports.counts
	ps          *SessionStats
	psWeighted  float64 // sum of mean_bps * sessions
	tl          []mergedSecond
	earliestEx  time.Time // when reps[exFrom] exhausted, wall clock
	exFrom      int       // the shard that exhausted first, -1 if none
}

// mergedSecond is a merged timeline second, with the sum its mean latency
// is taken from.
type mergedSecond struct {
	Second
	latSum float64 // mean_ms * ops
}

// name names report i in errors and warnings.
func (m *merger) name(i int) string {
	if i < len(m.names) && m.names[i] != "" {
		return m.names[i]
	}
	return fmt.Sprintf("report %d", i+1)
}

// warn adds a warning to those Merge returns.
func (m *merger) warn(f string, a ...any) { m.warns = append(m.warns, fmt.Sprintf(f, a...)) }

// check refuses reports that cannot be merged, warns of lesser differences
// and maps each shard index to its report.
func (m *merger) check() (map[int]int, error) {
	byIndex := map[int]int{}
	for i := range m.reps {
		if err := m.checkReport(i, byIndex); err != nil {
			return nil, err
		}
		byIndex[m.reps[i].Settings.Shard.Index] = i
		m.warnDifferences(i)
	}
	return byIndex, nil
}

// checkReport refuses report i if it cannot be merged with the first or
// repeats a shard index already in byIndex.
func (m *merger) checkReport(i int, byIndex map[int]int) error {
	r, first, name := m.reps[i], m.reps[0], m.name
	if r == nil {
		return fmt.Errorf("merge: %s: no report", name(i))
	}
	if r.Merged != nil {
		return fmt.Errorf("merge: %s is already a merged report (of %d shards)", name(i), r.Merged.Shards)
	}
	if r.Settings.Shard == nil {
		return fmt.Errorf("merge: %s is not a shard report (no settings.shard: run ftpload with --shard i/n, --shards or JOB_COMPLETION_INDEX)", name(i))
	}
	if r.Schema != first.Schema {
		return fmt.Errorf("merge: schemas differ: %s is %s, %s is %s", name(0), first.Schema, name(i), r.Schema)
	}
	s, f := r.Settings, first.Settings
	if s.Scenario != f.Scenario {
		return fmt.Errorf("merge: scenarios differ: %s ran %s, %s ran %s", name(0), f.Scenario, name(i), s.Scenario)
	}
	if s.Target != f.Target {
		return fmt.Errorf("merge: targets differ: %s loaded %s, %s loaded %s", name(0), f.Target, name(i), s.Target)
	}
	if s.Shard.Count != f.Shard.Count {
		return fmt.Errorf("merge: shard counts differ: %s is shard %s, %s is shard %s", name(0), f.Shard, name(i), s.Shard)
	}
	if err := s.Shard.Validate(); err != nil {
		return fmt.Errorf("merge: %s: %v", name(i), err)
	}
	if j, dup := byIndex[s.Shard.Index]; dup {
		return fmt.Errorf("merge: shard index %d twice: %s and %s", s.Shard.Index, name(j), name(i))
	}
	return nil
}

// warnDifferences warns of the settings in which report i differs from the
// first without making the merge wrong.
func (m *merger) warnDifferences(i int) {
	s, f := m.reps[i].Settings, m.reps[0].Settings
	for _, d := range []struct {
		what string
		a, b any
	}{
		{"user", f.User, s.User}, {"EPSV", f.EPSV, s.EPSV}, {"size", f.Size, s.Size}, {"file", f.File, s.File},
		{"model", f.Model, s.Model}, {"declared range", f.PasvRange, s.PasvRange}, {"mix", f.Mix, s.Mix},
	} {
		if d.a != d.b {
			m.warn("%s differs: %v in %s, %v in %s", d.what, d.a, m.name(0), d.b, m.name(i))
		}
	}
}

// missingShards lists, ascending, the indices below n that byIndex lacks.
func missingShards(byIndex map[int]int, n int) []int {
	var missing []int
	for i := 0; i < n; i++ {
		if _, ok := byIndex[i]; !ok {
			missing = append(missing, i)
		}
	}
	return missing
}

// shardOrder lists the reports by shard index: Merge works in shard order.
func (m *merger) shardOrder(byIndex map[int]int) []int {
	order := make([]int, 0, len(m.reps))
	for _, i := range byIndex {
		order = append(order, i)
	}
	sort.Slice(order, func(a, b int) bool {
		return m.reps[order[a]].Settings.Shard.Index < m.reps[order[b]].Settings.Shard.Index
	})
	return order
}

// start makes the empty merged report: the first report's settings without
// what is per shard, and the base seed of the run.
func (m *merger) start(n int, missing, order []int) {
	m.out = &Report{
		Schema:   SchemaVersion,
		Tool:     "ftpload",
		Settings: m.reps[0].Settings,
		Ops:      map[string]OpStats{},
		Phases:   map[string]LatencyStats{},
		Merged:   &MergeInfo{Shards: len(m.reps), ShardCount: n, Missing: missing},
	}
	st := &m.out.Settings
	m.st = st
	st.Shard, st.Seed, st.Command, st.Sources = nil, nil, "", nil
	st.Sessions, st.Rate, st.Count = 0, 0, 0
	if s := m.reps[order[0]].Settings; s.Seed != nil {
		base := *s.Seed - uint64(s.Shard.Index)
		st.Seed = &base
	}
	m.hists = map[string]*hdr.Histogram{}
	m.errs = map[ErrorClass]*ErrorStats{}
	m.errFirst = map[ErrorClass]time.Time{}
	m.portCounts = map[int]uint64{}
	m.countsExact = true
	m.exFrom = -1
}

// span sets the merged start (earliest), end (latest), duration and
// timeline start (earliest).
func (m *merger) span(order []int) {
	out := m.out
	for _, i := range order {
		r := m.reps[i]
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
}

// add adds report i (one shard) to the merged report.
func (m *merger) add(i int) error {
	r := m.reps[i]
	s := r.Settings
	st := m.st
	st.Sessions += s.Sessions
	st.Rate += s.Rate
	st.Count += s.Count
	st.Sources = append(st.Sources, s.Sources...)
	if st.Banner == "" {
		st.Banner = s.Banner
	}
	m.out.Interrupted = m.out.Interrupted || r.Interrupted
	run := ShardRun{Index: s.Shard.Index, Name: m.name(i), Start: r.Start, End: r.End, Sessions: s.Sessions, Rate: s.Rate,
		Count: s.Count, Sources: s.Sources, Seed: s.Seed, Ops: r.Totals.Count, Errors: r.Totals.Errors, Bytes: r.Totals.Bytes}
	m.out.Merged.Indices = append(m.out.Merged.Indices, s.Shard.Index)

	m.addCounters(r)
	if err := m.addHists(i); err != nil {
		return err
	}
	m.addErrors(r)
	m.addPorts(r.Ports)
	m.addPerSession(r.PerSession)
	m.addTLS(r.TLS)
	m.addExhaust(i, &run)
	m.addTimeline(i)
	m.out.Merged.Runs = append(m.out.Merged.Runs, run)
	return nil
}

// addCounters adds r's totals and per-operation counters.
func (m *merger) addCounters(r *Report) {
	out := m.out
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
}

// addHists adds report i's latency histograms (overall, corrected, per
// phase) to the merged ones.
func (m *merger) addHists(i int) error {
	r := m.reps[i]
	if err := m.addHist("latency", r.Latency, i); err != nil {
		return err
	}
	if err := m.addHist("latency_corrected", r.LatencyCorrected, i); err != nil {
		return err
	}
	for p, l := range r.Phases {
		if err := m.addHist("phases."+p, l, i); err != nil {
			return err
		}
	}
	return nil
}

// addHist adds the histogram of l, from report who, to the merged one of key.
func (m *merger) addHist(key string, l LatencyStats, who int) error {
	if l.Count == 0 {
		return nil
	}
	if l.HDR == "" {
		return fmt.Errorf("merge: %s: %s has %d values but no histogram (hdr): cannot merge its percentiles", m.name(who), key, l.Count)
	}
	h, err := hdr.Decode([]byte(l.HDR))
	if err != nil {
		return fmt.Errorf("merge: %s: %s histogram: %v", m.name(who), key, err)
	}
	if m.hists[key] == nil {
		m.hists[key] = newHist()
	}
	if dropped := m.hists[key].Merge(h); dropped > 0 {
		return fmt.Errorf("merge: %s: %s histogram: %d values out of range", m.name(who), key, dropped)
	}
	return nil
}

// addErrors adds r's error classes: sums, and the earliest first occurrence.
func (m *merger) addErrors(r *Report) {
	for _, e := range r.Errors {
		es := m.errs[e.Class]
		if es == nil {
			es = &ErrorStats{Class: e.Class, Codes: map[int]uint64{}, Phases: map[string]uint64{}}
			m.errs[e.Class] = es
		}
		es.Count += e.Count
		es.ClientSide = es.ClientSide || e.ClientSide
		for c, k := range e.Codes {
			es.Codes[c] += k
		}
		for p, k := range e.Phases {
			es.Phases[p] += k
		}
		at := r.Start.Add(secDur(e.First))
		if f, seen := m.errFirst[e.Class]; !seen || at.Before(f) {
			m.errFirst[e.Class] = at
			es.FirstPhase, es.FirstError, es.FirstReply = e.FirstPhase, e.FirstError, e.FirstReply
		}
	}
}

// addTLS adds a shard's data handshake counts (FTPS runs).
func (m *merger) addTLS(t *TLSStats) {
	if t == nil {
		return
	}
	out := m.out
	if out.TLS == nil {
		out.TLS = &TLSStats{}
	}
	out.TLS.DataHandshakes += t.DataHandshakes
	out.TLS.Resumed += t.Resumed
	for k, n := range t.Suites {
		if out.TLS.Suites == nil {
			out.TLS.Suites = map[string]uint64{}
		}
		out.TLS.Suites[k] += n
	}
	out.TLS.finish()
}

// addPorts adds a shard's passive-port advertisements.
func (m *merger) addPorts(p PortStats) {
	out := m.out
	if p.Seen > 0 {
		if out.Ports.Seen == 0 || p.Min < out.Ports.Min {
			out.Ports.Min = p.Min
		}
		if p.Max > out.Ports.Max {
			out.Ports.Max = p.Max
		}
		if p.Counts == nil {
			m.countsExact = false
		}
	}
	out.Ports.Seen += p.Seen
	out.Ports.OutOfRange += p.OutOfRange
	out.Ports.AddrMismatch += p.AddrMismatch
	out.Ports.Distinct = max(out.Ports.Distinct, p.Distinct)
	for port, k := range p.Counts {
		m.portCounts[port] += k
	}
}

// addPerSession adds a shard's per-session throughput.
func (m *merger) addPerSession(q *SessionStats) {
	if q == nil {
		return
	}
	if m.ps == nil {
		m.ps = &SessionStats{MinBps: q.MinBps}
	}
	ps := m.ps
	ps.Sessions += q.Sessions
	ps.MinBps = math.Min(ps.MinBps, q.MinBps)
	ps.MaxBps = math.Max(ps.MaxBps, q.MaxBps)
	m.psWeighted += q.MeanBps * float64(q.Sessions)
}

// addExhaust notes report i's capacity in run and keeps the first shard to
// exhaust, by wall clock.
func (m *merger) addExhaust(i int, run *ShardRun) {
	r := m.reps[i]
	ex := r.Exhaust
	if ex == nil {
		return
	}
	c := ex.Capacity
	run.Capacity = &c
	at := r.Start.Add(secDur(ex.TimeToExhaust))
	better := m.exFrom < 0
	if !better {
		prev := m.reps[m.exFrom].Exhaust
		switch {
		case ex.CapacityReached != prev.CapacityReached:
			better = ex.CapacityReached
		default:
			better = at.Before(m.earliestEx)
		}
	}
	if better {
		m.exFrom, m.earliestEx = i, at
	}
}

// addTimeline lays report i's timeline on the merged wall-clock seconds.
func (m *merger) addTimeline(i int) {
	r := m.reps[i]
	if len(r.Timeline) == 0 {
		return
	}
	d := timelineStart(r).Sub(m.out.TimelineStart)
	shift := int(math.Round(d.Seconds()))
	if d%time.Second != 0 {
		m.warn("%s: timeline starts %s after the earliest, not a whole number of seconds (not a v1.2 shard report?): placed %d s later", m.name(i), d, shift)
	}
	for _, t := range r.Timeline {
		j := t.Second + shift
		for len(m.tl) <= j {
			m.tl = append(m.tl, mergedSecond{Second: Second{Second: len(m.tl)}})
		}
		s := &m.tl[j]
		s.Ops += t.Ops
		s.Errors += t.Errors
		s.Bytes += t.Bytes
		s.latSum += t.MeanMs * float64(t.Ops)
		s.MaxMs = math.Max(s.MaxMs, t.MaxMs)
		s.Active += t.Active
		for c, k := range t.ErrorsByClass {
			if s.ErrorsByClass == nil {
				s.ErrorsByClass = map[ErrorClass]uint64{}
			}
			s.ErrorsByClass[c] += k
		}
	}
}

// finish computes what is known only once every shard is added: ratios,
// rates, percentiles, the sorted errors, ports, exhaust and timeline.
func (m *merger) finish() {
	m.finishTotals()
	m.finishLatency()
	m.finishErrors()
	m.finishPorts()
	if ps := m.ps; ps != nil {
		if ps.Sessions > 0 {
			ps.MeanBps = m.psWeighted / float64(ps.Sessions)
		}
		m.out.PerSession = ps
	}
	m.finishExhaust()
	m.finishTimeline()
	slices.Sort(m.out.Merged.Indices)
}

// finishTotals sets the success ratio, and the rates over the merged span.
func (m *merger) finishTotals() {
	out := m.out
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
}

// finishLatency takes the percentiles of the merged histograms.
func (m *merger) finishLatency() {
	out := m.out
	if h := m.hists["latency"]; h != nil {
		out.Latency = summarize(h)
	}
	if h := m.hists["latency_corrected"]; h != nil {
		out.LatencyCorrected = summarize(h)
	}
	for k, h := range m.hists {
		if p, ok := strings.CutPrefix(k, "phases."); ok {
			out.Phases[p] = summarize(h)
		}
	}
}

// finishErrors lists the error classes, most frequent first, each first
// occurrence measured from the merged start.
func (m *merger) finishErrors() {
	out := m.out
	for c, e := range m.errs {
		e.First = m.errFirst[c].Sub(out.Start).Seconds()
		out.Errors = append(out.Errors, *e)
	}
	sort.Slice(out.Errors, func(i, j int) bool {
		if out.Errors[i].Count != out.Errors[j].Count {
			return out.Errors[i].Count > out.Errors[j].Count
		}
		return out.Errors[i].Class < out.Errors[j].Class
	})
}

// finishPorts sets the declared range and the per-port counts, and warns
// when the distinct count is only a lower bound.
func (m *merger) finishPorts() {
	out := m.out
	out.Ports.Range = m.st.PasvRange
	if len(m.portCounts) > 0 {
		out.Ports.Counts = m.portCounts
		if m.countsExact {
			out.Ports.Distinct = len(m.portCounts)
		}
	}
	if out.Ports.Seen > 0 && !m.countsExact {
		m.warn("a shard report has no ports.counts (v1.0): ports.distinct is only a lower bound (the largest shard's)")
	}
}

// finishExhaust takes the exhaust summary of the first shard to exhaust,
// timed from the merged start, and warns of each shard's capacity.
func (m *merger) finishExhaust() {
	if m.exFrom < 0 {
		return
	}
	out := m.out
	ex := *m.reps[m.exFrom].Exhaust
	ex.TimeToExhaust = m.earliestEx.Sub(out.Start).Seconds()
	out.Exhaust = &ex
	var sum int
	var caps []int
	for _, r := range out.Merged.Runs {
		if r.Capacity != nil {
			sum += *r.Capacity
			caps = append(caps, *r.Capacity)
		}
	}
	m.warn("exhaust: each shard ramped on its own; the capacity shown (%d) is shard %d's, the first to exhaust; the shards held %s (sum %d) when each stopped, not necessarily at once",
		ex.Capacity, m.reps[m.exFrom].Settings.Shard.Index, intList(caps), sum)
}

// finishTimeline turns the merged seconds into the report's timeline, each
// mean latency weighted by operations.
func (m *merger) finishTimeline() {
	m.out.Timeline = make([]Second, len(m.tl))
	for j, t := range m.tl {
		if t.Ops > 0 {
			t.MeanMs = t.latSum / float64(t.Ops)
		}
		m.out.Timeline[j] = t.Second
	}
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
