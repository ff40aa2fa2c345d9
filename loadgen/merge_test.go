package loadgen

import (
	"crypto/tls"
	"maps"
	"math"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ftpharness/ftpharness/target"
)

// synthetic results of one run split over 4 shards: result i belongs to
// shard i%4; each shard started at its own (sub-second) offset.
func synthResults(shards int) (starts []time.Time, byShard [][]*Result) {
	t0 := time.Date(2026, 11, 24, 14, 0, 7, 0, time.UTC)
	byShard = make([][]*Result, shards)
	for k := 0; k < shards; k++ {
		starts = append(starts, t0.Add(time.Duration(k)*370*time.Millisecond)) // 0, .37, .74, 1.11 s
	}
	for i := 0; i < 4000; i++ {
		k := i % shards
		st := starts[k].Add(time.Duration(i/shards) * 2 * time.Millisecond)
		lat := time.Duration(200+(i*7919)%50000) * time.Microsecond // 0.2..50 ms
		r := &Result{Op: "retr", Session: i % 3, Start: st, Intended: st, End: st.Add(lat), Bytes: 100, Port: 31000 + (i*13)%97, Active: 3}
		r.SetPhase(PhasePasv, lat/3)
		r.SetPhase(PhaseDataConnect, lat/7)
		r.DataTLS, r.Resumed = i%3 == 0, i%6 == 0 // FTPS counts merge too
		r.TLSVersion, r.TLSSuite = tls.VersionTLS13, []uint16{tls.TLS_AES_128_GCM_SHA256, tls.TLS_AES_256_GCM_SHA384}[i%2]
		switch {
		case i%101 == 0:
			r.Class, r.FailedPhase, r.Code, r.Reply, r.Bytes = ClassReply4xx, PhasePasv, 421, "421 no port", 0
		case i%257 == 0:
			r.Class, r.FailedPhase, r.Err, r.Bytes = ClassTimeout, PhaseFirstByte, "i/o timeout", 0
		}
		byShard[k] = append(byShard[k], r)
	}
	for k := 0; k < shards; k++ { // logins
		l := &Result{Op: "login", Start: starts[k], End: starts[k].Add(time.Millisecond)}
		l.SetPhase(PhaseLogin, time.Millisecond)
		byShard[k] = append([]*Result{l}, byShard[k]...)
	}
	return starts, byShard
}

func shardReport(t *testing.T, begin time.Time, rs []*Result, set Settings) *Report {
	m := NewMetrics(begin)
	m.AlignTimeline()
	for _, r := range rs {
		m.Add(r)
	}
	m.Close()
	return roundTrip(t, m.Report(set))
}

func baseSettings() Settings {
	return Settings{Scenario: Churn, Target: "127.0.0.1:2121", User: "u", Model: "closed", Sessions: 2, Count: 1000, PasvRange: "31000-31096", Timeout: 5}
}

func shardReports(t *testing.T) ([]*Report, *Report) {
	starts, byShard := synthResults(4)
	var reps []*Report
	var all []*Result
	for k := range byShard {
		set := baseSettings()
		set.Shard = &Shard{k, 4}
		seed := uint64(40 + k)
		set.Seed = &seed
		set.Sources = []string{net.IPv4(127, 0, 0, byte(2+2*k)).String(), net.IPv4(127, 0, 0, byte(3+2*k)).String()}
		reps = append(reps, shardReport(t, starts[k], byShard[k], set))
		all = append(all, byShard[k]...)
	}
	// the unsharded run sees results in completion order
	slices.SortStableFunc(all, func(a, b *Result) int { return a.End.Compare(b.End) })
	set := baseSettings()
	whole := shardReport(t, starts[0], all, set)
	return reps, whole
}

// Merging the shard reports gives the whole run's report: counters, errors
// and ports summed exactly, and the percentiles exactly those of one
// histogram of every result (HdrHistogram merge is lossless).
func TestMergeExact(t *testing.T) {
	reps, whole := shardReports(t)
	// give them out of order: Merge sorts by index
	in := []*Report{reps[2], reps[0], reps[3], reps[1]}
	got, warns, err := Merge(in, []string{"s2", "s0", "s3", "s1"})
	if err != nil {
		t.Fatal(err)
	}
	if len(warns) != 0 {
		t.Errorf("warnings: %v", warns)
	}
	got = roundTrip(t, got)
	if got.TLS == nil || whole.TLS == nil || got.TLS.DataHandshakes != whole.TLS.DataHandshakes || got.TLS.Resumed != whole.TLS.Resumed ||
		got.TLS.ResumptionRate != whole.TLS.ResumptionRate || !maps.Equal(got.TLS.Suites, whole.TLS.Suites) || len(got.TLS.Suites) != 2 ||
		got.TLS.Resumed == 0 || got.TLS.ResumptionRate != 0.5 {
		t.Errorf("tls: merged %+v, whole %+v", got.TLS, whole.TLS)
	}
	if got.Merged == nil || got.Merged.Shards != 4 || !slices.Equal(got.Merged.Indices, []int{0, 1, 2, 3}) || len(got.Merged.Runs) != 4 {
		t.Fatalf("merged info %+v", got.Merged)
	}
	if got.Settings.Shard != nil || got.Settings.Sessions != 8 || got.Settings.Count != 4000 || len(got.Settings.Sources) != 8 ||
		got.Settings.Sources[0] != "127.0.0.2" || got.Settings.Seed == nil || *got.Settings.Seed != 40 {
		t.Errorf("settings %+v", got.Settings)
	}
	w, g := whole.Totals, got.Totals
	if g.Count != w.Count || g.OK != w.OK || g.Errors != w.Errors || g.Bytes != w.Bytes || g.SuccessRatio != w.SuccessRatio {
		t.Errorf("totals %+v, want %+v", g, w)
	}
	if math.Abs(g.Rate-w.Rate) > 1e-9*w.Rate || got.Duration != whole.Duration || !got.Start.Equal(whole.Start) || !got.End.Equal(whole.End) {
		t.Errorf("rate %v/%v duration %v/%v", g.Rate, w.Rate, got.Duration, whole.Duration)
	}
	for k, o := range whole.Ops {
		if got.Ops[k] != o {
			t.Errorf("ops %s: %+v, want %+v", k, got.Ops[k], o)
		}
	}
	same := func(name string, a, b LatencyStats) {
		a.HDR, b.HDR = "", ""
		if a.Count != b.Count || a.P50 != b.P50 || a.P90 != b.P90 || a.P99 != b.P99 || a.P999 != b.P999 || a.Max != b.Max || a.Min != b.Min ||
			math.Abs(a.Mean-b.Mean) > 1e-9*b.Mean {
			t.Errorf("%s: merged %+v\nwant %+v", name, a, b)
		}
	}
	same("latency", got.Latency, whole.Latency)
	same("latency_corrected", got.LatencyCorrected, whole.LatencyCorrected)
	if len(got.Phases) != len(whole.Phases) {
		t.Errorf("phases %v", got.Phases)
	}
	for p, l := range whole.Phases {
		same("phase "+p, got.Phases[p], l)
	}
	if len(got.Errors) != len(whole.Errors) {
		t.Fatalf("errors %+v", got.Errors)
	}
	for i, e := range whole.Errors {
		ge := got.Errors[i]
		if ge.Class != e.Class || ge.Count != e.Count || ge.FirstReply != e.FirstReply || ge.FirstError != e.FirstError ||
			math.Abs(ge.First-e.First) > 1e-6 || len(ge.Codes) != len(e.Codes) || ge.Codes[421] != e.Codes[421] || ge.Phases[e.FirstPhase] != e.Phases[e.FirstPhase] {
			t.Errorf("error %d: %+v, want %+v", i, ge, e)
		}
	}
	wp, gp := whole.Ports, got.Ports
	if gp.Seen != wp.Seen || gp.Distinct != wp.Distinct || gp.Min != wp.Min || gp.Max != wp.Max || len(gp.Counts) != len(wp.Counts) {
		t.Errorf("ports %+v, want %+v", gp, wp)
	}
	for p, n := range wp.Counts {
		if gp.Counts[p] != n {
			t.Errorf("port %d: %d, want %d", p, gp.Counts[p], n)
		}
	}
	// the timeline: same wall-clock seconds, same sums per second
	if !got.TimelineStart.Equal(whole.TimelineStart) || len(got.Timeline) != len(whole.Timeline) {
		t.Fatalf("timeline from %v, %d s; want from %v, %d s", got.TimelineStart, len(got.Timeline), whole.TimelineStart, len(whole.Timeline))
	}
	for i, ws := range whole.Timeline {
		gs := got.Timeline[i]
		if gs.Second != i || gs.Ops != ws.Ops || gs.Errors != ws.Errors || gs.Bytes != ws.Bytes || gs.MaxMs != ws.MaxMs ||
			math.Abs(gs.MeanMs-ws.MeanMs) > 1e-6 || len(gs.ErrorsByClass) != len(ws.ErrorsByClass) {
			t.Errorf("second %d: %+v, want %+v", i, gs, ws)
		}
		for c, n := range ws.ErrorsByClass {
			if gs.ErrorsByClass[c] != n {
				t.Errorf("second %d class %s: %d, want %d", i, c, gs.ErrorsByClass[c], n)
			}
		}
	}
	var b strings.Builder
	NewTextReporter(got)(&b)
	if !strings.Contains(b.String(), "from 4 shards of 4") {
		t.Errorf("text report does not say it is merged:\n%s", b.String())
	}
}

// Timelines are laid on wall-clock seconds, not on each shard's start: a
// shard that started 2 s later adds to seconds 2.., and one whose
// timeline_start is not a whole second (a report not made by a shard run)
// is placed to the nearest second with a warning.
func TestMergeWallClock(t *testing.T) {
	t0 := time.Date(2026, 11, 24, 14, 0, 0, 0, time.UTC)
	one := func(idx int, start time.Time, ends ...time.Duration) *Report {
		set := baseSettings()
		set.Shard = &Shard{idx, 2}
		m := NewMetrics(start)
		m.AlignTimeline()
		for _, e := range ends {
			m.Add(&Result{Op: "retr", Start: start, End: start.Add(e), Bytes: 1})
		}
		return roundTrip(t, m.Report(set))
	}
	a := one(0, t0.Add(900*time.Millisecond), 50*time.Millisecond, 200*time.Millisecond, 1200*time.Millisecond) // ends 0.95, 1.1, 2.1
	b := one(1, t0.Add(2300*time.Millisecond), 100*time.Millisecond, 800*time.Millisecond)                      // ends 2.4, 3.1
	if !a.TimelineStart.Equal(t0) || !b.TimelineStart.Equal(t0.Add(2*time.Second)) {
		t.Fatalf("timeline starts %v %v", a.TimelineStart, b.TimelineStart)
	}
	got, warns, err := Merge([]*Report{b, a}, nil)
	if err != nil || len(warns) != 0 {
		t.Fatal(err, warns)
	}
	var ops []uint64
	for _, s := range got.Timeline {
		ops = append(ops, s.Ops)
	}
	// wall-clock seconds 0..3 after t0: 0.95 | 1.1 | 2.1 2.4 | 3.1
	if !got.TimelineStart.Equal(t0) || !slices.Equal(ops, []uint64{1, 1, 2, 1}) {
		t.Errorf("timeline from %v: %v, want from %v: [1 1 2 1]", got.TimelineStart, ops, t0)
	}
	if !got.Start.Equal(a.Start) || !got.End.Equal(t0.Add(3100*time.Millisecond)) || math.Abs(got.Duration-2.2) > 1e-9 {
		t.Errorf("span %v..%v (%v s)", got.Start, got.End, got.Duration)
	}
	// an unaligned report (timeline from its own start): nearest second, warned
	b.TimelineStart = b.Start // 2.3 s: placed at 2
	got, warns, err = Merge([]*Report{a, b}, nil)
	if err != nil || len(warns) != 1 || !strings.Contains(warns[0], "whole number of seconds") {
		t.Fatalf("unaligned: %v %v", err, warns)
	}
}

func TestMergeRefuses(t *testing.T) {
	reps, _ := shardReports(t)
	clone := func(r *Report) *Report { c := *r; c.Settings = r.Settings; return &c }
	check := func(name string, in []*Report, want string) {
		t.Helper()
		_, _, err := Merge(in, []string{"a.json", "b.json", "c.json", "d.json"})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err %v, want %q", name, err, want)
		}
	}
	check("duplicate index", []*Report{reps[0], reps[1], reps[1]}, "shard index 1 twice: b.json and c.json")
	other := clone(reps[1])
	other.Settings.Scenario = Retr
	check("scenario", []*Report{reps[0], other}, "scenarios differ")
	other = clone(reps[1])
	other.Settings.Target = "127.0.0.1:2222"
	check("target", []*Report{reps[0], other}, "targets differ")
	other = clone(reps[1])
	other.Schema = "ftpload.report/v1.1"
	check("schema", []*Report{reps[0], other}, "schemas differ")
	other = clone(reps[1])
	other.Settings.Shard = nil
	check("not a shard", []*Report{reps[0], other}, "b.json is not a shard report")
	other = clone(reps[1])
	other.Settings.Shard = &Shard{1, 3}
	check("shard count", []*Report{reps[0], other}, "shard counts differ")
	other = clone(reps[1])
	other.Latency.HDR = ""
	check("no histogram", []*Report{reps[0], other}, "no histogram")
	m, _, err := Merge(reps, nil)
	if err != nil {
		t.Fatal(err)
	}
	check("merged again", []*Report{m}, "already a merged report")
	check("none", nil, "no report")

	// missing shards: merged, with a warning naming them
	got, warns, err := Merge([]*Report{reps[0], reps[3]}, nil)
	if err != nil || len(warns) != 1 || !strings.Contains(warns[0], "2 of 4 shards missing: indices 1,2") {
		t.Fatalf("missing: %v %v", err, warns)
	}
	if !slices.Equal(got.Merged.Missing, []int{1, 2}) || got.Totals.Count != reps[0].Totals.Count+reps[3].Totals.Count {
		t.Errorf("missing: %+v %+v", got.Merged, got.Totals)
	}
}

// The exhaust summary is the one of the shard that exhausted first by
// wall clock, its time to exhaust from the merged start.
func TestMergeExhaust(t *testing.T) {
	t0 := time.Date(2026, 11, 24, 14, 0, 0, 0, time.UTC)
	mk := func(idx int, start time.Duration, tte float64, capacity int, reached bool) *Report {
		set := baseSettings()
		set.Scenario = Exhaust
		set.Shard = &Shard{idx, 3}
		m := NewMetrics(t0.Add(start))
		m.AlignTimeline()
		m.Add(&Result{Op: "hold", Start: t0.Add(start), End: t0.Add(start + time.Millisecond), Port: 31000 + idx})
		m.Add(&Result{Exhaust: &ExhaustSummary{Capacity: capacity, CapacityReached: reached, TimeToExhaust: tte, FailureMode: ModeReply4xx, FailureReply: "421 shard " + string(rune('0'+idx))}})
		return m.Report(set)
	}
	got, warns, err := Merge([]*Report{
		mk(0, 0, 3.0, 7, true),                     // exhausted at 3.0
		mk(1, 1500*time.Millisecond, 1.0, 6, true), // at 2.5: first
		mk(2, 0, 0.5, 2, false),                    // stopped before exhausting
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ex := got.Exhaust
	if ex == nil || ex.FailureReply != "421 shard 1" || ex.Capacity != 6 || math.Abs(ex.TimeToExhaust-2.5) > 1e-9 {
		t.Errorf("exhaust %+v", ex)
	}
	if len(warns) != 1 || !strings.Contains(warns[0], "shard 1's") || !strings.Contains(warns[0], "7,6,2 (sum 15)") {
		t.Errorf("exhaust warning %q", warns)
	}
	if c := got.Merged.Runs[0].Capacity; c == nil || *c != 7 {
		t.Errorf("per-shard capacity %+v", got.Merged.Runs[0])
	}
	if got.Ports.Distinct != 3 || got.Ports.Seen != 3 {
		t.Errorf("ports %+v", got.Ports)
	}
}

func TestShardShares(t *testing.T) {
	for _, total := range []int{4, 5, 7, 8, 1001, 4003} {
		for n := 1; n <= 4; n++ {
			sum, off := 0, 0
			for i := 0; i < n; i++ {
				s := Shard{i, n}
				if s.Offset(total) != off {
					t.Errorf("%d/%d of %d: offset %d, want %d", i, n, total, s.Offset(total), off)
				}
				sh := s.Share(total)
				if i > 0 && sh > (Shard{i - 1, n}).Share(total) {
					t.Errorf("%d/%d of %d: a higher index got more", i, n, total)
				}
				sum += sh
				off += sh
			}
			if sum != total {
				t.Errorf("shares of %d over %d add up to %d", total, n, sum)
			}
		}
	}
	if got := []int{Shard{0, 4}.Share(10), Shard{1, 4}.Share(10), Shard{2, 4}.Share(10), Shard{3, 4}.Share(10)}; !slices.Equal(got, []int{3, 3, 2, 2}) {
		t.Errorf("10 over 4: %v", got)
	}
	var rate float64
	for i := 0; i < 4; i++ {
		rate += Shard{i, 4}.ShareRate(1001)
	}
	if rate != 1001 || (Shard{0, 4}).ShareRate(1001) != 251 || (Shard{3, 4}).ShareRate(2.5) != 0.625 {
		t.Errorf("rate shares: %v", rate)
	}
	ips, _ := ParseSources("127.0.0.2-127.0.0.11") // 10 over 4: 3 3 2 2
	var seen []string
	for i := 0; i < 4; i++ {
		part, err := Shard{i, 4}.Sources(ips)
		if err != nil {
			t.Fatal(err)
		}
		for _, ip := range part {
			seen = append(seen, ip.String())
		}
		if i == 0 && (len(part) != 3 || part[0].String() != "127.0.0.2") {
			t.Errorf("shard 0 sources %v", part)
		}
	}
	if len(seen) != 10 || len(slices.Compact(slices.Clone(seen))) != 10 {
		t.Errorf("sources not a disjoint cover: %v", seen)
	}
	if _, err := (Shard{0, 4}).Sources(ips[:3]); err == nil {
		t.Error("3 sources over 4 shards accepted")
	}
	if (Shard{3, 4}).Seed(100) != 103 {
		t.Error("seed")
	}
	for _, bad := range []string{"4/4", "-1/4", "1", "a/b", "0/0"} {
		if _, err := ParseShard(bad); err == nil {
			t.Errorf("ParseShard(%q) accepted", bad)
		}
	}
	if s, err := ParseShard(" 2/4 "); err != nil || s != (Shard{2, 4}) {
		t.Errorf("ParseShard: %v %v", s, err)
	}
}

func TestShardFromEnv(t *testing.T) {
	env := func(kv ...string) func(string) string {
		return func(k string) string {
			for i := 0; i+1 < len(kv); i += 2 {
				if kv[i] == k {
					return kv[i+1]
				}
			}
			return ""
		}
	}
	for _, c := range []struct {
		env    func(string) string
		shards int
		want   Shard
		err    string
	}{
		{env(), 0, Shard{}, ""},
		{env(EnvShardIndex, "2", EnvShards, "4"), 0, Shard{2, 4}, ""},
		{env(EnvShardIndex, "2", EnvCompletions, "3"), 0, Shard{2, 3}, ""},
		{env(EnvShardIndex, "1", EnvShards, "4", EnvCompletions, "3"), 0, Shard{1, 4}, ""},
		{env(EnvShardIndex, "3", EnvShards, "2"), 4, Shard{3, 4}, ""}, // --shards wins
		{env(EnvShardIndex, "4", EnvShards, "4"), 0, Shard{}, "out of range"},
		{env(EnvShardIndex, "1"), 0, Shard{}, "no shard count"},
		{env(EnvShards, "4"), 0, Shard{}, "JOB_COMPLETION_INDEX is not set"},
		{env(EnvShards, "1"), 0, Shard{0, 1}, ""},
		{env(EnvShardIndex, "x", EnvShards, "4"), 0, Shard{}, "want a number"},
		{env(EnvShardIndex, "0", EnvShards, "four"), 0, Shard{}, "positive shard count"},
	} {
		got, err := ShardFromEnv(c.env, c.shards)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%+v: err %v, want %q", c, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%+v: %v %v", c, got, err)
		}
	}
}

// The attacker takes its shard's share of the totals.
func TestAttackerShard(t *testing.T) {
	ips, _ := ParseSources("127.0.0.2-127.0.0.9")
	a := NewAttacker(target.Config{Addr: "127.0.0.1:21"}, WithSessions(10), WithCount(1003), WithRate(1001), WithSources(ips), WithSeed(7), WithShard(Shard{1, 4}))
	if a.Err() != nil {
		t.Fatal(a.Err())
	}
	s := a.Settings(Churn)
	if s.Sessions != 3 || s.Count != 251 || s.Rate != 250 || len(s.Sources) != 2 || s.Sources[0] != "127.0.0.4" || *s.Seed != 8 || *s.Shard != (Shard{1, 4}) {
		t.Errorf("shard settings %+v", s)
	}
	// exhaust's default count is the run's, split
	a = NewAttacker(target.Config{Addr: "127.0.0.1:21"}, WithPasvRange(target.Range{Lo: 31000, Hi: 31009}), WithShard(Shard{3, 4}))
	if got := a.Settings(Exhaust).Count; got != 5 { // 20 over 4
		t.Errorf("exhaust shard count %d, want 5", got)
	}
	for _, o := range []Option{WithSessions(3), WithCount(2)} {
		a = NewAttacker(target.Config{Addr: "127.0.0.1:21"}, WithSessions(8), o, WithShard(Shard{0, 4}))
		if a.Err() == nil {
			t.Error("an impossible share was accepted")
		}
		if _, err := a.Attack(t.Context(), Churn); err == nil {
			t.Error("Attack ran an impossible share")
		}
	}
}
