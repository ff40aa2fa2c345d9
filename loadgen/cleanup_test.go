package loadgen

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/ftpharness/ftpharness/servers"
	"github.com/ftpharness/ftpharness/servers/servertest"
	"github.com/ftpharness/ftpharness/target"
)

// startFSLRoot starts ftpserverlib serving root.
func startFSLRoot(t *testing.T, root string) (target.Config, target.Range) {
	return servertest.Start(t, "ftpserverlib", servers.Spec{PasvMax: 10, Root: root})
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names
}

// runScenario prepares and runs scenario to its end (bounded by count and time).
func runScenario(t *testing.T, a *Attacker, scenario string) {
	t.Helper()
	if err := a.Prepare(context.Background(), scenario); err != nil {
		t.Fatal(err)
	}
	m, _ := collect(t, a, context.Background(), scenario)
	if rep := m.Report(a.Settings(scenario)); rep.Totals.OK == 0 {
		t.Fatalf("%s: nothing succeeded: %+v", scenario, rep.Errors)
	}
}

func TestCleanupStor(t *testing.T) {
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "keep.txt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	tg, pr := startFSLRoot(t, root)
	opts := []Option{WithPasvRange(pr), WithSessions(3), WithCount(12), WithSize(1000), WithDuration(20 * time.Second), WithTimeout(5 * time.Second)}

	a := NewAttacker(tg, opts...)
	runScenario(t, a, Stor)
	want := []string{"ftpload-stor-0.bin", "ftpload-stor-1.bin", "ftpload-stor-2.bin", "keep.txt"}
	if got := dirNames(t, root); !equalStrings(got, want) {
		t.Fatalf("after the run: %v, want %v", got, want)
	}
	// --keep-files: the CLI does not call Cleanup; the files stay (above).
	res := a.Cleanup(context.Background())
	if res.Files != 3 || res.Removed != 3 || res.Err != "" || res.String() != "" {
		t.Errorf("cleanup: %+v %q", res, res.String())
	}
	if got := dirNames(t, root); !equalStrings(got, []string{"keep.txt"}) {
		t.Errorf("after cleanup: %v", got)
	}
	// again: nothing there to remove, one line says so
	res = a.Cleanup(context.Background())
	if res.Removed != 0 || res.Err == "" || res.String() == "" {
		t.Errorf("second cleanup: %+v", res)
	}
}

func TestCleanupRetrFile(t *testing.T) {
	root := t.TempDir()
	tg, pr := startFSLRoot(t, root)
	opts := []Option{WithPasvRange(pr), WithSessions(2), WithCount(4), WithSize(2000), WithDuration(20 * time.Second), WithTimeout(5 * time.Second)}

	// the run uploads ftpload-2000.bin: Cleanup removes it
	a := NewAttacker(tg, opts...)
	runScenario(t, a, Retr)
	if got := a.UploadedFiles(); !equalStrings(got, []string{"ftpload-2000.bin"}) {
		t.Fatalf("uploaded %v", got)
	}
	if res := a.Cleanup(context.Background()); res.Removed != 1 || res.Err != "" {
		t.Errorf("cleanup: %+v", res)
	}
	if got := dirNames(t, root); len(got) != 0 {
		t.Errorf("after cleanup: %v", got)
	}

	// a file already there with the right size is the user's: left alone
	if err := os.WriteFile(filepath.Join(root, "ftpload-2000.bin"), make([]byte, 2000), 0o644); err != nil {
		t.Fatal(err)
	}
	a = NewAttacker(tg, opts...)
	runScenario(t, a, Retr)
	if got := a.UploadedFiles(); len(got) != 0 {
		t.Errorf("uploaded %v, want none", got)
	}
	a.Cleanup(context.Background())
	if got := dirNames(t, root); !equalStrings(got, []string{"ftpload-2000.bin"}) {
		t.Errorf("after cleanup: %v", got)
	}
}

func TestCleanupMixedStor(t *testing.T) {
	root := t.TempDir()
	tg, pr := startFSLRoot(t, root)
	a := NewAttacker(tg, WithPasvRange(pr), WithSessions(2), WithCount(20), WithMix(Mix{{"stor", 1}, {"retr", 1}}),
		WithSeed(1), WithDuration(20*time.Second), WithTimeout(5*time.Second))
	runScenario(t, a, Mixed)
	if len(dirNames(t, root)) == 0 {
		t.Fatal("the run uploaded nothing")
	}
	if res := a.Cleanup(context.Background()); res.Err != "" {
		t.Errorf("cleanup: %+v", res)
	}
	if got := dirNames(t, root); len(got) != 0 {
		t.Errorf("after cleanup: %v", got)
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
