package suites

import (
	"fmt"
	"os"
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/reporters"
	"github.com/onsi/ginkgo/v2/types"

	"github.com/ftpharness/ftpharness/suites/report"
)

// ReportDir, when set, receives verdicts.json (per-check verdicts),
// report.html (failures with transcripts), junit.xml and ginkgo.json.
var ReportDir string

// Quiet suppresses the verdict summary on stdout.
var Quiet bool

// LastRun holds the verdicts of the last completed run in this process.
var LastRun report.Run

var _ = ReportAfterSuite("ftpharness verdicts", func(r Report) {
	run := report.FromGinkgo(r)
	LastRun = run
	if !Quiet {
		run.WriteText(os.Stdout)
	}
	if ReportDir == "" {
		return
	}
	if err := writeReports(ReportDir, r, run); err != nil {
		fmt.Fprintf(os.Stderr, "ftpharness: writing reports to %s: %v\n", ReportDir, err)
	}
})

func writeReports(dir string, r types.Report, run report.Run) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.Create(filepath.Join(dir, "verdicts.json"))
	if err != nil {
		return err
	}
	defer f.Close()
	if err := run.WriteJSON(f); err != nil {
		return err
	}
	h, err := os.Create(filepath.Join(dir, "report.html"))
	if err != nil {
		return err
	}
	defer h.Close()
	if err := run.WriteHTML(h); err != nil {
		return err
	}
	if err := reporters.GenerateJUnitReport(r, filepath.Join(dir, "junit.xml")); err != nil {
		return err
	}
	return reporters.GenerateJSONReport(r, filepath.Join(dir, "ginkgo.json"))
}
