package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/ftpharness/ftpharness/matrix"
)

var (
	mutationServer  = flag.String("mutation", "", "run the mutation matrix: the suites through the fault proxy (servers/faulty) once per fault against these local servers (comma list, e.g. pyftpdlib,vsftpd; their runs share --matrix-parallel workers); write mutation-SERVER.md and mutation-SERVER.json into --matrix-out")
	mutationFaults  = flag.String("mutation-faults", "", "comma list of faults for --mutation (default: every registered fault)")
	mutationTimeout = flag.Duration("mutation-timeout", 5*time.Second, "--ftp.timeout of every --mutation run (the stall faults wait for it)")
	mutationReuse   = flag.Bool("mutation-reuse", false, "with --mutation: re-evaluate the runs already in --matrix-out/runs/mutation instead of running them again")
	mutationFocused = flag.Bool("mutation-focused", false, "with --mutation: run each fault only against the areas of its declared kills, compared with one whole-suite clean run (as the test does)")
)

// runMutation runs the mutation matrix and writes its reports; exit 1 when
// a fault's outcome differs from its declaration or the clean proxy is not
// transparent.
func runMutation(extra []string) int {
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintf(os.Stderr, "ftpconform: %v\n", err)
		return 2
	}
	var faults []string
	if *mutationFaults != "" {
		faults = strings.Split(*mutationFaults, ",")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	start := time.Now()
	ms, err := matrix.Mutations(ctx, matrix.MutationOptions{
		Binary: self, Faults: faults, Dir: filepath.Join(*matrixOut, "runs", "mutation"),
		Parallel: *matrixPar, Focused: *mutationFocused, WholeClean: *mutationFocused, Timeout: *mutationTimeout, Args: extra, Reuse: *mutationReuse,
		Confirm:  true, // as TestMutation: a mismatch counts when a second run repeats it
		Progress: func(r, ev string) { fmt.Fprintf(os.Stderr, "[%5.1fs] %s: %s\n", time.Since(start).Seconds(), r, ev) },
	}, strings.Split(*mutationServer, ","))
	if err != nil {
		fmt.Fprintf(os.Stderr, "ftpconform: %v\n", err)
		return 2
	}
	code := 0
	for _, m := range ms {
		c, err := mutationReport(m)
		if err != nil {
			fmt.Fprintf(os.Stderr, "ftpconform: %v\n", err)
			return 2
		}
		code = max(code, c)
	}
	return code
}

// mutationReport writes one server's reports and prints its outcome; 1
// when a fault or the transparency check went wrong.
func mutationReport(m matrix.MutationReport) (int, error) {
	base := filepath.Join(*matrixOut, "mutation-"+m.Server)
	if err := writeFile(base+".md", m.WriteMarkdown); err != nil {
		return 2, err
	}
	if err := writeFile(base+".json", m.WriteJSON); err != nil {
		return 2, err
	}
	fmt.Printf("%s: wrote %s.md and .json (%.0fs)\n", m.Server, base, m.Seconds)
	code := 0
	for _, t := range m.Transparency {
		if t.Error != "" || !t.Same {
			fmt.Printf("transparency %q: %d differences %s\n", t.Filter, len(t.Changes), t.Error)
			code = 1
		}
	}
	for _, f := range m.Faults {
		status := "ok"
		switch {
		case f.Error != "":
			status = "ERROR " + f.Error
			code = 1
		case !f.OK:
			status = fmt.Sprintf("MISMATCH missed=%v unexpected=%v violations=%v", f.Missed, f.Unexpected, f.Violations)
			code = 1
		}
		fmt.Printf("%-24s killed %-60s %s (%.0fs)\n", f.Fault, strings.Join(f.Killed, " "), status, f.Seconds)
		for _, nr := range f.NotRepeated {
			fmt.Printf("%-24s not repeated (flaky, not counted): %s\n", "", nr)
		}
	}
	fmt.Println(m.ScoreLine())
	if len(m.Survivors) > 0 {
		var ids []string
		for _, s := range m.Survivors {
			ids = append(ids, s.ID)
		}
		fmt.Printf("survivors: %s\n", strings.Join(ids, " "))
	}
	return code, nil
}
