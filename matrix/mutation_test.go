package matrix_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ftpharness/ftpharness/matrix"
	"github.com/ftpharness/ftpharness/servers"
)

// TestMutation is the mutation matrix in focused form: against pyftpdlib,
// every fault of servers/faulty runs through a fresh proxy in front of a
// fresh server, restricted to the areas of the fault's declared kills, and
// is compared with a clean proxy run restricted the same way. Per fault,
// every declared kill that passes clean must be killed and no other check
// may change verdict; a conformant fault may fail no MUST/SHOULD check.
// Transparency (the clean proxy gives the direct run's verdicts) is left to
// `make mutation`, which checks it on the whole suite.
//
// `ftpconform --mutation=pyftpdlib` (make mutation) runs the same matrix
// unfocused and writes docs/mutation.{md,json} with the score.
func TestMutation(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the suites once per fault against pyftpdlib; skipped with -short")
	}
	const server = "pyftpdlib"
	probe(t, server)
	bin := filepath.Join(t.TempDir(), "ftpconform")
	build := exec.Command("go", "build", "-o", bin, "../cmd/ftpconform")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		t.Fatalf("build ftpconform: %v", err)
	}
	out := t.TempDir()
	if d := os.Getenv("FTPH_MUTATION_OUT"); d != "" {
		out = d
	}
	var faults []string // all, or FTPH_MUTATION_FAULTS (comma list) while working on some
	if only := os.Getenv("FTPH_MUTATION_FAULTS"); only != "" {
		faults = strings.Split(only, ",")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Minute)
	defer cancel()
	start := time.Now()
	m, err := matrix.Mutation(ctx, matrix.MutationOptions{
		Binary: bin, Server: server, Dir: out, Parallel: 2, Focused: true, Faults: faults,
		// transparency (direct vs clean proxy) is checked on the whole suite by
		// `make mutation`; here it would cost a minute of the time budget
		NoDirect: true,
		Progress: func(r, ev string) { t.Logf("[%5.1fs] %s: %s", time.Since(start).Seconds(), r, ev) },
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("mutation matrix (focused) in %.0fs", m.Seconds)
	for _, tr := range m.Transparency {
		if tr.Error != "" {
			t.Errorf("transparency %q: %s", tr.Filter, tr.Error)
		}
		for _, c := range tr.Changes {
			t.Errorf("transparency %q: %s is %s directly but %s through the clean proxy (%s)", tr.Filter, c.ID, c.Clean, c.Faulted, c.Reason)
		}
	}
	runDir := map[string]string{}
	for _, r := range m.Runs {
		runDir[r.Name] = r.Dir
	}
	for _, f := range m.Faults {
		t.Run(f.Fault, func(t *testing.T) {
			if f.Error != "" {
				t.Fatalf("%s", f.Error)
			}
			t.Logf("%s (%s, %.0fs): killed %v", f.Fault, f.Filter, f.Seconds, f.Killed)
			if len(f.Untestable) > 0 {
				t.Logf("declared kills that do not pass on %s, so cannot be killed here: %v", server, f.Untestable)
			}
			if len(f.Masked) > 0 {
				for _, id := range f.Masked {
					why, _ := matrix.Tolerated(f.Fault, id)
					t.Logf("tolerated change of %s: %s", id, why)
				}
			}
			if len(f.Blocked) > 0 {
				t.Logf("blocked by the fault's kills (one defect, one failure): %v", f.Blocked)
			}
			changed := map[string]matrix.Change{}
			for _, c := range f.Changes {
				changed[c.ID] = c
			}
			for _, id := range f.Missed {
				t.Errorf("declared kill %s survived (clean %s, faulted %s)", id, changed[id].Clean, changed[id].Faulted)
			}
			for _, id := range f.Unexpected {
				c := changed[id]
				t.Errorf("%s changed verdict %s -> %s, not declared: %s", id, c.Clean, c.Faulted, c.Reason)
			}
			for _, id := range f.Violations {
				t.Errorf("conformant fault fails %s: %s", id, changed[id].Reason)
			}
			if t.Failed() {
				t.Logf("run directory: %s", runDir["fault-"+f.Fault])
			}
		})
	}
}

// probe starts the server once: a missing one skips the test, or fails it
// under CI / FTPH_REQUIRE_SERVERS=1.
func probe(t *testing.T, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := servers.Start(ctx, name, servers.Spec{StateDir: t.TempDir()})
	if err != nil {
		if errors.Is(err, servers.ErrNotInstalled) || errors.Is(err, servers.ErrNeedsRoot) {
			if os.Getenv("CI") != "" || os.Getenv("FTPH_REQUIRE_SERVERS") == "1" {
				t.Fatalf("%s is required here (CI or FTPH_REQUIRE_SERVERS=1): %v", name, err)
			}
			t.Skipf("%s not available: %v", name, err)
		}
		t.Fatalf("start %s: %v", name, err)
	}
	s.Stop()
}
