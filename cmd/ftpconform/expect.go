package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/ftpharness/ftpharness/matrix"
	"github.com/ftpharness/ftpharness/suites/report"
)

// exitUnexpected is the exit status when --expect is given and the verdicts
// differ from the expectations (known failures alone exit 0 then).
const exitUnexpected = 4

var verdictsFile = flag.String("verdicts", "", "with --expect: compare this verdicts.json (from an earlier run, e.g. the harness container's) instead of running the suites")

var expectFiles = flag.String("expect", "", "compare the verdicts with expectation file(s) (comma list, later files override earlier ones per check, e.g. fixtures/expectations/vsftpd.yaml,fixtures/expectations/containers/vsftpd.yaml); exit 0 when they match, 4 when any verdict differs")

// loadExpect reads and layers the --expect files.
func loadExpect(list string) (matrix.Expectations, error) {
	var out matrix.Expectations
	for _, p := range strings.Split(list, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		dir, base := filepath.Split(p)
		if dir == "" {
			dir = "."
		}
		e, err := matrix.LoadExpectations(dir, strings.TrimSuffix(base, filepath.Ext(base)))
		if err != nil {
			return out, fmt.Errorf("--expect %s: %v", p, err)
		}
		if out.Checks == nil {
			out = e
			continue
		}
		for id, x := range e.Checks {
			out.Checks[id] = x
		}
	}
	if out.Checks == nil {
		return out, fmt.Errorf("--expect: no file given")
	}
	return out, nil
}

// compareFile compares a verdicts.json written by an earlier run.
func compareFile(path string, e matrix.Expectations) int {
	f, err := os.Open(path)
	if err != nil {
		fmt.Fprintf(os.Stderr, "ftpconform: --verdicts: %v\n", err)
		return 2
	}
	defer f.Close()
	run, err := report.ReadJSON(f)
	if err != nil {
		fmt.Fprintf(os.Stderr, "ftpconform: --verdicts %s: %v\n", path, err)
		return 2
	}
	fmt.Printf("%s: %d verdicts of %s\n", path, len(run.Verdicts), run.Target)
	return checkExpect(os.Stdout, run, e, true)
}

// checkExpect prints every verdict that differs from e and returns the exit
// status. Checks a focused run (label filter) did not reach are not
// mismatches.
func checkExpect(w io.Writer, run report.Run, e matrix.Expectations, focused bool) int {
	n := 0
	for _, m := range matrix.Compare(run, e) {
		if focused && m.Actual == "absent" || m.Actual == report.Skip && m.Reason == "not selected" {
			continue // a check the label filter left out is no verdict
		}
		if n == 0 {
			fmt.Fprintf(w, "\nverdicts that differ from the expectations (%s):\n", *expectFiles)
		}
		fmt.Fprintf(w, "  %s\n", m)
		n++
	}
	if n > 0 {
		fmt.Fprintf(w, "%d unexpected verdict(s): fix the server, or record the new behaviour with a reason in the expectation file\n", n)
		return exitUnexpected
	}
	fmt.Fprintf(w, "\nevery verdict matches the expectations (%s)\n", *expectFiles)
	return 0
}
