package loadgen

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ftpharness/ftpharness/ftp"
	"github.com/ftpharness/ftpharness/target"
)

// fakeClock is virtual time: Sleep advances it instead of waiting.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Unix(1_000_000, 0)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.Advance(d)
	return nil
}

func (c *fakeClock) Advance(d time.Duration) {
	if d <= 0 {
		return
	}
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// fakeDriver is a session whose operations take service(n) of virtual
// (or, with a real clock, real) time.
type fakeDriver struct {
	clock   Clock
	n       *atomic.Int64
	service func(n int64) time.Duration
	open_   bool
}

func (d *fakeDriver) alive() bool { return d.open_ }
func (d *fakeDriver) close()      { d.open_ = false }
func (d *fakeDriver) open(ctx context.Context) *Result {
	t := d.clock.Now()
	d.open_ = true
	return &Result{Op: "login", Start: t, End: t}
}
func (d *fakeDriver) do(ctx context.Context, op string) *Result {
	k := d.n.Add(1) - 1
	r := &Result{Op: op, Start: d.clock.Now()}
	d.clock.Sleep(context.Background(), d.service(k))
	r.End = d.clock.Now()
	r.SetPhase(PhasePasv, r.End.Sub(r.Start))
	return r
}

func fakeAttacker(clock Clock, service func(int64) time.Duration, opts ...Option) *Attacker {
	a := NewAttacker(target.Config{Addr: "fake"}, append([]Option{WithClock(clock)}, opts...)...)
	var n atomic.Int64
	a.newDriver = func(a *Attacker, idx int) driver {
		return &fakeDriver{clock: clock, n: &n, service: service}
	}
	return a
}

func drain(t testing.TB, a *Attacker, ctx context.Context, scenario string) []*Result {
	t.Helper()
	ch, err := a.Attack(ctx, scenario)
	if err != nil {
		t.Fatal(err)
	}
	var rs []*Result
	for r := range ch {
		rs = append(rs, r)
	}
	return rs
}

func ops(rs []*Result, op string) []*Result {
	var out []*Result
	for _, r := range rs {
		if r.Op == op {
			out = append(out, r)
		}
	}
	return out
}

func TestCoordinatedOmissionCorrection(t *testing.T) {
	clock := newFakeClock()
	// 100/s: one operation every 10ms; operation 5 stalls for 500ms.
	service := func(n int64) time.Duration {
		if n == 5 {
			return 500 * time.Millisecond
		}
		return time.Millisecond
	}
	a := fakeAttacker(clock, service, WithRate(100), WithSessions(1), WithCount(40), WithDuration(time.Hour))
	start := clock.Now()
	rs := ops(drain(t, a, context.Background(), Churn), "retr")
	if len(rs) != 40 {
		t.Fatalf("got %d operations, want 40", len(rs))
	}
	for i, r := range rs {
		if want := start.Add(time.Duration(i) * 10 * time.Millisecond); !r.Intended.Equal(want) {
			t.Fatalf("op %d intended %v, want %v", i, r.Intended.Sub(start), want.Sub(start))
		}
		if r.CorrectedLatency() < r.Latency() {
			t.Fatalf("op %d: corrected %v < uncorrected %v", i, r.CorrectedLatency(), r.Latency())
		}
		if i != 5 && r.Latency() > 15*time.Millisecond {
			t.Errorf("op %d: service time %v", i, r.Latency())
		}
	}
	// op 6 was due at 60ms but could start only after op 5 ended (>= 550ms)
	if got := rs[6].CorrectedLatency(); got < 490*time.Millisecond {
		t.Errorf("op 6 corrected latency %v, want >= 490ms", got)
	}
	m := NewMetrics(time.Time{})
	for _, r := range rs {
		m.Add(r)
	}
	rep := m.Report(Settings{})
	// uncorrected: only 1 of 40 is slow; corrected: the backlog shows
	if rep.Latency.P90 > 15 {
		t.Errorf("uncorrected p90 %.3fms, want ~1ms", rep.Latency.P90)
	}
	if rep.LatencyCorrected.P90 < 100 {
		t.Errorf("corrected p90 %.3fms, want the stall to show", rep.LatencyCorrected.P90)
	}
	if rep.Latency.Max < 499 || rep.Latency.Max > 520 {
		t.Errorf("uncorrected max %.3fms, want 500", rep.Latency.Max)
	}
}

func TestClosedLoopIntendedIsStart(t *testing.T) {
	clock := newFakeClock()
	a := fakeAttacker(clock, func(int64) time.Duration { return time.Millisecond }, WithSessions(3), WithCount(30))
	rs := ops(drain(t, a, context.Background(), Churn), "retr")
	if len(rs) != 30 {
		t.Fatalf("count bound: got %d operations, want 30", len(rs))
	}
	for _, r := range rs {
		if !r.Intended.Equal(r.Start) {
			t.Fatalf("closed loop: intended %v != start %v", r.Intended, r.Start)
		}
	}
	if n := len(ops(drain(t, fakeAttacker(clock, func(int64) time.Duration { return 0 }, WithSessions(2), WithCount(7)), context.Background(), Mixed), "")); n != 0 {
		t.Fatal("unexpected empty op")
	}
}

func TestMixedCountAndWeights(t *testing.T) {
	clock := newFakeClock()
	a := fakeAttacker(clock, func(int64) time.Duration { return 0 }, WithSessions(2), WithCount(1000), WithMix(Mix{{"noop", 3}, {"pwd", 1}, {"retr", 0}}))
	rs := drain(t, a, context.Background(), Mixed)
	counts := map[string]int{}
	for _, r := range rs {
		counts[r.Op]++
	}
	if counts["noop"]+counts["pwd"] != 1000 || counts["retr"] != 0 {
		t.Fatalf("counts %v", counts)
	}
	if counts["noop"] < 650 || counts["noop"] > 850 {
		t.Errorf("noop weight 3/4: got %d of 1000", counts["noop"])
	}
}

func TestDurationBound(t *testing.T) {
	a := fakeAttacker(realClock{}, func(int64) time.Duration { return time.Millisecond }, WithSessions(4), WithDuration(200*time.Millisecond))
	t0 := time.Now()
	rs := drain(t, a, context.Background(), Churn)
	el := time.Since(t0)
	if el < 190*time.Millisecond || el > 2*time.Second {
		t.Errorf("duration 200ms run took %v", el)
	}
	if len(rs) < 10 {
		t.Errorf("only %d results", len(rs))
	}
}

func TestOpenLoopDurationBound(t *testing.T) {
	a := fakeAttacker(realClock{}, func(int64) time.Duration { return time.Millisecond }, WithRate(200), WithSessions(2), WithDuration(250*time.Millisecond))
	t0 := time.Now()
	rs := ops(drain(t, a, context.Background(), Churn), "retr")
	if el := time.Since(t0); el > 2*time.Second {
		t.Errorf("open loop run took %v", el)
	}
	// 200/s for 250ms: about 50
	if len(rs) < 30 || len(rs) > 60 {
		t.Errorf("open loop produced %d operations, want ~50", len(rs))
	}
}

func TestCancelDrains(t *testing.T) {
	// operations take 50ms; cancelling stops new ones, in-flight ones finish
	a := fakeAttacker(realClock{}, func(int64) time.Duration { return 50 * time.Millisecond }, WithSessions(4), WithDuration(time.Minute))
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(120*time.Millisecond, cancel)
	t0 := time.Now()
	rs := ops(drain(t, a, ctx, Churn), "retr")
	if el := time.Since(t0); el > time.Second {
		t.Fatalf("cancel: run went on for %v", el)
	}
	for _, r := range rs {
		if !r.OK() {
			t.Fatalf("drained operation failed: %+v", r)
		}
	}
	if len(rs) < 8 || len(rs) > 16 {
		t.Errorf("got %d operations for ~150ms of 4x50ms sessions", len(rs))
	}
}

func TestClassify(t *testing.T) {
	opErr := func(e error) error {
		return &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", e)}
	}
	cases := []struct {
		err  error
		want ErrorClass
		code int
	}{
		{&ftp.ReplyError{Cmd: "PASV", Reply: ftp.Reply{Code: 421, Raw: []byte("421 Could not listen\r\n")}}, ClassReply4xx, 421},
		{&ftp.ReplyError{Cmd: "PASV", Reply: ftp.Reply{Code: 500, Raw: []byte("500 OOPS: vsf_sysutil_bind\r\n")}}, ClassReply5xx, 500},
		{&ftp.ReplyError{Cmd: "EPSV", Reply: ftp.Reply{Code: 227, Raw: []byte("227 x\r\n")}}, ClassUnexpected, 227},
		{&ftp.ReplyError{Cmd: "PASV", Reply: ftp.Reply{Code: 425, Lines: []string{"425 no"}}}, ClassReply4xx, 425},
		{&ftp.ProtocolError{Kind: "bad-code"}, ClassProtocol, 0},
		{&ftp.ProtocolError{Kind: "malformed"}, ClassProtocol, 0},
		{opErr(syscall.ECONNREFUSED), ClassRefused, 0},
		{opErr(syscall.ECONNRESET), ClassReset, 0},
		{opErr(syscall.EPIPE), ClassReset, 0},
		{opErr(syscall.EADDRNOTAVAIL), ClassClientAddrLimit, 0},
		{opErr(syscall.EMFILE), ClassClientFDLimit, 0},
		{opErr(syscall.ENFILE), ClassClientFDLimit, 0},
		{io.EOF, ClassDropped, 0},
		{fmt.Errorf("read: %w", io.ErrUnexpectedEOF), ClassDropped, 0},
		{os.ErrDeadlineExceeded, ClassTimeout, 0},
		{context.DeadlineExceeded, ClassTimeout, 0},
		{context.Canceled, ClassCanceled, 0},
		{errors.New("weird"), ClassOther, 0},
	}
	for _, c := range cases {
		got := Classify(c.err)
		if got.Class != c.want || got.Code != c.code {
			t.Errorf("Classify(%v) = %+v, want %s %d", c.err, got, c.want, c.code)
		}
	}
	if got := Classify(cases[0].err).Reply; got != "421 Could not listen" {
		t.Errorf("sample reply %q", got)
	}
	if Classify(nil).Class != "" {
		t.Error("nil error classified")
	}
	if !ClassClientFDLimit.ClientSide() || !ClassClientAddrLimit.ClientSide() || ClassReset.ClientSide() {
		t.Error("ClientSide wrong")
	}
	for c, want := range map[ErrorClass]string{ClassReply4xx: ModeReply4xx, ClassReply5xx: ModeReply5xx, ClassOutOfRange: ModeOutOfRange,
		ClassTimeout: ModeTimeout, ClassReset: ModeDropped, ClassDropped: ModeDropped, ClassRefused: ModeDropped,
		ClassAddrMismatch: ModeAddrMismatch, ClassClientFDLimit: ""} {
		if got := modeOf(c); got != want {
			t.Errorf("modeOf(%s) = %q, want %q", c, got, want)
		}
	}
}

func TestClassifyRealRefusal(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, err = ftp.DialTCP(context.Background(), addr, nil)
	if c := Classify(err); c.Class != ClassRefused {
		t.Errorf("dial closed port: %v -> %s", err, c.Class)
	}
}

func TestMetricsMath(t *testing.T) {
	m := NewMetrics(time.Time{})
	t0 := time.Unix(1000, 0)
	// 1..1000 ms latencies, one per millisecond
	for i := 1; i <= 1000; i++ {
		st := t0.Add(time.Duration(i) * time.Millisecond)
		r := &Result{Op: "retr", Start: st, Intended: st, End: st.Add(time.Duration(i) * time.Millisecond), Bytes: 10, Port: 30000 + i%10, Session: i % 2}
		r.SetPhase(PhasePasv, time.Duration(i)*time.Microsecond)
		if i%100 == 0 {
			r.Class, r.FailedPhase, r.Code, r.Reply, r.Err = ClassReply4xx, PhasePasv, 421, "421 full", "PASV: 421 full"
		}
		if i == 1000 {
			r.Port, r.OutOfRange = 40000, true
		}
		m.Add(r)
	}
	m.Add(&Result{Op: "login", Start: t0, End: t0.Add(time.Millisecond)})
	m.Close()
	rep := m.Report(Settings{PasvRange: "30000-30009"})
	near := func(name string, got, want, tol float64) {
		if math.Abs(got-want) > tol {
			t.Errorf("%s = %v, want %v ± %v", name, got, want, tol)
		}
	}
	near("p50", rep.Latency.P50, 500, 1)
	near("p90", rep.Latency.P90, 900, 1)
	near("p99", rep.Latency.P99, 990, 1)
	near("p99.9", rep.Latency.P999, 999, 1)
	near("max", rep.Latency.Max, 1000, 1)
	near("min", rep.Latency.Min, 1, 0.01)
	near("mean", rep.Latency.Mean, 500.5, 0.5)
	near("pasv p50", rep.Phases["pasv"].P50, 0.5, 0.001)
	if rep.Latency.Count != 1000 {
		t.Errorf("latency count %d (logins must not count)", rep.Latency.Count)
	}
	if rep.Totals.Count != 1001 || rep.Totals.Errors != 10 || rep.Totals.OK != 991 || rep.Totals.Bytes != 10000 {
		t.Errorf("totals %+v", rep.Totals)
	}
	if len(rep.Errors) != 1 || rep.Errors[0].Class != ClassReply4xx || rep.Errors[0].Count != 10 || rep.Errors[0].Codes[421] != 10 || rep.Errors[0].FirstReply != "421 full" {
		t.Errorf("errors %+v", rep.Errors)
	}
	near("first error", rep.Errors[0].First, 0.199, 0.001) // op 100 ends 199ms after the first start
	if p := rep.Ports; p.Distinct != 11 || p.Min != 30000 || p.Max != 40000 || p.OutOfRange != 1 || p.Seen != 1000 {
		t.Errorf("ports %+v", p)
	}
	// run spans 1ms .. 2000ms: 2s, 1000 ops (logins excluded)
	near("duration", rep.Duration, 2.0, 0.001)
	near("rate", rep.Totals.Rate, 500, 1)
	if len(rep.Timeline) != 2 {
		t.Fatalf("timeline %d seconds", len(rep.Timeline))
	}
	var sum uint64
	for _, s := range rep.Timeline {
		sum += s.Ops
	}
	if sum != 1001 {
		t.Errorf("timeline ops %d", sum)
	}
	if rep.PerSession == nil || rep.PerSession.Sessions != 2 {
		t.Errorf("per session %+v", rep.PerSession)
	}
	// quantiles from the kept histogram
	near("p75 via HDR", rep.Latency.Quantile(75), 750, 1)
}

func TestReportJSONRoundTrip(t *testing.T) {
	m := NewMetrics(time.Time{})
	t0 := time.Unix(2000, 0)
	for i := 0; i < 100; i++ {
		r := &Result{Op: "retr", Start: t0, End: t0.Add(time.Duration(i+1) * time.Millisecond), Port: 30000 + i, Bytes: 5}
		r.SetPhase(PhaseDataConnect, time.Duration(i)*time.Microsecond)
		m.Add(r)
	}
	yes := true
	m.Add(&Result{Op: "exhaust-summary", Exhaust: &ExhaustSummary{Capacity: 10, CapacityReached: true, FailureMode: ModeReply4xx, FailureCode: 421, FailureReply: "421 x", SessionSurvive: &yes, Recovered: true, RecoveryTime: 0.01}})
	m.Close()
	rep := m.Report(Settings{Scenario: Exhaust, Target: "127.0.0.1:21", Sources: []string{"127.0.0.2"}})
	var buf bytes.Buffer
	if err := NewJSONReporter(rep)(&buf); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `"schema": "ftpload.report/v1.`) || !strings.Contains(buf.String(), `"failure_mode": "reply-4xx"`) {
		t.Fatalf("JSON lacks schema or failure_mode:\n%s", buf.String()[:400])
	}
	back, err := ReadReport(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	var buf2 bytes.Buffer
	NewJSONReporter(back)(&buf2)
	if buf.String() != buf2.String() {
		t.Errorf("round trip changed the report:\n%s\n---\n%s", buf.String(), buf2.String())
	}
	if back.Exhaust.Capacity != 10 || back.Phases["data-connect"].Count != 100 || back.Latency.Quantile(50) != rep.Latency.Quantile(50) {
		t.Errorf("round trip lost data: %+v", back.Exhaust)
	}
	// text and CSV render from the round-tripped report
	var txt, csv bytes.Buffer
	NewTextReporter(back)(&txt)
	NewCSVReporter(back)(&csv)
	if !strings.Contains(txt.String(), "Capacity") || !strings.Contains(txt.String(), "reply-4xx") {
		t.Errorf("text report:\n%s", txt.String())
	}
	if !strings.HasPrefix(csv.String(), "second,ops,errors,bytes,mean_ms,max_ms,active\n0,100,") {
		t.Errorf("csv:\n%s", csv.String())
	}
	// a report of another schema is refused
	if _, err := ReadReport(strings.NewReader(`{"schema":"ftpload.report/v2.0"}`)); err == nil {
		t.Error("v2 schema accepted")
	}
}

func TestThresholds(t *testing.T) {
	rep := &Report{Schema: SchemaVersion, Totals: Totals{Count: 100, Errors: 2, Throughput: 400e6, Rate: 1234},
		Latency: LatencyStats{P99: 12, Max: 80}, Phases: map[string]LatencyStats{"pasv": {P99: 60, P50: 1}},
		Exhaust: &ExhaustSummary{Capacity: 998, RecoveryTime: 0.5}}
	cases := map[string]bool{
		"errors>0":                true,
		"errors>5":                false,
		"error_rate>1%":           true,
		"error_rate>=3%":          false,
		"p99.pasv>50ms":           true,
		"p99.pasv>0.1s":           false,
		"p50.pasv<=1":             true,
		"p99>20ms":                false,
		"max>79":                  true,
		"throughput<500MB/s":      true,
		"throughput<300MB/s":      false,
		"capacity<1000":           true,
		"capacity!=998":           false,
		"rate<1000":               false,
		"recovery>100ms":          true,
		"p99.9.pasv>1000":         false,
		"errors>0, capacity<1000": true,
	}
	for expr, want := range cases {
		ts, err := ParseThresholds(expr)
		if err != nil {
			t.Errorf("%s: %v", expr, err)
			continue
		}
		any := false
		for _, th := range ts {
			b, _, err := th.Check(rep)
			if err != nil {
				t.Errorf("%s: %v", expr, err)
			}
			any = any || b
		}
		if any != want {
			t.Errorf("%s: broken=%v, want %v", expr, any, want)
		}
	}
	for _, bad := range []string{"errors", "p99.bogus>1", "nope>1", "p0>1", "errors>x"} {
		if _, err := ParseThresholds(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestParsers(t *testing.T) {
	ips, err := ParseSources("127.0.0.2-127.0.0.9")
	if err != nil || len(ips) != 8 || ips[0].String() != "127.0.0.2" || ips[7].String() != "127.0.0.9" {
		t.Errorf("sources %v %v", ips, err)
	}
	if ips, _ := ParseSources("127.0.0.1,127.0.0.5-127.0.0.6"); len(ips) != 3 {
		t.Errorf("list %v", ips)
	}
	if _, err := ParseSources("127.0.0.9-127.0.0.2"); err == nil {
		t.Error("reversed range accepted")
	}
	if pr, err := target.ParseRange("30000-30009"); err != nil || pr.Size() != 10 || !pr.Contains(30009) || pr.Contains(30010) {
		t.Errorf("range %v %v", pr, err)
	}
	for s, want := range map[string]int64{"100": 100, "4KiB": 4096, "10MB": 10e6, "1GiB": 1 << 30, "1.5K": 1536} {
		if got, err := ParseSize(s); err != nil || got != want {
			t.Errorf("ParseSize(%s) = %d %v, want %d", s, got, err, want)
		}
	}
	if m, err := ParseMix("retr=4,noop"); err != nil || m.total() != 5 {
		t.Errorf("mix %v %v", m, err)
	}
	if _, err := ParseMix("dele=1"); err == nil {
		t.Error("unknown mix op accepted")
	}
}

func TestReplyReader(t *testing.T) {
	cases := []struct {
		in   string
		code int
		err  bool
	}{
		{"220 hello\r\n", 220, false},
		{"220-multi\r\n line\r\n220-still\r\n220 end\r\n", 220, false},
		{"227 Entering Passive Mode (127,0,0,1,117,53)\n", 227, false}, // missing CR tolerated
		{"hello\r\n", 0, true},
		{"22", 0, true},
		{"230-a\r\n", 230, true},   // EOF mid-reply
		{"620 six\r\n", 620, true}, // not a code a client can act on
		{"220x\r\n", 0, true},
	}
	for _, c := range cases {
		a, b := net.Pipe()
		go func() { b.Write([]byte(c.in)); b.Close() }()
		cc := newCtrl(a, nil, time.Second)
		r, err := cc.read()
		if (err != nil) != c.err || (!c.err && r.Code != c.code) {
			t.Errorf("%q: code %d err %v", c.in, r.Code, err)
		}
		a.Close()
	}
	if got := replyLine(ftp.Reply{Raw: []byte("220-a\r\n220 b\r\n")}); got != "220-a | 220 b" {
		t.Errorf("Line %q", got)
	}
}

// roundTrip passes a report through its JSON form, as ftpload report does.
func roundTrip(t *testing.T, rep *Report) *Report {
	t.Helper()
	var b bytes.Buffer
	if err := NewJSONReporter(rep)(&b); err != nil {
		t.Fatal(err)
	}
	back, err := ReadReport(&b)
	if err != nil {
		t.Fatal(err)
	}
	return back
}
