package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/ftpharness/ftpharness/loadgen"
	"github.com/ftpharness/ftpharness/loadgen/htmlreport"
)

const mergeUsage = `Usage: ftpload merge [-o OUT.json] [--html OUT.html] [--fail-on EXPR] [--quiet] SHARD.json...

Combines the JSON reports of the shards of one sharded run (--shard I/N, or
JOB_COMPLETION_INDEX with --shards/FTPH_SHARDS) into the report of the whole
run: counters, bytes, errors by class and per-port counts summed, latency
histograms merged exactly, timelines laid on wall-clock seconds. Refuses
reports of different schemas, scenarios, targets or shard counts, and a
shard index given twice; warns (stderr) about missing shards. Prints the
merged text summary unless --quiet or -o -.

`

// merge combines the JSON reports of a sharded run's shards into one
// report (loadgen.Merge): JSON to -o, the text summary to stdout, an HTML
// page with --html; warnings (missing shards, lesser differences) go to
// stderr.
func merge(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("merge", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	out := fs.String("o", "", "write the merged JSON report to FILE (- for stdout)")
	fs.StringVar(out, "json", "", "same as -o")
	htmlOut := fs.String("html", "", "write a self-contained HTML page of the merged run to FILE")
	failOn := fs.String("fail-on", "", "exit 1 when a condition holds on the merged run")
	quiet := fs.Bool("quiet", false, "no text summary")
	var files []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fmt.Fprint(stdout, mergeUsage)
				fs.SetOutput(stdout)
				fs.PrintDefaults()
				return nil
			}
			return fail(exitUsage, "merge: %v", err)
		}
		if fs.NArg() == 0 {
			break
		}
		files = append(files, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(files) == 0 {
		return fail(exitUsage, "merge: want the shard reports SHARD.json...")
	}
	ts, err := loadgen.ParseThresholds(*failOn)
	if err != nil {
		return fail(exitUsage, "%v", err)
	}
	if err := checkOutputs("merge: ", "-o", *out, "--html", *htmlOut); err != nil {
		return err
	}
	reps := make([]*loadgen.Report, len(files))
	for i, f := range files {
		if reps[i], err = readReport(f); err != nil {
			return err
		}
	}
	rep, warns, err := loadgen.Merge(reps, files)
	if err != nil {
		return fail(exitUsage, "%v", err)
	}
	for _, w := range warns {
		fmt.Fprintln(stderr, "ftpload: merge: warning:", oneLine(w))
	}
	rep.Settings.Command = "ftpload merge " + strings.Join(files, " ")
	if *out != "" {
		if err := writeTo(*out, stdout, loadgen.NewJSONReporter(rep)); err != nil {
			return fail(exitUsage, "merge: -o: %v", err)
		}
	}
	if *htmlOut != "" {
		if err := writeTo(*htmlOut, stdout, htmlreport.NewReporter(htmlreport.Run{Name: "merged", Report: rep})); err != nil {
			return fail(exitUsage, "merge: --html: %v", err)
		}
	}
	if !*quiet && *out != "-" && *htmlOut != "-" {
		if err := loadgen.NewTextReporter(rep)(stdout); err != nil {
			return err
		}
	}
	return checkThresholds(ts, rep)
}
