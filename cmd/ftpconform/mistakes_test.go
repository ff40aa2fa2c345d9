package main

// Issue 11 (part 3): the operator's mistakes and hostile servers end the
// run quickly, with one line and the documented exit status. Each case runs
// the built binary.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ftpharness/ftpharness/suites/report"
)

var built struct {
	once sync.Once
	bin  string
	err  error
	out  []byte
}

// binary builds ftpconform once per test process.
func binary(t *testing.T) string {
	t.Helper()
	built.once.Do(func() {
		dir, err := os.MkdirTemp("", "ftpconform-test-")
		if err != nil {
			built.err = err
			return
		}
		built.bin = filepath.Join(dir, "ftpconform")
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		built.out, built.err = exec.CommandContext(ctx, "go", "build", "-o", built.bin, ".").CombinedOutput()
	})
	if built.err != nil {
		t.Fatalf("go build: %v\n%s", built.err, built.out)
	}
	return built.bin
}

func TestMain(m *testing.M) {
	code := m.Run()
	if built.bin != "" {
		os.RemoveAll(filepath.Dir(built.bin))
	}
	os.Exit(code)
}

type result struct {
	code           int
	stdout, stderr string
	took           time.Duration
}

// runBin runs the binary with args (no FTPH_* from the environment) and
// kills it after limit.
func runBin(t *testing.T, limit time.Duration, args ...string) result {
	t.Helper()
	cmd := exec.Command(binary(t), args...)
	cmd.Dir = t.TempDir()
	cmd.Env = cleanEnv()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	timer := time.AfterFunc(limit, func() { cmd.Process.Kill() })
	defer timer.Stop()
	err := cmd.Wait()
	r := result{stdout: out.String(), stderr: errb.String(), took: time.Since(start)}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	if r.took >= limit {
		t.Fatalf("ftpconform %s still running after %v (killed)\nstderr:\n%s", strings.Join(args, " "), limit, r.stderr)
	}
	return r
}

func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "FTPH_") {
			env = append(env, kv)
		}
	}
	return env
}

// oneLine requires stderr to be exactly one line containing every want.
func (r result) oneLine(t *testing.T, wants ...string) {
	t.Helper()
	lines := strings.Split(strings.TrimRight(r.stderr, "\n"), "\n")
	if len(lines) != 1 {
		t.Errorf("stderr has %d lines, want 1:\n%s", len(lines), r.stderr)
	}
	for _, w := range wants {
		if !strings.Contains(r.stderr, w) {
			t.Errorf("stderr lacks %q:\n%s", w, r.stderr)
		}
	}
}

// fakeFTP serves script on loopback; n counts connections from 0 (the
// probe's). Everything is closed at cleanup.
func fakeFTP(t *testing.T, script func(n int, c net.Conn, br *bufio.Reader)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		conns []net.Conn
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for n := 0; ; n++ {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func(n int) { defer wg.Done(); defer c.Close(); script(n, c, bufio.NewReader(c)) }(n)
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().String()
}

// login answers the greeting, USER and PASS (530 unless pass is right)
// and reports whether the client logged in.
func login(c net.Conn, br *bufio.Reader, pass string) bool {
	io.WriteString(c, "220 fake ready\r\n")
	for i := 0; i < 10; i++ {
		line, err := br.ReadString('\n')
		if err != nil {
			return false
		}
		verb, arg, _ := strings.Cut(strings.TrimSpace(line), " ")
		switch strings.ToUpper(verb) {
		case "USER":
			io.WriteString(c, "331 Please specify the password.\r\n")
		case "PASS":
			if arg != pass {
				io.WriteString(c, "530 Login incorrect.\r\n")
				continue
			}
			io.WriteString(c, "230 Login successful.\r\n")
			return true
		case "QUIT":
			io.WriteString(c, "221 Goodbye.\r\n")
			return false
		default:
			io.WriteString(c, "530 Please login with USER and PASS.\r\n")
		}
	}
	return false
}

// quitOrHold answers QUIT and ignores everything else.
func quitOrHold(c net.Conn, br *bufio.Reader) {
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return
		}
		if strings.HasPrefix(strings.ToUpper(line), "QUIT") {
			io.WriteString(c, "221 Goodbye.\r\n")
			return
		}
	}
}

// Mistakes on the command line: exit 2, one line naming the problem and
// "see --help", at once (before: the whole usage, exit 0 for a filter
// selecting nothing, a dial error for port 99999, results lost at the end
// for an unwritable report directory).
func TestUsageErrorsExit2WithOneLine(t *testing.T) {
	file := filepath.Join(t.TempDir(), "a-file")
	os.WriteFile(file, nil, 0o644)
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--no-such-flag"}, "no-such-flag"},
		{[]string{"--ftp.addr=127.0.0.1:99999", "--ftp.user=u"}, "--ftp.addr"},
		{[]string{"--ftp.url=ftp://u:p@127.0.0.1:99999"}, "--ftp.url"},
		{[]string{"--ftp.url=user:pass@127.0.0.1:21"}, "--ftp.url"},
		{[]string{"--ftp.url=127.0.0.1:21"}, "--ftp.url"},
		{[]string{"--ftp.url=ftps://u:p@127.0.0.1", "--ftp.tls=explicit"}, "--ftp.url"},
		{[]string{"--ginkgo.label-filter=pasv && ("}, "--ginkgo.label-filter"},
		{[]string{"--ginkgo.label-filter=no-such-label"}, "selects no check"},
		{[]string{"--ginkgo.focus=NO-SUCH-CHECK"}, "select no check"},
		{[]string{"--report-dir=" + filepath.Join(file, "sub")}, "--report-dir"},
		{[]string{"--ginkgo.junit-report=" + filepath.Join(file, "junit.xml")}, "--ginkgo.junit-report"},
		{[]string{"stray-argument"}, "stray-argument"},
		{[]string{"--matrix=vsftpd", "--matrix-out=" + filepath.Join(file, "out")}, "--matrix-out"},
		{[]string{"--mutation=pyftpdlib", "--matrix-out=" + filepath.Join(file, "out")}, "--matrix-out"},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			r := runBin(t, 60*time.Second, tc.args...)
			if r.code != exitUsage {
				t.Errorf("exit %d, want %d", r.code, exitUsage)
			}
			r.oneLine(t, tc.want, "see --help")
			if r.took > 5*time.Second {
				t.Errorf("took %v", r.took)
			}
		})
	}
}

// A refused login stops before the suite: exit 3, the server's reply
// quoted, the password not (before: every check failed at login, exit 1).
func TestWrongPasswordExits3WithTheReply(t *testing.T) {
	addr := fakeFTP(t, func(_ int, c net.Conn, br *bufio.Reader) {
		if login(c, br, "right") {
			quitOrHold(c, br)
		}
	})
	r := runBin(t, 60*time.Second, "--ftp.url=ftp://ftpuser:wrong-pw@"+addr, "--ftp.timeout=2s")
	if r.code != exitUnreachable {
		t.Errorf("exit %d, want %d\n%s", r.code, exitUnreachable, r.stdout)
	}
	r.oneLine(t, "login as ftpuser refused", "530 Login incorrect.", "--ftp.password")
	if strings.Contains(r.stderr+r.stdout, "wrong-pw") {
		t.Errorf("the password reached the output")
	}
	if r.took > 5*time.Second {
		t.Errorf("took %v", r.took)
	}
}

// A server that answers the login probe and then never answers again: after
// a few checks time out the rest are skipped as "server stopped answering
// after <ID>", the run ends in seconds and exits 3 (before: every check
// waited for its timeouts, minutes to hours, exit 1).
func TestServerThatStopsAnsweringEndsTheRun(t *testing.T) {
	addr := fakeFTP(t, func(n int, c net.Conn, br *bufio.Reader) {
		if n == 0 && login(c, br, "pw") {
			quitOrHold(c, br)
			return
		}
		io.Copy(io.Discard, c) // accept, never write
	})
	dir := filepath.Join(t.TempDir(), "reports")
	r := runBin(t, 90*time.Second, "--ftp.url=ftp://ftpuser:pw@"+addr, "--ftp.timeout=1s", "--report-dir="+dir)
	t.Logf("wall time %v", r.took)
	if r.code != exitUnreachable {
		t.Errorf("exit %d, want %d", r.code, exitUnreachable)
	}
	r.oneLine(t, "server stopped answering after ")
	if r.took > 30*time.Second {
		t.Errorf("took %v; the breaker should end the run after a few timeouts", r.took)
	}
	run := readVerdicts(t, dir)
	if !strings.HasPrefix(run.Stopped, "server stopped answering after ") {
		t.Errorf("verdicts.json stopped = %q", run.Stopped)
	}
	// each worker has its own breaker, so the skips may name different
	// checks ("after SEQ-005" in one worker, "after SEQ-021" in another);
	// run.Stopped is the first in report order, not always the most common
	skipped, reasons := 0, map[string]int{}
	for _, v := range run.Verdicts {
		reasons[string(v.Result)+": "+v.Reason]++
		if v.Result == report.Skip && strings.HasPrefix(v.Reason, "server stopped answering after ") {
			skipped++
		}
	}
	if skipped < len(run.Verdicts)/2 {
		t.Errorf("only %d of %d checks skipped as stopped; verdicts: %v", skipped, len(run.Verdicts), reasons)
	}
	// one defect, one failure: of each process's streak of checks that
	// ended waiting, only the first fails, the others only waited too, so
	// at most one failure per process (4 workers and the serial one; 7
	// failed before the streak was judged as one)
	failed := 0
	for _, v := range run.Verdicts {
		if v.Result == report.Fail {
			failed++
		}
	}
	t.Logf("%d failed, %d skipped as stopped, of %d", failed, skipped, len(run.Verdicts))
	if failed > 5 {
		t.Errorf("%d checks failed; the streaks that tripped the breakers should leave one failure per worker: %v", failed, reasons)
	}
}

// SIGINT or SIGTERM mid-check: the running check is a skip "interrupted
// (SIGINT) while running", the rest "not run (interrupted)", the reports
// are written and the exit status is 130 (before: "fail: timed out",
// blamed on the server).
func TestInterruptRecordsSkipsAndExits130(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(map[syscall.Signal]string{syscall.SIGINT: "SIGINT", syscall.SIGTERM: "SIGTERM"}[sig], func(t *testing.T) { interruptRun(t, sig) })
	}
}

func interruptRun(t *testing.T, sig syscall.Signal) {
	name := map[syscall.Signal]string{syscall.SIGINT: "SIGINT", syscall.SIGTERM: "SIGTERM"}[sig]
	// the signal goes once the workers run checks: the parent's probe, a
	// worker's setup and a check have each logged in (a fixed 2 s was
	// still the plan phase on a loaded machine: no check was running)
	running := make(chan struct{})
	var once sync.Once
	addr := fakeFTP(t, func(n int, c net.Conn, br *bufio.Reader) {
		// logged in or not, then silence: a server that closed after ten
		// commands would fail SEC-001 (no 421) within the 2 s, rightly,
		// whenever the random order runs it first
		login(c, br, "pw")
		if n >= 2 {
			once.Do(func() { close(running) })
		}
		io.Copy(io.Discard, c)
	})
	dir := filepath.Join(t.TempDir(), "reports")
	cmd := exec.Command(binary(t), "--ftp.url=ftp://ftpuser:pw@"+addr, "--ftp.timeout=60s", "--report-dir="+dir)
	cmd.Env = cleanEnv()
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	kill := time.AfterFunc(60*time.Second, func() { cmd.Process.Kill() })
	defer kill.Stop()
	select {
	case <-running:
		time.Sleep(time.Second)
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatal("no check logged in within 30 s")
	}
	signalled := time.Now()
	cmd.Process.Signal(sig)
	err := cmd.Wait()
	took := time.Since(signalled)
	t.Logf("exit after %v: %v", took, err)
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != exitInterrupted {
		t.Fatalf("exit %v, want %d\nstderr:\n%s", err, exitInterrupted, errb.String())
	}
	if took > 20*time.Second {
		t.Errorf("took %v after the signal", took)
	}
	run := readVerdicts(t, dir)
	counts := map[string]int{}
	for _, v := range run.Verdicts {
		counts[string(v.Result)+": "+v.Reason]++
	}
	if counts["skip: interrupted ("+name+") while running"] < 1 || counts["skip: not run (interrupted)"] < 1 {
		t.Errorf("verdicts: %v", counts)
	}
	for k := range counts {
		if strings.HasPrefix(k, "fail") {
			t.Errorf("an interrupted run blames the server: %q", k)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "report.html")); err != nil {
		t.Errorf("report.html: %v", err)
	}
}

func readVerdicts(t *testing.T, dir string) report.Run {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "verdicts.json"))
	if err != nil {
		t.Fatalf("verdicts.json: %v", err)
	}
	defer f.Close()
	var run report.Run
	if err := json.NewDecoder(f).Decode(&run); err != nil {
		t.Fatal(err)
	}
	return run
}

// An FTPS target is accepted (the suites run over TLS) and a server that
// does not speak it stops the run before the suite: exit 3, AUTH's reply
// quoted.
func TestFTPSTargetWithoutTLSExits3(t *testing.T) {
	addr := fakeFTP(t, func(_ int, c net.Conn, br *bufio.Reader) {
		io.WriteString(c, "220 fake\r\n")
		if line, err := br.ReadString('\n'); err == nil && strings.HasPrefix(line, "AUTH") {
			io.WriteString(c, "502 AUTH not implemented\r\n")
		}
		br.ReadString('\n')
	})
	r := runBin(t, 60*time.Second, "--ftp.url=ftpes://ftpuser:pw@"+addr, "--ftp.timeout=2s")
	if r.code != exitUnreachable {
		t.Errorf("exit %d, want %d\n%s%s", r.code, exitUnreachable, r.stdout, r.stderr)
	}
	r.oneLine(t, "refused AUTH TLS", "502 AUTH not implemented")
}
