package main

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ftpharness/ftpharness/loadgen"
)

func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"bogus"},
		{"churn", "--sessions", "x"},
		{"churn", "--rate", "-5/s"},
		{"churn", "--pasv-range", "9-1"},
		{"churn", "--fail-on", "p99.nope>1"},
		{"churn", "--target", "ftp://u:p@10.1.2.3:21"},
		{"churn", "--source", "10.0.0.1"},
		{"churn", "--source", "fd00::2"},                                       // IPv6: ::1 only
		{"churn", "--target", "ftp://u:p@[::1]:2121", "--source", "127.0.0.2"}, // other family
		{"churn", "--target", "ftp://u:p@127.0.0.1:2121", "--source", "::1"},
		{"mixed", "--mix", "dele=1"},
		{"report"},
	} {
		if code, _, _ := runCLI(t, args...); code != exitUsage {
			t.Errorf("%v: exit %d, want %d", args, code, exitUsage)
		}
	}
	code, out, _ := runCLI(t, "--help")
	if code != 0 || !strings.Contains(out, "ftpload exhaust") || !strings.Contains(out, "--fail-on") {
		t.Errorf("--help: %d\n%s", code, out)
	}
}

func TestUnreachable(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	code, _, stderr := runCLI(t, "churn", "--target", "ftp://u:p@"+addr, "--count", "1", "--timeout", "2s")
	if code != exitUnreachable {
		t.Errorf("exit %d, want 3: %s", code, stderr)
	}
}

func TestChurnSinkReportAndThresholds(t *testing.T) {
	dir := t.TempDir()
	js, csv := filepath.Join(dir, "run.json"), filepath.Join(dir, "run.csv")
	code, out, stderr := runCLI(t, "churn", "--server", "sink", "--sessions", "2", "--count", "50", "--json", js, "--csv", csv, "--fail-on", "errors>0")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, stderr)
	}
	if !strings.Contains(out, "retr") || !strings.Contains(out, "pasv") {
		t.Errorf("text summary:\n%s", out)
	}
	f, err := os.Open(js)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := loadgen.ReadReport(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if rep.Ops["retr"].OK != 50 || rep.Settings.Server != "sink" {
		t.Errorf("report ops %+v settings %+v", rep.Ops, rep.Settings)
	}
	if b, _ := os.ReadFile(csv); !strings.HasPrefix(string(b), "second,ops") {
		t.Errorf("csv %q", b)
	}
	// re-render, and a threshold broken on the saved run
	code, out, stderr = runCLI(t, "report", js, "--fail-on", "rate<1e12")
	if code != exitThreshold || !strings.Contains(stderr, "rate<1e12") || !strings.Contains(out, "Latency") {
		t.Errorf("report --fail-on: exit %d\n%s\n%s", code, out, stderr)
	}
}

func TestExhaustEmbedded(t *testing.T) {
	dir := t.TempDir()
	js := filepath.Join(dir, "ex.json")
	code, out, stderr := runCLI(t, "exhaust", "--json", js, "--fail-on", "capacity<1000")
	if code != exitThreshold || !strings.Contains(stderr, "capacity<1000") {
		t.Fatalf("exit %d (want 1 naming capacity<1000)\n%s\n%s", code, out, stderr)
	}
	f, _ := os.Open(js)
	defer f.Close()
	rep, err := loadgen.ReadReport(f)
	if err != nil {
		t.Fatal(err)
	}
	ex := rep.Exhaust
	if ex == nil || ex.Capacity != 20 || ex.FailureMode != loadgen.ModeReply4xx || !ex.Recovered {
		t.Errorf("exhaust %+v", ex)
	}
}

func TestInterruptDrainsAndReports(t *testing.T) {
	var sigc chan<- os.Signal
	got := make(chan struct{})
	old := notifySignals
	notifySignals = func(c chan<- os.Signal) { sigc = c; close(got) }
	defer func() { notifySignals = old }()
	go func() {
		<-got
		time.Sleep(300 * time.Millisecond)
		sigc <- os.Interrupt
	}()
	js := filepath.Join(t.TempDir(), "int.json")
	t0 := time.Now()
	code, out, stderr := runCLI(t, "churn", "--server", "sink", "--sessions", "2", "--duration", "30s", "--json", js)
	if el := time.Since(t0); el > 5*time.Second {
		t.Fatalf("interrupt: run took %v", el)
	}
	if code != exitInterrupted || !strings.Contains(stderr, "interrupted") {
		t.Fatalf("exit %d, want 130\n%s\n%s", code, out, stderr)
	}
	f, err := os.Open(js)
	if err != nil {
		t.Fatalf("no report after interrupt: %v", err)
	}
	defer f.Close()
	rep, err := loadgen.ReadReport(f)
	if err != nil || !rep.Interrupted || rep.Totals.OK == 0 || rep.Totals.Errors != 0 {
		t.Errorf("report after interrupt: %v %+v", err, rep.Totals)
	}
}

func TestShardFlags(t *testing.T) {
	old := getenv
	defer func() { getenv = old }()
	env := map[string]string{}
	getenv = func(k string) string { return env[k] }
	tgt := "ftp://u:p@127.0.0.1:1" // never dialled: every case fails before
	for _, c := range []struct {
		env  map[string]string
		args []string
		want string
	}{
		{nil, []string{"churn", "--target", tgt, "--shard", "4/4"}, "out of range"},
		{nil, []string{"churn", "--shard", "0/4"}, "needs --target"},
		{nil, []string{"churn", "--target", tgt, "--shard", "0/4", "--sessions", "3"}, "3 sessions cannot be split over 4 shards"},
		{nil, []string{"churn", "--target", tgt, "--shard", "0/4", "--count", "2"}, "count of 2 cannot be split"},
		{nil, []string{"churn", "--target", tgt, "--shard", "0/4", "--source", "127.0.0.2-127.0.0.4"}, "3 source addresses cannot be split over 4 shards"},
		{nil, []string{"churn", "--target", tgt, "--shard", "1/4", "--shards", "3"}, "--shards 3"},
		{map[string]string{"FTPH_SHARDS": "4"}, []string{"churn", "--target", tgt}, "JOB_COMPLETION_INDEX is not set"},
		{map[string]string{"JOB_COMPLETION_INDEX": "2"}, []string{"churn", "--target", tgt}, "no shard count"},
		{map[string]string{"JOB_COMPLETION_INDEX": "2", "FTPH_SHARDS": "4", "FTPH_LOAD_SESSIONS": "2"}, []string{"churn", "--target", tgt}, "2 sessions cannot be split"},
		{map[string]string{"FTPH_LOAD_SESSIONS": "many"}, []string{"churn"}, "FTPH_LOAD_SESSIONS"},
		{map[string]string{"FTPH_LOAD_TARGET": "ftp://u:p@10.1.2.3:21"}, []string{"churn"}, "only loopback targets are allowed without --allow-remote"},
	} {
		env = c.env
		code, _, stderr := runCLI(t, c.args...)
		if code != exitUsage || !strings.Contains(stderr, c.want) {
			t.Errorf("%v %v: exit %d, want 2 and %q:\n%s", c.env, c.args, code, c.want, stderr)
		}
	}

	// the environment fills what the command line leaves unset
	env = map[string]string{"JOB_COMPLETION_INDEX": "3", "FTPH_SHARDS": "4", "FTPH_LOAD_SESSIONS": "10", "FTPH_LOAD_COUNT": "1003",
		"FTPH_LOAD_TARGET": "ftp://u:p@10.1.2.3:21", "FTPH_LOAD_ALLOW_REMOTE": "true", "FTPH_LOAD_SEED": "40", "FTPH_LOAD_JSON": "/x/shard-{shard}.json"}
	var cfg config
	fs := flags(&cfg, "churn")
	if err := parseFlags(fs, &cfg, []string{"--count", "1001"}); err != nil {
		t.Fatal(err)
	}
	p, err := settle("churn", &cfg)
	if err != nil {
		t.Fatal(err)
	}
	s := loadgen.NewAttacker(p.tgt, p.opts...).Settings("churn")
	if p.shard != (loadgen.Shard{Index: 3, Count: 4}) || s.Sessions != 2 || s.Count != 250 || *s.Seed != 43 || p.tgt.Addr != "10.1.2.3:21" || p.jsonOut != "/x/shard-3.json" {
		t.Errorf("from the environment: shard %v, settings %+v, target %v, json %q", p.shard, s, p.tgt, p.jsonOut)
	}
	if shardPath("a-{shard}.json", loadgen.Shard{}) != "a-unsharded.json" {
		t.Error("{shard} of an unsharded run")
	}
}
