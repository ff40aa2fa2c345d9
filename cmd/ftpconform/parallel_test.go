package main

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
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
