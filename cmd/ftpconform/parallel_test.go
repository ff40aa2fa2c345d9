package main

import (
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ftpharness/ftpharness/suites/framework"
	"github.com/ftpharness/ftpharness/target"
)

// The parent's own flags never reach a worker, in any spelling.
func TestWorkerArgsDropParentFlags(t *testing.T) {
	in := []string{"--ftp.addr=h:21", "--report-dir", "out", "-expect=x.yaml", "--workers=3",
		"--ginkgo.junit-report", "j.xml", "--ginkgo.label-filter=star", "-verdicts", "v.json"}
	want := []string{"--ftp.addr=h:21", "--ginkgo.label-filter=star"}
	if got := workerArgs(in); !reflect.DeepEqual(got, want) {
		t.Errorf("workerArgs = %q, want %q", got, want)
	}
}

// A run spread over workers gives every selected check the verdict one
// process gives it: checks of the shared phase (FEAT, SEQ) and of the
// exclusive one (PASV-006 is Alone, RANGE-001 in the port-range area).
func TestParallelVerdictsEqualOneProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the suite twice against the embedded server")
	}
	focus := "--ginkgo.focus=FEAT-00|SEQ-004|PASV-006|RANGE-001"
	results := map[string]map[string]string{}
	for _, n := range []string{"1", "3"} {
		dir := filepath.Join(t.TempDir(), "reports")
		r := runBin(t, 3*time.Minute, focus, "--workers="+n, "--report-dir="+dir)
		if r.code != exitOK && r.code != exitFailed {
			t.Fatalf("--workers=%s: exit %d\n%s", n, r.code, r.stderr)
		}
		got := map[string]string{}
		for _, v := range readVerdicts(t, dir).Verdicts {
			if v.Reason != "not selected" {
				got[v.ID] = string(v.Result)
			}
		}
		results[n] = got
	}
	one, par := results["1"], results["3"]
	for _, id := range []string{"FEAT-001", "SEQ-004", "PASV-006", "RANGE-001"} {
		if one[id] == "" || strings.HasPrefix(one[id], "skip") {
			t.Errorf("%s did not run in one process: %q", id, one[id])
		}
	}
	if !reflect.DeepEqual(one, par) {
		t.Errorf("verdicts differ:\none process %v\n3 workers   %v", one, par)
	}
}

// The slow checks start first, in at most one share per worker of at least
// framework.StoppedTimeouts checks (a control-only one alone); the checks that need the server alone are in no
// share (the serial worker runs them); the others are spread over the
// remaining shares, each exactly once.
func TestSharesSlowFirstAloneApart(t *testing.T) {
	checks := []plannedCheck{{ID: "A-1"}, {ID: "S-1", Slow: true}, {ID: "R-1", Alone: true}, {ID: "A-2"}, {ID: "S-2", Slow: true, Alone: true}, {ID: "A-3"}, {ID: "S-3", Slow: true}}
	shares, hasAlone := sharesFor(checks, 1)
	if !hasAlone {
		t.Error("hasAlone false with R-1 and S-2 alone")
	}
	var got []string
	for _, s := range shares {
		got = append(got, s.String())
	}
	want := []string{"ids:S-1,S-3", "ids:A-1", "ids:A-2", "ids:A-3"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("shares %v, want %v", got, want)
	}
	if shares, hasAlone := sharesFor(checks[:1], 4); hasAlone || len(shares) != 1 {
		t.Errorf("one check, 4 workers: %v (alone %v), want one share", shares, hasAlone)
	}
	// a control-only slow check starts before the other slow ones: the
	// serial share does not wait for it, so it may end last
	checks = append(checks, plannedCheck{ID: "C-1", Slow: true, ControlOnly: true})
	shares, _ = sharesFor(checks, 1)
	if got := shares[0].String(); got != "ids:C-1" {
		t.Errorf("first share %s, want ids:C-1", got)
	}
	// seven slow checks: two shares of 4 workers (at least
	// StoppedTimeouts checks each), two of 2 workers
	var slow []plannedCheck
	for i := 1; i <= 7; i++ {
		slow = append(slow, plannedCheck{ID: fmt.Sprintf("S-%d", i), Slow: true})
	}
	if shares, _ = sharesFor(slow, 4); len(shares) != 2 || len(shares[1].IDs) < framework.StoppedTimeouts {
		t.Errorf("7 slow checks, 4 workers: dealt into %v", shares)
	}
	if shares, _ = sharesFor(slow, 2); len(shares) != 2 {
		t.Errorf("7 slow checks, 2 workers: dealt into %v", shares)
	}
}

// A share of control-only checks is one the serial share need not wait for.
func TestOnlyOf(t *testing.T) {
	beside := map[string]bool{"SEC-001": true}
	for _, c := range []struct {
		s    framework.Shard
		want bool
	}{
		{framework.ShardOf("SEC-001"), true},
		{framework.ShardOf("SEC-001", "PASV-001"), false},
		{framework.ShardOf("PASV-001"), false},
		{framework.Shard{Serial: true}, false},
	} {
		if got := onlyOf(c.s, beside); got != c.want {
			t.Errorf("onlyOf(%s) = %v, want %v", c.s, got, c.want)
		}
	}
}

// A share's spelling in the environment reads back as the same share.
func TestShardRoundTrip(t *testing.T) {
	for _, s := range []framework.Shard{{Serial: true}, {Plan: true}, framework.ShardOf("PASV-001", "EPSV-002")} {
		back, err := framework.ParseShard(s.String())
		if err != nil || back.String() != s.String() {
			t.Errorf("%s read back as %s (%v)", s, back, err)
		}
	}
}

// The serial share waits for every share but the control-only ones, and
// does not start after a worker that wrote no report.
func TestSerialGate(t *testing.T) {
	checks := []plannedCheck{{ID: "C-1", Slow: true, ControlOnly: true}, {ID: "A-1"}, {ID: "A-2"}}
	shares := []framework.Shard{framework.ShardOf("C-1"), framework.ShardOf("A-1"), framework.ShardOf("A-2")}
	opened := func(g *serialGate) bool {
		select {
		case <-g.open:
			return true
		default:
			return false
		}
	}
	g := newSerialGate(shares, checks)
	g.done(shares[1], nil)
	if opened(g) {
		t.Fatal("open with A-2 still running")
	}
	g.done(shares[2], nil)
	if !opened(g) || !g.wait() {
		t.Fatal("not open (or not to run) once only the control-only share runs")
	}
	g = newSerialGate(shares, checks)
	g.done(shares[1], errors.New("no report"))
	g.done(shares[2], nil)
	if g.wait() {
		t.Error("the serial share would start after a worker wrote no report")
	}
	if g := newSerialGate(shares[:1], checks); !opened(g) {
		t.Error("not open when only control-only shares exist")
	}
}

// Without a declared range the default is 2 workers (the pool size is
// unknown), 4 when the ports are declared the kernel's ephemeral ones; a
// declared range allows a fifth of its size, at most 4.
func TestParallelismDefault(t *testing.T) {
	cases := []struct {
		cfg  target.Config
		want int
	}{
		{target.Config{Addr: "127.0.0.1:21"}, 2},
		{target.Config{Addr: "127.0.0.1:21", PasvEphemeral: true}, 4},
		{target.Config{Addr: "127.0.0.1:21", PasvRange: "30000-30009"}, 2},
		{target.Config{Addr: "127.0.0.1:21", PasvRange: "30000-30099"}, 4},
	}
	for _, c := range cases {
		if got := parallelism(0, c.cfg); got != c.want {
			t.Errorf("parallelism(0, %+v) = %d, want %d", c.cfg, got, c.want)
		}
	}
	if got := parallelism(3, target.Config{Addr: "127.0.0.1:21"}); got != 3 {
		t.Errorf("--workers=3 gave %d", got)
	}
}
