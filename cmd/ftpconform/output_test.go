package main

import (
	"strings"
	"testing"
	"time"
)

// Into a pipe the output is the verdict summary alone (issue 16 §2):
// no Ginkgo stream or summary, no progress line, the counts line; -v
// brings Ginkgo's stream back.
func TestPipedOutputIsTheSummary(t *testing.T) {
	const focus = "--ginkgo.focus=PASV-00[18]|SEQ-022|MASQ-001"
	r := runBin(t, 3*time.Minute, focus)
	lines := strings.Split(strings.TrimRight(r.stdout, "\n"), "\n")
	if len(lines) > 20 {
		t.Errorf("%d lines for 4 checks:\n%s", len(lines), r.stdout)
	}
	for _, ginkgo := range []string{"Ran ", "Summarizing", "Passed |", "[It]", "\r", "•"} {
		if strings.Contains(r.stdout, ginkgo) {
			t.Errorf("piped output holds %q (Ginkgo's stream or the progress line):\n%s", ginkgo, r.stdout)
		}
	}
	if !strings.HasPrefix(lines[0], "ftpharness verdicts for ") || !strings.Contains(lines[len(lines)-1], " passed, ") {
		t.Errorf("summary shape:\n%s", r.stdout)
	}
	if !strings.Contains(r.stdout, "\nFAIL    SEQ-022    must    ") || !strings.Contains(r.stdout, "\nWARN    PASV-008   interop ") {
		t.Errorf("failure or warning line missing:\n%s", r.stdout)
	}

	v := runBin(t, 3*time.Minute, focus, "-v")
	if !strings.Contains(v.stdout, "Summarizing 1 Failure") || !strings.Contains(v.stdout, "SKIP    MASQ-001") {
		t.Errorf("-v: Ginkgo's stream or the listed skip missing:\n%s", v.stdout)
	}
}

// --help starts with the usage and the project's flags by group; Ginkgo's
// flags are in --help-ginkgo (issue 16 §4).
func TestHelpShowsOwnFlagsFirst(t *testing.T) {
	r := runBin(t, time.Minute, "--help")
	if !strings.HasPrefix(r.stderr, "Usage:\n") {
		t.Errorf("--help does not start with the usage:\n%.300s", r.stderr)
	}
	for _, want := range []string{"\nTarget", "\nTLS:", "\nOutput:", "\nSelection", "--ftp.url", "-v, --verbose", "--ginkgo.label-filter", "--help-ginkgo"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("--help lacks %q", want)
		}
	}
	if strings.Contains(r.stderr, "--ginkgo.json-report") || strings.Index(r.stderr, "--ginkgo.") < strings.Index(r.stderr, "--ftp.url") {
		t.Errorf("Ginkgo's flags in --help (or before the project's)")
	}
	g := runBin(t, time.Minute, "--help-ginkgo")
	if !strings.Contains(g.stdout, "--ginkgo.json-report") || g.code != 0 {
		t.Errorf("--help-ginkgo: exit %d\n%.300s", g.code, g.stdout)
	}
}

// labels says what each label means, star first.
func TestLabelsAreExplained(t *testing.T) {
	r := runBin(t, time.Minute, "labels")
	for _, want := range []string{"star ", "most important", "must ", "observe ", "pasv ", "area: ", "RFC:959 ", "checks citing RFC 959"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("labels lacks %q:\n%s", want, r.stdout)
		}
	}
}
