package suites

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/reporters"
	"github.com/onsi/ginkgo/v2/types"

	"github.com/ftpharness/ftpharness/ftp"
	"github.com/ftpharness/ftpharness/suites/framework"
	"github.com/ftpharness/ftpharness/suites/report"
)

// Options say how a run reports its verdicts.
type Options struct {
	// ReportDir, when set, receives verdicts.json (per-check verdicts),
	// report.html (failures with transcripts), junit.xml (warnings,
	// observations and blocked checks marked: Run.MarkJUnit) and
	// ginkgo.json.
	ReportDir string
	// Quiet suppresses the verdict summary on stdout.
	Quiet bool
	// Verbose lists every observation and skip in the verdict summary.
	Verbose bool
	// HideGinkgo sends Ginkgo's own reporter (its per-spec stream, every
	// failure with its timeline, its summary) nowhere: the verdict summary
	// is the output. The reports still hold everything.
	HideGinkgo bool
	// Progress, when set, receives a one-line live progress ("[37/132]
	// PASV-006 title") that rewrites itself with a carriage return: for a
	// terminal. The line is cleared before the summary.
	Progress io.Writer
}

// options are those of the run in progress (Register).
var options Options

// lastRun holds the verdicts of the last completed run in this process,
// for Run and RunWith to return.
var lastRun report.Run

// signals holds the first signal that interrupted the run, for the reasons
// of the checks it kept from a verdict. Ginkgo handles the signal itself (it
// interrupts the running spec, runs cleanup and the report nodes); this
// only listens too, and only while the suite runs.
var signals chan os.Signal

var _ = ReportBeforeSuite(func(r Report) {
	progress.start(options.Progress, r.PreRunStats.SpecsThatWillRun)
	signals = make(chan os.Signal, 1)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
})

// interruptSignal stops listening and names the signal received, if any.
func interruptSignal() string {
	if signals == nil {
		return ""
	}
	signal.Stop(signals)
	defer func() { signals = nil }()
	select {
	case s := <-signals:
		return signalName(s)
	default:
		return ""
	}
}

func signalName(s os.Signal) string {
	switch s {
	case os.Interrupt:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	}
	return s.String()
}

var _ = ReportAfterSuite("ftpharness verdicts", func(r Report) {
	progress.clear()
	lastRun = Finish(r, framework.Config().Password, interruptSignal(), options)
})

// Finish turns a finished suite's Ginkgo report into the verdicts: the
// password masked everywhere, the interrupting signal (if any) named, the
// reports written into opts.ReportDir, the summary printed unless
// opts.Quiet. A run spread over worker processes finishes here too, with
// their reports combined (Combine).
func Finish(r types.Report, password, signal string, opts Options) report.Run {
	r = redactReport(r, password)
	run := report.FromGinkgo(r)
	run.NameSignal(signal)
	text := report.TextOptions{Verbose: opts.Verbose}
	if opts.ReportDir != "" {
		if err := writeReports(opts.ReportDir, r, run); err != nil {
			fmt.Fprintf(os.Stderr, "ftpharness: writing reports to %s: %v\n", opts.ReportDir, err)
		} else {
			for _, name := range reportFiles {
				text.Reports = append(text.Reports, filepath.Join(opts.ReportDir, name))
			}
		}
	}
	if !opts.Quiet {
		run.WriteText(os.Stdout, text)
	}
	return run
}

// Combine joins the reports of worker processes that each ran a share of
// the checks (framework.ShardEnv) into one report of the whole run: every
// spec once, the earliest start, the given wall time.
func Combine(parts []types.Report, wall time.Duration) types.Report {
	if len(parts) == 0 {
		return types.Report{}
	}
	out := parts[0]
	out.SpecReports, out.SpecialSuiteFailureReasons = nil, nil
	for _, p := range parts {
		if p.StartTime.Before(out.StartTime) {
			out.StartTime = p.StartTime
		}
		out.SuiteSucceeded = out.SuiteSucceeded && p.SuiteSucceeded
		out.SpecialSuiteFailureReasons = append(out.SpecialSuiteFailureReasons, p.SpecialSuiteFailureReasons...)
		out.SpecReports = append(out.SpecReports, p.SpecReports...)
	}
	out.RunTime = wall
	out.EndTime = out.StartTime.Add(wall)
	return out
}

// reportFiles are the files writeReports writes.
var reportFiles = []string{"verdicts.json", "report.html", "junit.xml", "ginkgo.json"}

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
	junit := filepath.Join(dir, "junit.xml")
	if err := reporters.GenerateJUnitReport(r, junit); err != nil {
		return err
	}
	if err := run.MarkJUnit(junit); err != nil {
		return err
	}
	return reporters.GenerateJSONReport(r, filepath.Join(dir, "ginkgo.json"))
}

// redactReport masks the password everywhere in what Ginkgo captured
// (failure messages, GinkgoWriter output, report entries, step texts)
// before any report is written: the framework sanitizes what it writes,
// this catches what a spec printed by itself. The report is masked as its
// JSON form, the secret in its JSON-escaped spelling.
func redactReport(r types.Report, secret string) types.Report {
	if secret == "" {
		return r
	}
	b, err := json.Marshal(r)
	if err != nil {
		return r
	}
	q, _ := json.Marshal(secret)
	masked := ftp.Redact(string(b), string(q[1:len(q)-1]))
	if masked == string(b) {
		return r
	}
	var out types.Report
	if err := json.Unmarshal([]byte(masked), &out); err != nil {
		return r
	}
	return out
}
