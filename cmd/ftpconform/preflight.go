package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/ftpharness/ftpharness/suites/catalog"
	"github.com/ftpharness/ftpharness/suites/framework"
)

// Exit statuses (documented in usage).
const (
	exitOK          = 0
	exitFailed      = 1
	exitUsage       = 2
	exitUnreachable = 3
	exitInterrupted = 130 // 128 + SIGINT, as shells report it
)

// usageError prints one line naming the problem and returns exitUsage: a
// mistake on the command line should not scroll the help past the reader.
func usageError(format string, args ...any) int {
	fmt.Fprintf(os.Stderr, "ftpconform: "+format+" (see --help)\n", args...)
	return exitUsage
}

// parseFlags parses the command line without the flag package's habit of
// printing the whole usage on a mistake. done means: exit with code now.
func parseFlags(args []string) (code int, done bool) {
	fs := flag.CommandLine
	fs.Init(fs.Name(), flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		usage()
		return exitOK, true
	case err != nil:
		return usageError("%v", err), true
	}
	return 0, false
}

// flagValue is the command-line value of a flag ("" when unset or absent).
func flagValue(name string) string {
	f := flag.Lookup(name)
	if f == nil {
		return ""
	}
	v := f.Value.String()
	if v == "[]" {
		return ""
	}
	return v
}

// checkLabelFilter parses --ginkgo.label-filter and requires it to select
// at least one check: every spec carries exactly its catalog check's labels
// (the area containers' labels are among them), so evaluating the filter
// on the catalog is what Ginkgo will do.
func checkLabelFilter(filter string) error {
	if strings.TrimSpace(filter) == "" {
		return nil
	}
	match, err := types.ParseLabelFilter(filter)
	if err != nil {
		return fmt.Errorf("--ginkgo.label-filter %q: %s", filter, labelFilterProblem(err))
	}
	// slow, alone and control-only are set where a check is written: a
	// check may carry any of them
	set := []string{framework.LabelSlow, framework.LabelAlone, framework.LabelControlOnly}
	for _, c := range catalog.All() {
		for bits := 0; bits < 1<<len(set); bits++ {
			labels := c.Labels()
			for i, l := range set {
				if bits&(1<<i) != 0 {
					labels = append(labels, l)
				}
			}
			if match(labels) {
				return nil
			}
		}
	}
	return fmt.Errorf("--ginkgo.label-filter %q selects no check (labels: ftpconform --list-labels)", filter)
}

// labelFilterProblem is the one useful line of Ginkgo's multi-line,
// colour-marked error: the last line of its message says what is wrong.
func labelFilterProblem(err error) string {
	msg := err.Error()
	var ge types.GinkgoError
	if errors.As(err, &ge) && ge.Message != "" {
		lines := strings.Split(strings.TrimSpace(ge.Message), "\n")
		msg = lines[len(lines)-1]
	}
	return strings.Join(strings.Fields(colourMarkup.ReplaceAllString(msg, "")), " ")
}

var colourMarkup = regexp.MustCompile(`\{\{[^}]*\}\}`)

// checkWritable makes sure the reports can be written before the run, so a
// typo in a path does not throw away a long run's results at the end.
func checkWritable(reportDir string) error {
	if reportDir != "" {
		if err := checkOutDir("--report-dir", reportDir); err != nil {
			return err
		}
	}
	for _, name := range []string{"ginkgo.junit-report", "ginkgo.json-report", "ginkgo.teamcity-report"} {
		p := flagValue(name)
		if p == "" {
			continue
		}
		if err := probeFile(p); err != nil {
			return fmt.Errorf("--%s: cannot write %s: %v", name, p, err)
		}
	}
	return nil
}

// checkOutDir creates dir and writes a probe file in it.
func checkOutDir(flagName, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("%s: %v", flagName, err)
	}
	if err := probeFile(filepath.Join(dir, ".ftpconform-write-test")); err != nil {
		return fmt.Errorf("%s: %s is not writable: %v", flagName, dir, err)
	}
	return nil
}

// probeFile opens path for writing (creating its directory like Ginkgo
// does) and removes it again if it did not exist before.
func probeFile(path string) error {
	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	_, statErr := os.Stat(path)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	f.Close()
	if errors.Is(statErr, os.ErrNotExist) {
		os.Remove(path)
	}
	return nil
}
