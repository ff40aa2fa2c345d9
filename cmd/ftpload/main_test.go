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
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, stderr)
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
