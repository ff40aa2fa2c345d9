package main

import (
	"path/filepath"
	"reflect"
	"testing"
)

func TestConformArgs(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "r")
	t.Setenv("FTPH_REPORT_DIR", dir)
	t.Setenv("FTPH_LABEL_FILTER", "pasv && must")
	t.Setenv("FTPH_FOCUS", "")
	t.Setenv("FTPH_EXPECT", "")
	got := conformArgs([]string{"--ginkgo.v"})
	want := []string{"--report-dir=" + dir, "--ginkgo.label-filter=pasv && must", "--ginkgo.v"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("conformArgs = %q, want %q", got, want)
	}
	// a flag on the command line wins over its variable
	got = conformArgs([]string{"--report-dir", "/x", "-ginkgo.label-filter=star"})
	want = []string{"--report-dir", "/x", "-ginkgo.label-filter=star"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("conformArgs = %q, want %q", got, want)
	}
	t.Setenv("FTPH_REPORT_DIR", "")
	t.Setenv("FTPH_LABEL_FILTER", "")
	if got := conformArgs(nil); len(got) != 0 {
		t.Fatalf("conformArgs with no variables = %q", got)
	}
}

func TestLoadArgs(t *testing.T) {
	t.Setenv("FTPH_REPORT_DIR", "")
	t.Setenv("FTPH_URL", "")
	t.Setenv("FTPH_ADDR", "srv:21")
	t.Setenv("FTPH_USER", "u")
	t.Setenv("FTPH_PASSWORD", "p@ss")
	t.Setenv("FTPH_PASV_RANGE", "30000-30009")
	t.Setenv("FTPH_PASV_ADDRESS", "")
	t.Setenv("FTPH_LOAD_SCENARIO", "")
	got := loadArgs([]string{"churn", "--sessions", "4"})
	want := []string{"churn", "--target=ftp://u:p%40ss@srv:21", "--allow-remote", "--pasv-range=30000-30009", "--sessions", "4"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("loadArgs = %q, want %q", got, want)
	}
	got = loadArgs([]string{"--target=ftp://a:b@127.0.0.1:21"})
	want = []string{"exhaust", "--pasv-range=30000-30009", "--target=ftp://a:b@127.0.0.1:21"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("loadArgs = %q, want %q", got, want)
	}
}

func TestExitStatus(t *testing.T) {
	if got := execute([]string{"sh", "-c", "exit 3"}); got != 3 {
		t.Fatalf("exit status %d, want 3", got)
	}
	if got := execute([]string{"sh", "-c", "kill -TERM $$"}); got != 128+15 {
		t.Fatalf("exit status %d, want 143", got)
	}
	if got := execute([]string{"/nonexistent/ftph"}); got != 127 {
		t.Fatalf("exit status %d, want 127", got)
	}
}
