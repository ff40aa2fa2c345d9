// Command ftpconform runs the ftpharness conformance suites against an FTP
// server and prints a verdict per catalog check.
//
//	ftpconform --ftp.url=ftp://user:pass@127.0.0.1:2121 --ftp.pasv-range=30000-30099
//	ftpconform                       # against the embedded ftpserverlib server
//	ftpconform --list-checks         # the catalog: ID, severity, RFC, title
//
// Every --ginkgo.* flag works too (label filter, JUnit/JSON reports).
// Exit status: 0 every check passed (warnings allowed), 1 a MUST/SHOULD
// check failed, 2 the command line or configuration is wrong, 3 the server
// could not be reached, refused the login or stopped answering mid-run,
// 130 interrupted by a signal.
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
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
	listLabels := flag.Bool("list-labels", false, "print every label usable with --ginkgo.label-filter and exit")
	reportDir := flag.String("report-dir", "", "write verdicts.json, junit.xml and ginkgo.json into this directory")
	parallel := flag.Int("parallel", 0, "worker processes sharing the server (0: 4, at most a fifth of the declared passive range; 1: one process); checks that need the server alone run after them")
	flag.Usage = usage
	args, err := commandArgs(os.Args[1:])
	if err != nil {
		return usageError("%v", err)
	}
	if code, done := parseFlags(args); done {
		return code
	}
	if os.Getenv("NO_COLOR") != "" || !isTerminal(os.Stdout) {
		// colour is for a person at a terminal, not for a file or a CI log
		flag.Set("ginkgo.no-color", "true")
	}
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
		w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(w, "ID\tSEVERITY\tSTAR\tRFC\tTITLE")
		for _, c := range catalog.All() {
			star := ""
			if c.Star {
				star = "★"
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", c.ID, c.Severity, star, c.Cite(), c.Title)
		}
		w.Flush()
		return 0
	case *listLabels:
		fmt.Println(strings.Join(catalog.Labels(), "\n"))
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
	worker := os.Getenv(framework.ShardEnv) != ""
	if !cfg.Embedded() && !worker {
		if err := target.Probe(cfg); err != nil {
			fmt.Fprintf(os.Stderr, "ftpconform: %v\n", err)
			return exitUnreachable
		}
	}
	var tt t
	var run report.Run
	if n := parallelism(*parallel, cfg); n > 1 && !worker {
		run, err = runParallel(cfg, args, n, suites.Options{ReportDir: *reportDir})
		if err != nil {
			fmt.Fprintf(os.Stderr, "ftpconform: %v\n", err)
			return exitUsage
		}
	} else {
		run = suites.RunWith(&tt, &cfg, suites.Options{ReportDir: *reportDir, Quiet: worker})
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
	if run.Failed() || tt.failed {
		return exitFailed
	}
	return exitOK
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

func usage() {
	fmt.Fprint(os.Stderr, `ftpconform — RFC-cited conformance checks for an FTP server's passive mode,
port ranges and command sequencing.

Usage:
  ftpconform [run] [--ftp.* flags] [--ginkgo.* flags] [--report-dir DIR]
  ftpconform list | labels
  ftpconform expect FILES [--verdicts=verdicts.json] [--ftp.* flags]
  ftpconform matrix SERVERS [--matrix-out=docs] [--matrix-expect=fixtures/expectations] [-- ftpconform args]
  ftpconform mutation SERVER [--mutation-faults=a,b] [--matrix-out=docs]

Commands:
`+commandHelp()+`
Each command is also a flag (list = --list-checks, labels = --list-labels,
expect FILES = --expect=FILES, matrix S = --matrix=S, mutation S = --mutation=S).

Examples:
  ftpconform                                   # test the embedded ftpserverlib server
  ftpconform --ftp.url=ftp://ftpuser:ftppass@127.0.0.1:2121 --ftp.pasv-range=30000-30019
  ftpconform --ftp.profile=vsftpd.yaml --ginkgo.label-filter='star && must'
  ftpconform --ftp.addr=127.0.0.1:2121 --ftp.user=u --ftp.password=p --report-dir=out/
  ftpconform expect fixtures/expectations/vsftpd.yaml --ftp.addr=127.0.0.1:2121   # CI: fail on change

Settings come from flags, then FTPH_* environment variables (FTPH_ADDR,
FTPH_USER, FTPH_PASSWORD, FTPH_PASV_RANGE, ...), then a --ftp.profile file.
Checks that need a setting you did not give (e.g. RANGE-* without
--ftp.pasv-range) or a feature the server does not advertise are skipped
with the reason.

Verdicts: MUST/SHOULD rules fail, INTEROP rules warn, OBSERVE rules record;
a check another check's defect kept from testing its own rule is blocked
(the reason names that check; never a failure on its own).
Exit status: 0 no failures, 1 a check failed, 2 bad command line or
configuration (also: a filter that selects no check, a report path that
cannot be written), 3 server unreachable, login refused, or the server
stopped answering mid-run (the remaining checks are skipped), 4 (with
--expect) a verdict differs from the expectation file (known failures
listed there then exit 0), 130 interrupted by SIGINT/SIGTERM (the running
check and the rest are skips; the reports are still written).

Flags:
`)
	flag.CommandLine.VisitAll(func(f *flag.Flag) {
		if strings.HasPrefix(f.Name, "ginkgo.") || strings.HasPrefix(f.Name, "test.") {
			return
		}
		def := ""
		if f.DefValue != "" {
			def = fmt.Sprintf(" (default %q)", f.DefValue)
		}
		fmt.Fprintf(os.Stderr, "  --%s\n      %s%s\n", f.Name, f.Usage, def)
	})
	fmt.Fprint(os.Stderr, "\nAll --ginkgo.* flags are accepted too (e.g. --ginkgo.label-filter, --ginkgo.junit-report, --ginkgo.v).\n")
}
