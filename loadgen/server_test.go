package loadgen

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/ftpharness/ftpharness/servers"
	"github.com/ftpharness/ftpharness/servers/servertest"
	"github.com/ftpharness/ftpharness/servers/sink"
	"github.com/ftpharness/ftpharness/target"
)

func startFSL(t *testing.T, rangeSize int) (target.Config, target.Range) {
	return servertest.Start(t, "ftpserverlib", servers.Spec{PasvMax: rangeSize})
}

func startSink(t testing.TB, opts sink.Options) (*sink.Server, target.Config) {
	t.Helper()
	s, err := sink.Start(opts)
	if err != nil {
		t.Fatalf("sink: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s, target.Config{Addr: s.Addr(), User: "u", Password: "p"}
}

func collect(t testing.TB, a *Attacker, ctx context.Context, scenario string) (*Metrics, []*Result) {
	t.Helper()
	ch, err := a.Attack(ctx, scenario)
	if err != nil {
		t.Fatal(err)
	}
	m := NewMetrics(time.Time{})
	var rs []*Result
	for r := range ch {
		m.Add(r)
		rs = append(rs, r)
	}
	m.Close()
	return m, rs
}

func TestExhaustFtpserverlib(t *testing.T) {
	tg, pr := startFSL(t, 10)
	a := NewAttacker(tg, WithPasvRange(pr), WithDuration(20*time.Second), WithTimeout(5*time.Second), WithRecoveryTimeout(5*time.Second))
	m, _ := collect(t, a, context.Background(), Exhaust)
	rep := m.Report(a.Settings(Exhaust))
	ex := rep.Exhaust
	if ex == nil {
		t.Fatal("no exhaust summary")
	}
	t.Logf("%+v", *ex)
	if ex.Capacity != 10 || !ex.CapacityReached {
		t.Errorf("capacity = %d (reached %v), want 10", ex.Capacity, ex.CapacityReached)
	}
	if ex.FailureMode != ModeReply4xx || ex.FailureCode != 421 {
		t.Errorf("failure = %s %d %q, want reply-4xx 421", ex.FailureMode, ex.FailureCode, ex.FailureReply)
	}
	if ex.SessionSurvive == nil || !*ex.SessionSurvive {
		t.Errorf("ftpserverlib keeps the session after a refused PASV; got %v", ex.SessionSurvive)
	}
	if ex.HeldAlive != 10 {
		t.Errorf("held alive = %d of %d", ex.HeldAlive, ex.HeldChecked)
	}
	if !ex.Recovered {
		t.Errorf("not recovered: %s", ex.RecoveryLast)
	}
	if rep.Ports.OutOfRange != 0 || rep.Ports.Distinct != 10 {
		t.Errorf("ports: %+v", rep.Ports)
	}
}

func TestExhaustSink(t *testing.T) {
	// a free block: let the servers package find one, then use it for the sink
	_, pr := startFSLRangeOnly(t, 8)
	s, tg := startSink(t, sink.Options{PasvMin: pr.Lo, PasvMax: pr.Hi})
	_ = s
	a := NewAttacker(tg, WithPasvRange(pr), WithEPSV(true), WithDuration(10*time.Second), WithTimeout(5*time.Second))
	m, _ := collect(t, a, context.Background(), Exhaust)
	ex := m.Report(a.Settings(Exhaust)).Exhaust
	t.Logf("%+v", *ex)
	if ex.Capacity != 8 || ex.FailureMode != ModeReply4xx || ex.FailureCode != 425 || !ex.Recovered {
		t.Errorf("sink exhaust: capacity %d mode %s code %d recovered %v", ex.Capacity, ex.FailureMode, ex.FailureCode, ex.Recovered)
	}
}

// startFSLRangeOnly reserves a free passive block via a stopped ftpserverlib.
func startFSLRangeOnly(t *testing.T, n int) (target.Config, target.Range) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	run, err := servers.Start(ctx, "ftpserverlib", servers.Spec{PasvMax: n})
	if err != nil {
		t.Fatal(err)
	}
	pr, _ := target.ParseRange(run.Target().PasvRange)
	run.Stop()
	return target.Config{}, pr
}

func TestChurnSink(t *testing.T) {
	s, tg := startSink(t, sink.Options{})
	a := NewAttacker(tg, WithSessions(4), WithCount(400), WithDuration(10*time.Second))
	if err := a.Prepare(context.Background(), Churn); err != nil {
		t.Fatal(err)
	}
	m, _ := collect(t, a, context.Background(), Churn)
	rep := m.Report(a.Settings(Churn))
	if got := rep.Ops["retr"].OK; got != 400 {
		t.Errorf("retr ok = %d, want 400 (%+v, errors %+v)", got, rep.Ops, rep.Errors)
	}
	if rep.Totals.Bytes != 400*DefaultChurnSize {
		t.Errorf("bytes = %d", rep.Totals.Bytes)
	}
	if s.Cycles.Load() != 400 {
		t.Errorf("sink cycles %d", s.Cycles.Load())
	}
	for _, p := range []Phase{PhaseConnect, PhaseGreeting, PhaseLogin, PhasePasv, PhaseDataConnect, PhaseFirstByte, PhaseTransfer, PhaseFinalReply} {
		if rep.Phases[p.String()].Count == 0 {
			t.Errorf("phase %s not measured", p)
		}
	}
}

// freeRange finds n consecutive free ports below the ephemeral range.
func freeRange(t testing.TB, n int) (target.Config, target.Range) {
	t.Helper()
	for lo := 20000; lo+n < 32000; lo += n {
		ok := true
		for p := lo; p < lo+n && ok; p += 97 {
			ln, err := net.Listen("tcp", "127.0.0.1:"+itoa(p))
			if err != nil {
				ok = false
				break
			}
			ln.Close()
		}
		if ok {
			return target.Config{}, target.Range{Lo: lo, Hi: lo + n - 1}
		}
	}
	t.Fatal("no free port block")
	return target.Config{}, target.Range{}
}

func TestSourcesSpreadAndBindData(t *testing.T) {
	s, tg := startSink(t, sink.Options{})
	ips, _ := ParseSources("127.0.0.2-127.0.0.5")
	a := NewAttacker(tg, WithSessions(8), WithCount(200), WithSources(ips), WithEPSV(true))
	if err := a.Prepare(context.Background(), Churn); err != nil {
		t.Fatal(err)
	}
	m, _ := collect(t, a, context.Background(), Churn)
	rep := m.Report(a.Settings(Churn))
	if rep.Totals.Errors != 0 || rep.Ops["retr"].OK != 200 {
		t.Fatalf("errors: %+v", rep.Errors)
	}
	peers := s.Peers()
	for _, ip := range ips {
		if peers[ip.String()] < 2 {
			t.Errorf("source %s used by %d sessions (peers %v)", ip, peers[ip.String()], peers)
		}
	}
	if n := s.ForeignData.Load(); n != 0 {
		t.Errorf("%d data connections came from another address than their session", n)
	}
}
