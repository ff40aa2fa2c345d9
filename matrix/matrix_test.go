package matrix_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ftpharness/ftpharness/matrix"
	"github.com/ftpharness/ftpharness/servers"
	"github.com/ftpharness/ftpharness/suites/report"
)

// TestExpectations runs the conformance suites against every local server
// and requires each verdict to equal fixtures/expectations/<server>.yaml:
// an unexpected failure and an unexpected pass are both errors.
func TestExpectations(t *testing.T) {
	names := envList("FTPH_MATRIX_SERVERS", servers.Names())
	checkMatrix(t, matrix.Options{Servers: names}, func(server string) (matrix.Expectations, error) {
		return matrix.LoadExpectations("../fixtures/expectations", server)
	})
}

// TestExpectationsTLS runs the suites over explicit FTPS (ftpes://, TLS
// offered, cleartext still accepted) against every server with a TLS
// variant, once each: the verdicts must equal the server's expectations
// with fixtures/expectations/tls/<server>.yaml laid over them (the checks
// whose verdict FTPS changes, and why).
func TestExpectationsTLS(t *testing.T) {
	names := tlsVariants(func(modes []string) bool { return len(modes) > 0 })
	checkMatrix(t, matrix.Options{Servers: names, TLS: "explicit"}, func(server string) (matrix.Expectations, error) {
		return matrix.LoadLayered("../fixtures/expectations", "../fixtures/expectations/tls", server)
	})
}

// checkMatrix runs the matrix o and compares each server's verdicts with
// load(server); a mismatch counts when a second run of that server
// repeats it.
func checkMatrix(t *testing.T, o matrix.Options, load func(server string) (matrix.Expectations, error)) {
	if testing.Short() {
		t.Skip("runs the whole suite against every server; skipped with -short")
	}
	bin := filepath.Join(t.TempDir(), "ftpconform")
	build := exec.Command("go", "build", "-o", bin, "../cmd/ftpconform")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		t.Fatalf("build ftpconform: %v", err)
	}
	out := t.TempDir()
	if d := os.Getenv("FTPH_MATRIX_OUT"); d != "" {
		out = d
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	start := time.Now()
	o.Binary, o.Dir, o.Parallel, o.Args = bin, out, 2, append(workerArgs(), o.Args...)
	o.Progress = func(s, ev string) { t.Logf("[%5.1fs] %s: %s", time.Since(start).Seconds(), s, ev) }
	filtered := slices.ContainsFunc(o.Args, func(a string) bool { return strings.HasPrefix(a, "--ginkgo.label-filter=") })
	m := matrix.Run(ctx, o)
	for _, s := range m.Servers {
		t.Run(s, func(t *testing.T) {
			if e, ok := m.Errors[s]; ok {
				t.Fatalf("%s: %s", s, e)
			}
			run := m.Runs[s]
			n := run.Counts()
			t.Logf("%s: %d pass, %d fail, %d warn, %d skip, %d observe in %.1fs", s, n[report.Pass], n[report.Fail], n[report.Warn], n[report.Skip], n[report.Observe], run.Seconds)
			exp, err := load(s)
			if err != nil {
				t.Fatalf("expectations: %v\nthis run would give:\n%s", err, matrix.Skeleton(run))
			}
			mismatches := matrix.Compare(run, exp)
			if filtered {
				mismatches = selected(mismatches) // the areas' checks only
			}
			if len(mismatches) > 0 {
				// Some servers are nondeterministic (goftp's random port
				// choice among leaked listeners, pure-ftpd's slots held by
				// sessions it has not reaped yet). A mismatch counts when
				// it repeats in a second run of that server; one that does
				// not is reported as flaky so it stays visible.
				for _, mm := range mismatches {
					t.Logf("%s: first run: %s", s, mm)
				}
				again := o // the same server setup and suite arguments
				again.Dir, again.Progress = filepath.Join(out, "rerun"), nil
				rerun, err := matrix.RunServer(ctx, again, s)
				if err != nil {
					t.Fatalf("%s: re-run: %v", s, err)
				}
				repeated, flaky := matrix.Repeated(mismatches, rerun, exp)
				for _, mm := range repeated {
					t.Errorf("%s: %s (in two runs)", s, mm)
				}
				for _, mm := range flaky {
					t.Logf("FLAKY %s: %s did not repeat in a second run", s, mm.ID)
				}
			}
			if t.Failed() {
				t.Logf("suite output: %s", filepath.Join(out, s, "output.txt"))
			}
		})
	}
}

// workerArgs spreads each server's run over FTPH_MATRIX_WORKERS worker
// processes (default 4; ftpconform --workers), the way a user speeds up a
// run: the verdicts must not depend on it.
func workerArgs() []string {
	n := os.Getenv("FTPH_MATRIX_WORKERS")
	if n == "" {
		n = "4"
	}
	return []string{"--workers=" + n}
}
