package matrix_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ftpharness/ftpharness/matrix"
	"github.com/ftpharness/ftpharness/servers"
	"github.com/ftpharness/ftpharness/suites/report"
)

// TestExpectationsIPv6 is the IPv6 column: every server listens on ::1
// and the suites dial [::1]; each verdict must equal the server's
// expectations with fixtures/expectations/ipv6/common.yaml (what every
// server does differently over IPv6) and ipv6/<server>.yaml laid over them.
// FTPH_MATRIX_SERVERS=a,b narrows it.
func TestExpectationsIPv6(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the whole suite against every server over IPv6; skipped with -short")
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
	names := servers.Names()
	if only := os.Getenv("FTPH_MATRIX_SERVERS"); only != "" {
		names = strings.Split(only, ",")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	start := time.Now()
	m := matrix.Run(ctx, matrix.Options{
		Binary: bin, Servers: names, Dir: out, Parallel: 2, Args: workerArgs(), Listen: "::1",
		Progress: func(s, ev string) { t.Logf("[%5.1fs] %s: %s", time.Since(start).Seconds(), s, ev) },
	})
	for _, s := range m.Servers {
		t.Run(s, func(t *testing.T) {
			if e, ok := m.Errors[s]; ok {
				t.Fatalf("%s over IPv6: %s", s, e)
			}
			run := m.Runs[s]
			n := run.Counts()
			t.Logf("%s over IPv6: %d pass, %d fail, %d warn, %d skip, %d observe in %.1fs", s, n[report.Pass], n[report.Fail], n[report.Warn], n[report.Skip], n[report.Observe], run.Seconds)
			exp, err := matrix.LoadIPv6("../fixtures/expectations", s)
			if err != nil {
				t.Fatalf("IPv6 expectations: %v", err)
			}
			for _, mm := range matrix.Compare(run, exp) {
				t.Errorf("%s over IPv6: %s", s, mm)
			}
			if t.Failed() {
				t.Logf("suite output: %s", filepath.Join(out, s, "output.txt"))
			}
		})
	}
}
