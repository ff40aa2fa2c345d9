package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/ftpharness/ftpharness/loadgen"
	"github.com/ftpharness/ftpharness/loadgen/htmlreport"
)

// report re-renders saved JSON reports: the text summary of each, the
// timeline as CSV (one file), thresholds (every file) and, with --html,
// one self-contained HTML page with every run overlaid.
func report(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	csvOut := fs.String("csv", "", "write the timeline as CSV to FILE")
	failOn := fs.String("fail-on", "", "exit 1 when a condition holds")
	htmlOut := fs.String("html", "", "write one self-contained HTML page of every run to FILE")
	// flags and files may come in any order
	var files []string
	for {
		if err := fs.Parse(args); err != nil {
			return fail(exitUsage, "report: %v", err)
		}
		if fs.NArg() == 0 {
			break
		}
		files = append(files, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(files) == 0 {
		return fail(exitUsage, "report: want FILE.json")
	}
	if *csvOut != "" && len(files) > 1 {
		return fail(exitUsage, "report: --csv takes one FILE.json")
	}
	ts, err := loadgen.ParseThresholds(*failOn)
	if err != nil {
		return fail(exitUsage, "%v", err)
	}
	if err := checkOutputs("report: ", "--csv", *csvOut, "--html", *htmlOut); err != nil {
		return err
	}
	var runs []htmlreport.Run
	for _, file := range files {
		rep, err := readReport(file)
		if err != nil {
			return err
		}
		runs = append(runs, htmlreport.Run{Name: runName(file, files), Report: rep})
	}
	for i, r := range runs {
		if len(runs) > 1 {
			if i > 0 {
				fmt.Fprintln(stdout)
			}
			fmt.Fprintf(stdout, "== %s\n", files[i])
		}
		if err := loadgen.NewTextReporter(r.Report)(stdout); err != nil {
			return err
		}
	}
	if *csvOut != "" {
		if err := writeTo(*csvOut, stdout, loadgen.NewCSVReporter(runs[0].Report)); err != nil {
			return fail(exitUsage, "--csv: %v", err)
		}
	}
	if *htmlOut != "" {
		if err := writeTo(*htmlOut, stdout, htmlreport.NewReporter(runs...)); err != nil {
			return fail(exitUsage, "--html: %v", err)
		}
	}
	for _, r := range runs {
		if err := checkThresholds(ts, r.Report); err != nil {
			return err
		}
	}
	return nil
}

func readReport(file string) (*loadgen.Report, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, fail(exitUsage, "report: %v", err)
	}
	defer f.Close()
	rep, err := loadgen.ReadReport(f)
	if err != nil {
		return nil, fail(exitUsage, "%s: %v", file, err)
	}
	return rep, nil
}

// runName is how a file is called in the page: its base name without
// .json, or the path when two files share a base name.
func runName(file string, all []string) string {
	base := strings.TrimSuffix(filepath.Base(file), ".json")
	for _, o := range all {
		if o != file && strings.TrimSuffix(filepath.Base(o), ".json") == base {
			return file
		}
	}
	return base
}
