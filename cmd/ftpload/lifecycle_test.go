package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ftpharness/ftpharness/loadgen"
	"github.com/ftpharness/ftpharness/servers"
	"github.com/ftpharness/ftpharness/servers/servertest"
	"github.com/ftpharness/ftpharness/target"
)

// On a pipe (not a terminal) and without --quiet, progress is one plain
// line per interval: no carriage return, no escape sequence.
func TestProgressOnPipe(t *testing.T) {
	old := progressEvery
	progressEvery = 100 * time.Millisecond
	defer func() { progressEvery = old }()
	code, out, stderr := runCLI(t, "churn", "--server", "sink", "--sessions", "2", "--duration", "1s", "--count", "100000")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, stderr)
	}
	if strings.ContainsAny(stderr, "\r\x1b") {
		t.Errorf("terminal control on a pipe: %q", stderr)
	}
	re := regexp.MustCompile(`^ftpload: \d+\.\ds sessions \d+ ops \d+ \d+/s \d+\.\d MB/s errors \d+$`)
	n := 0
	for _, l := range strings.Split(strings.TrimSpace(stderr), "\n") {
		if strings.HasPrefix(l, "ftpload: started") {
			continue
		}
		if !re.MatchString(l) {
			t.Errorf("progress line %q", l)
		}
		n++
	}
	if n < 5 || n > 12 { // 1 s at 100 ms
		t.Errorf("%d progress lines in 1 s at 100 ms:\n%s", n, stderr)
	}

	// exhaust: held and errors
	var b bytes.Buffer
	done := make(chan struct{})
	time.AfterFunc(350*time.Millisecond, func() { close(done) })
	showProgress(loadgen.NewAttacker(target.Config{}), loadgen.Exhaust, time.Now(), &b, false, done)
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	for _, l := range lines {
		if !regexp.MustCompile(`^ftpload: \d+\.\ds held \d+ errors \d+$`).MatchString(l) {
			t.Errorf("exhaust progress line %q", l)
		}
	}
	if len(lines) != 3 {
		t.Errorf("exhaust: %d lines in 350 ms at 100 ms:\n%s", len(lines), b.String())
	}

	// --quiet: none
	_, _, stderr = runCLI(t, "churn", "--server", "sink", "--sessions", "2", "--duration", "500ms", "--quiet")
	if strings.Contains(stderr, "ops ") {
		t.Errorf("--quiet printed progress:\n%s", stderr)
	}
}

// startRoot starts ftpserverlib serving root and returns its URL.
func startRoot(t *testing.T, root string) string {
	tg, _ := servertest.Start(t, "ftpserverlib", servers.Spec{PasvMax: 10, Root: root})
	return "ftp://" + tg.User + ":" + tg.Password + "@" + tg.Addr
}

func files(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

// A stor run removes the files it uploaded at the end, unless --keep-files.
func TestStorCleanup(t *testing.T) {
	root := t.TempDir()
	url := startRoot(t, root)
	args := []string{"stor", "--target", url, "--sessions", "2", "--count", "6", "--size", "1KiB", "--duration", "20s", "--quiet"}
	code, out, stderr := runCLI(t, append(args, "--keep-files")...)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, stderr)
	}
	if got := files(t, root); len(got) != 2 || got[0] != "ftpload-stor-0.bin" || got[1] != "ftpload-stor-1.bin" {
		t.Errorf("--keep-files: %v", got)
	}
	code, out, stderr = runCLI(t, args...)
	if code != 0 || stderr != "" {
		t.Fatalf("exit %d\n%s\n%s", code, out, stderr)
	}
	if got := files(t, root); len(got) != 0 {
		t.Errorf("after the run: %v, want none", got)
	}
	// the sink keeps nothing and says DELE worked: no cleanup line
	if code, out, stderr = runCLI(t, "stor", "--server", "sink", "--count", "4", "--size", "1KiB", "--quiet"); code != 0 || stderr != "" {
		t.Errorf("stor on the sink: exit %d\n%s\n%s", code, out, stderr)
	}
	// retr: the file the run uploaded goes too
	code, out, stderr = runCLI(t, "retr", "--target", url, "--sessions", "2", "--count", "4", "--size", "3000", "--duration", "20s", "--quiet")
	if code != 0 || stderr != "" {
		t.Fatalf("retr: exit %d\n%s\n%s", code, out, stderr)
	}
	if got := files(t, root); len(got) != 0 {
		t.Errorf("after retr: %v, want none", got)
	}
}

// The embedded server is named with its version.
func TestEmbeddedVersion(t *testing.T) {
	mod, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(mod), "github.com/fclairamb/ftpserverlib "+embeddedVersion+"\n") {
		t.Errorf("go.mod does not require ftpserverlib %s", embeddedVersion)
	}
	var help bytes.Buffer
	printUsage(&help)
	if !strings.Contains(help.String(), "ftpserverlib "+embeddedVersion) {
		t.Error("--help does not name the embedded server's version")
	}
	rep := &loadgen.Report{Settings: loadgen.Settings{Scenario: "churn", Target: "127.0.0.1:1", Server: serverLabel("embedded")}}
	var b bytes.Buffer
	loadgen.NewTextReporter(rep)(&b)
	if !strings.Contains(b.String(), "(embedded ftpserverlib "+embeddedVersion+")") {
		t.Errorf("text report:\n%s", b.String())
	}
	rep.Settings.Server = "vsftpd"
	b.Reset()
	loadgen.NewTextReporter(rep)(&b)
	if strings.Contains(b.String(), "embedded vsftpd") || !strings.Contains(b.String(), "(vsftpd, started by ftpload)") {
		t.Errorf("text report:\n%s", b.String())
	}
}

// The built binary, interrupted by SIGINT during a long run against the
// embedded server, drains, writes its report and exits 130.
func TestInterruptExits130(t *testing.T) {
	if testing.Short() {
		t.Skip("builds ftpload")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "ftpload")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	js := filepath.Join(dir, "run.json")
	c := exec.CommandContext(ctx, bin, "stor", "--sessions", "2", "--size", "4KiB", "--duration", "60s", "--json", js)
	var out, errb bytes.Buffer
	c.Stdout, c.Stderr = &out, &errb
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	t0 := time.Now()
	c.Process.Signal(syscall.SIGINT)
	err := c.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != exitInterrupted {
		t.Fatalf("exit %v, want 130\n%s\n%s", err, out.String(), errb.String())
	}
	if el := time.Since(t0); el > 15*time.Second {
		t.Errorf("took %v after SIGINT", el)
	}
	rep := loadReport(t, js)
	if !rep.Interrupted || rep.Totals.OK == 0 {
		t.Errorf("report: interrupted %v, totals %+v", rep.Interrupted, rep.Totals)
	}
	if !strings.Contains(errb.String(), "ftpserverlib "+embeddedVersion) || !strings.Contains(errb.String(), "ftpload: interrupted") {
		t.Errorf("stderr:\n%s", errb.String())
	}
}
