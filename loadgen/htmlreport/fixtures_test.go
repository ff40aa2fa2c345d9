package htmlreport

import (
	"context"
	"testing"
	"time"

	"github.com/ftpharness/ftpharness/loadgen"
	"github.com/ftpharness/ftpharness/servers"
	"github.com/ftpharness/ftpharness/servers/servertest"
	"github.com/ftpharness/ftpharness/servers/sink"
	"github.com/ftpharness/ftpharness/target"
)

// The reports the page is tested on: real runs against in-process
// servers, and reports built from results, as loadgen's tests build them.

func startFSL(t *testing.T, rangeSize int) (target.Config, target.Range) {
	return servertest.Start(t, "ftpserverlib", servers.Spec{PasvMax: rangeSize})
}

func startSink(t testing.TB, opts sink.Options) target.Config {
	t.Helper()
	s, err := sink.Start(opts)
	if err != nil {
		t.Fatalf("sink: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return target.Config{Addr: s.Addr(), User: "u", Password: "p"}
}

// runReport runs a scenario and returns its report as ftpload report reads it.
func runReport(t *testing.T, a *loadgen.Attacker, scenario string) *loadgen.Report {
	t.Helper()
	ch, err := a.Attack(context.Background(), scenario)
	if err != nil {
		t.Fatal(err)
	}
	m := loadgen.NewMetrics(time.Time{})
	for r := range ch {
		m.Add(r)
	}
	m.Close()
	return roundTrip(t, m.Report(a.Settings(scenario)))
}

// hostile is what a server can put in a banner or a reply: terminal
// escape sequences (clear screen, set title, OSC 8 link), C1 controls,
// bytes that are not UTF-8 and markup.
const hostile = "\x1b[2J\x1b]0;pwned\x07\x1b]8;;http://evil/\x1b\\link\u009b31m <b>bold</b> \xff\xfe end"

func hostileReport(t *testing.T) *loadgen.Report {
	t.Helper()
	m := loadgen.NewMetrics(time.Time{})
	t0 := time.Unix(1000, 0)
	m.Add(&loadgen.Result{Op: "list", Start: t0, Intended: t0, End: t0.Add(time.Millisecond)})
	m.Add(&loadgen.Result{Op: "list", Start: t0, Intended: t0, End: t0.Add(time.Millisecond), Class: loadgen.ClassReply5xx, FailedPhase: loadgen.PhaseFirstByte,
		Code: 550, Reply: "550 " + hostile, Err: "LIST: unexpected reply 550 " + hostile})
	m.Close()
	rep := m.Report(loadgen.Settings{Scenario: loadgen.Churn, Target: "127.0.0.1:21", User: "u", Banner: "220 " + hostile,
		Command: "ftpload churn --target ftp://u:s3cretpw@127.0.0.1:21", Model: "closed", Sessions: 1})
	rep.Exhaust = &loadgen.ExhaustSummary{FailureMode: loadgen.ModeReply4xx, FailureReply: "421 " + hostile, RecoveryLast: "425 " + hostile, Banner: "220 " + hostile}
	return roundTrip(t, rep)
}

// portCountsReport advertised ports 31000..31009 of the declared range
// but 31004 and 31005, and once 40485, far outside it.
func portCountsReport(t *testing.T) *loadgen.Report {
	m := loadgen.NewMetrics(time.Time{})
	t0 := time.Unix(3000, 0)
	for i := 0; i < 1000; i++ {
		p := 31000 + (i*7)%10
		if i%5 == 0 && p == 31003 || p == 31004 || p == 31005 {
			continue
		}
		m.Add(&loadgen.Result{Op: "pasv", Start: t0, End: t0.Add(time.Duration(i) * time.Millisecond), Port: p})
	}
	m.Add(&loadgen.Result{Op: "pasv", Start: t0, End: t0.Add(time.Second), Port: 40485, OutOfRange: true})
	m.Close()
	return roundTrip(t, m.Report(loadgen.Settings{Scenario: loadgen.Churn, PasvRange: "31000-31009"}))
}

// errorsByClassReport has errors of three classes over three seconds.
func errorsByClassReport(t *testing.T) *loadgen.Report {
	m := loadgen.NewMetrics(time.Time{})
	t0 := time.Unix(3000, 0)
	classes := []loadgen.ErrorClass{loadgen.ClassReply4xx, loadgen.ClassTimeout, loadgen.ClassReset, ""}
	for i := 0; i < 3000; i++ {
		r := &loadgen.Result{Op: "pasv", Start: t0, End: t0.Add(time.Duration(i) * time.Millisecond)}
		r.Class = classes[(i+i/7)%len(classes)]
		if r.Class != "" {
			r.Err = "x"
		}
		m.Add(r)
	}
	m.Close()
	return roundTrip(t, m.Report(loadgen.Settings{Scenario: loadgen.Churn}))
}

// mergedReport is the merge of two shards of a churn run.
func mergedReport(t *testing.T) *loadgen.Report {
	t0 := time.Date(2026, 11, 24, 14, 0, 7, 0, time.UTC)
	var reps []*loadgen.Report
	for k := 0; k < 2; k++ {
		m := loadgen.NewMetrics(t0)
		m.AlignTimeline()
		for i := 0; i < 100; i++ {
			st := t0.Add(time.Duration(i) * 10 * time.Millisecond)
			m.Add(&loadgen.Result{Op: "retr", Start: st, Intended: st, End: st.Add(time.Millisecond), Bytes: 100, Port: 31000 + i%10})
		}
		m.Close()
		set := loadgen.Settings{Scenario: loadgen.Churn, Target: "127.0.0.1:2121", User: "u", Model: "closed", Sessions: 1, PasvRange: "31000-31009",
			Shard: &loadgen.Shard{Index: k, Count: 2}}
		reps = append(reps, roundTrip(t, m.Report(set)))
	}
	got, warns, err := loadgen.Merge(reps, []string{"s0", "s1"})
	if err != nil || len(warns) != 0 {
		t.Fatalf("merge: %v, warnings %v", err, warns)
	}
	return roundTrip(t, got)
}
