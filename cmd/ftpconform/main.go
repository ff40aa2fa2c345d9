// Command ftpconform runs the ftpharness conformance suites against an FTP
// server and prints a verdict per catalog check.
//
//	ftpconform --ftp.url=ftp://user:pass@127.0.0.1:2121 --ftp.pasv-range=30000-30099
//	ftpconform                       # against the embedded ftpserverlib server
//	ftpconform --list-checks         # the catalog: ID, severity, RFC, title
//
// It prints a one-line live progress on a terminal, then the failures,
// blocked checks and warnings one line each and the counts; -v adds
// Ginkgo's own stream. Every --ginkgo.* flag works too (label filter,
// JUnit/JSON reports; ftpconform --help-ginkgo).
// Exit status: 0 every check passed (warnings allowed), 1 a MUST/SHOULD
// check failed, 2 the command line or configuration is wrong, 3 the server
// could not be reached, refused the login or stopped answering mid-run,
// 130 interrupted by a signal.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"text/tabwriter"

	"github.com/ftpharness/ftpharness/matrix"
	"github.com/ftpharness/ftpharness/suites"
	"github.com/ftpharness/ftpharness/suites/catalog"
	"github.com/ftpharness/ftpharness/suites/framework"
	"github.com/ftpharness/ftpharness/suites/report"
	"github.com/ftpharness/ftpharness/target"
)

// t satisfies ginkgo.GinkgoTestingT outside `go test`.
type t struct{ failed bool }

func (x *t) Fail() { x.failed = true }

func main() {
	os.Exit(run())
}

func run() int {
	flags := target.RegisterFlags(flag.CommandLine)
	listChecks := flag.Bool("list-checks", false, "print the check catalog (ID, severity, RFC, title) and exit")
	listLabels := flag.Bool("list-labels", false, "print every label usable with --ginkgo.label-filter, with what it means, and exit")
	reportDir := flag.String("report-dir", "", "write verdicts.json, report.html, junit.xml and ginkgo.json into this directory")
	// not --parallel: Ginkgo takes any -parallel argument for go test's
	// flag and refuses to run
	workers := flag.Int("workers", 0, "worker processes sharing the server (0: 4, at most a fifth of the declared passive range, 2 when no range is declared; 1: one process); the slow checks start first, the checks that need the server alone run after the others")
	helpGinkgo := flag.Bool("help-ginkgo", false, "print the --ginkgo.* flags (Ginkgo's own) and exit")
	var verbose bool
	flag.BoolVar(&verbose, "verbose", false, "Ginkgo's own stream and summary too (= --ginkgo.v), and every observation and skip in the verdict summary")
	flag.BoolVar(&verbose, "v", false, "short for --verbose")
	flag.Usage = usage
	args, err := commandArgs(os.Args[1:])
	if err != nil {
		return usageError("%v", err)
	}
	if code, done := parseFlags(args); done {
		return code
	}
	if *helpGinkgo {
		ginkgoUsage(os.Stdout)
		return exitOK
	}
	terminal := isTerminal(os.Stdout)
	if os.Getenv("NO_COLOR") != "" || !terminal {
		// colour is for a person at a terminal, not for a file or a CI log
		flag.Set("ginkgo.no-color", "true")
	}
	if verbose {
		flag.Set("ginkgo.v", "true")
	}
	// Ginkgo's stream only when asked for (-v or a --ginkgo.* verbosity)
	ginkgoStream := verbose || flagValue("ginkgo.v") == "true" || flagValue("ginkgo.vv") == "true" || flagValue("ginkgo.succinct") == "true"
	if flag.NArg() > 0 && *matrixServers == "" && *mutationServer == "" {
		return usageError("unexpected argument %q (flags only)", flag.Arg(0))
	}
	if *matrixServers != "" || *mutationServer != "" {
		if err := checkOutDir("--matrix-out", *matrixOut); err != nil {
			return usageError("%v", err)
		}
		if *matrixServers != "" {
			return runMatrix(flag.Args())
		}
		return runMutation(flag.Args())
	}
	switch {
	case *listChecks:
		writeChecks(os.Stdout)
		return 0
	case *listLabels:
		writeLabels(os.Stdout)
		return 0
	}
	cfg, err := flags.Resolve()
	if err != nil {
		return usageError("%v", err)
	}
	var expect *matrix.Expectations
	if *expectFiles != "" {
		e, err := loadExpect(*expectFiles)
		if err != nil {
			return usageError("%v", err)
		}
		expect = &e
		if *verdictsFile != "" {
			return compareFile(*verdictsFile, e)
		}
	} else if *verdictsFile != "" {
		return usageError("--verdicts needs --expect")
	}
	if err := checkLabelFilter(flagValue("ginkgo.label-filter")); err != nil {
		return usageError("%v", err)
	}
	if err := checkWritable(*reportDir); err != nil {
		return usageError("%v", err)
	}
	if err := framework.ShardError(); err != nil {
		return usageError("%v", err)
	}
	worker := os.Getenv(framework.ShardEnv) != ""
	if !cfg.Embedded() && !worker {
		if err := target.Probe(cfg); err != nil {
			fmt.Fprintf(os.Stderr, "ftpconform: %v\n", err)
			return exitUnreachable
		}
	}
	opts := suites.Options{ReportDir: *reportDir, Verbose: verbose, HideGinkgo: !ginkgoStream, Quiet: worker}
	if terminal && !ginkgoStream && !worker {
		opts.Progress = os.Stdout
	}
	run, ginkgoFailed, err := runSuites(cfg, args, parallelism(*workers, cfg), worker, opts)
	if err != nil {
		fmt.Fprintf(os.Stderr, "ftpconform: %v\n", err)
		return exitUsage
	}
	if code, done := cutShort(run); done {
		return code
	}
	if expect != nil {
		focused := false
		for _, name := range []string{"ginkgo.label-filter", "ginkgo.focus", "ginkgo.skip", "ginkgo.focus-file", "ginkgo.skip-file"} {
			if f := flag.Lookup(name); f != nil && f.Value.String() != "" && f.Value.String() != "[]" {
				focused = true
			}
		}
		return checkExpect(os.Stdout, run, *expect, focused)
	}
	if run.Failed() || ginkgoFailed {
		return exitFailed
	}
	return exitOK
}

// runSuites runs the checks: in this process, or spread over n worker
// processes (a worker runs its share here).
func runSuites(cfg target.Config, args []string, n int, worker bool, opts suites.Options) (report.Run, bool, error) {
	if n > 1 && !worker {
		run, err := runParallel(cfg, args, n, opts)
		return run, false, err
	}
	var tt t
	run := suites.RunWith(&tt, &cfg, opts)
	return run, tt.failed, nil
}

// writeChecks prints the catalog: ID, severity, star, RFC, title.
func writeChecks(out io.Writer) {
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tSEVERITY\tSTAR\tRFC\tTITLE")
	for _, c := range catalog.All() {
		star := ""
		if c.Star {
			star = "★"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", c.ID, c.Severity, star, c.Cite(), c.Title)
	}
	w.Flush()
}

// cutShort is the exit status of a run that did not judge the server:
// interrupted, stopped answering, or nothing selected.
func cutShort(run report.Run) (code int, done bool) {
	switch {
	case run.Interrupted != "":
		fmt.Fprintf(os.Stderr, "ftpconform: run %s; partial results above\n", run.Interrupted)
		return exitInterrupted, true
	case run.Stopped != "":
		fmt.Fprintf(os.Stderr, "ftpconform: %s; the remaining checks were skipped\n", run.Stopped)
		return exitUnreachable, true
	case len(run.Verdicts) > 0 && run.Counts()[report.Skip] == len(run.Verdicts) && allUnselected(run):
		return usageError("the --ginkgo.* filters select no check (IDs: ftpconform --list-checks)"), true
	}
	return 0, false
}

// isTerminal reports whether f is a character device (a terminal).
func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

func allUnselected(run report.Run) bool {
	for _, v := range run.Verdicts {
		if v.Reason != "not selected" {
			return false
		}
	}
	return true
}
