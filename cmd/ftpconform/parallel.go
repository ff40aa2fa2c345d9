package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/onsi/ginkgo/v2/reporters"
	"github.com/onsi/ginkgo/v2/types"

	"github.com/ftpharness/ftpharness/servers"
	"github.com/ftpharness/ftpharness/suites"
	"github.com/ftpharness/ftpharness/suites/framework"
	"github.com/ftpharness/ftpharness/suites/report"
	"github.com/ftpharness/ftpharness/target"
)

// The checks are I/O-bound: most of a run is waiting for a server's reply
// or its timers. With --workers N the run is spread over N worker
// processes of this binary (Ginkgo runs one suite per process), each
// running a share of the checks that may share the server; then one worker
// runs the checks that need the server alone (pool exhaustion, the port
// range area). Their reports are combined into one run, judged as if one
// process had run every check.

// parentOnly are the flags the workers must not see: the parent compares,
// writes the reports and decides the exit status.
var parentOnly = map[string]bool{
	"report-dir": true, "expect": true, "verdicts": true, "workers": true,
	"ginkgo.junit-report": true, "ginkgo.json-report": true, "ginkgo.teamcity-report": true,
}

// workerArgs is args without the parent's flags (-x v, --x v, -x=v, --x=v).
func workerArgs(args []string) []string {
	var out []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		name := strings.TrimLeft(a, "-")
		name, _, hasValue := strings.Cut(name, "=")
		if !strings.HasPrefix(a, "-") || !parentOnly[name] {
			out = append(out, a)
			continue
		}
		if !hasValue && i+1 < len(args) {
			i++ // the flag's value
		}
	}
	return out
}

// parallelism is how many workers share the server: n when given; else 4
// (verdicts proven equal to a one-process run against every server on tap:
// TestExpectations runs that way), never more than a fifth of the declared
// passive range (each worker holds a few sessions, and pure-ftpd admits
// half the range per user), and 2 when no range is declared: the pool
// size is unknown (unless it is declared the kernel's ephemeral range,
// --ftp.pasv-ephemeral: inetutils 66 s -> 41 s with the same verdicts).
func parallelism(n int, cfg target.Config) int {
	if n > 0 {
		return n
	}
	if !cfg.Embedded() && cfg.PasvRange == "" && !cfg.PasvEphemeral {
		return 2
	}
	n = 4
	if r, ok := cfg.PasvPorts(); ok && r.Size()/5 < n {
		n = max(r.Size()/5, 1)
	}
	return n
}

// runParallel runs the suite in n workers plus a serial one and returns
// the combined verdicts, reported as opts say.
func runParallel(cfg target.Config, args []string, n int, opts suites.Options) (report.Run, error) {
	ctx, sig, stop := interruptible()
	defer stop()
	env, cleanup, err := workerEnv(ctx, &cfg)
	if err != nil {
		return report.Run{}, err
	}
	defer cleanup()
	tmp, err := os.MkdirTemp("", "ftpconform-workers-")
	if err != nil {
		return report.Run{}, err
	}
	defer os.RemoveAll(tmp)
	start := time.Now()
	// the workers note the passive ports they use in one file: the serial
	// checks run right after the others (framework.LastUse)
	env = append(env, framework.PortsUsedEnv+"="+filepath.Join(tmp, "ports-used"))
	w := workers{args: workerArgs(args), env: env, dir: tmp, progress: opts.Progress}
	if opts.Verbose {
		w.stream = os.Stdout
	}
	parts, err := w.runAll(ctx, n)
	if err != nil {
		return report.Run{}, err
	}
	combined := suites.Combine(parts, time.Since(start))
	run := suites.Finish(combined, cfg.Password, sig(), opts)
	return run, writeGinkgoReports(combined)
}

// runAll plans the shares, runs them n at a time, then the checks that
// need the server alone, and returns every worker's report. The checks
// that need the server alone start once every share has ended but those of
// control-only checks, which run on beside them (one session each, no
// passive port: nothing the serial checks count or connect to).
func (w *workers) runAll(ctx context.Context, n int) ([]types.Report, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	checks, listed, err := w.plan(ctx, exe)
	if err != nil || len(checks) == 0 {
		return listed, err
	}
	shares, hasAlone := sharesFor(checks, n)
	w.total = len(shares)
	if hasAlone {
		w.total++
	}
	gate := newSerialGate(shares, checks)
	var alone []types.Report
	aloneErr := make(chan error, 1)
	go func() {
		if !gate.wait() || !hasAlone {
			aloneErr <- nil
			return
		}
		var err error
		alone, err = w.run(ctx, exe, []framework.Shard{{Serial: true}}, 1, nil)
		aloneErr <- err
	}()
	parts, err := w.run(ctx, exe, shares, n, gate.done)
	if err2 := <-aloneErr; err == nil {
		err = err2
	}
	if err != nil {
		return nil, err
	}
	return append(parts, alone...), nil
}

// interruptible is a context cancelled by SIGINT or SIGTERM (the workers
// are interrupted in turn and still report), and the name of the signal.
func interruptible() (context.Context, func() string, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	var mu sync.Mutex
	name := ""
	go func() {
		s, ok := <-ch
		if !ok {
			return
		}
		mu.Lock()
		name = map[os.Signal]string{os.Interrupt: "SIGINT", syscall.SIGTERM: "SIGTERM"}[s]
		mu.Unlock()
		cancel()
	}()
	sig := func() string { mu.Lock(); defer mu.Unlock(); return name }
	return ctx, sig, func() { signal.Stop(ch); close(ch); cancel() }
}

// workerEnv starts the embedded server when cfg names none (the workers
// must share one server) and returns the environment that points the
// workers at it: the password goes through the environment, never onto a
// command line another user could read.
func workerEnv(ctx context.Context, cfg *target.Config) ([]string, func(), error) {
	env := os.Environ()
	if !cfg.Embedded() {
		return env, func() {}, nil
	}
	root, err := os.MkdirTemp("", "ftpharness-embedded-")
	if err != nil {
		return nil, nil, err
	}
	srv, err := servers.Start(ctx, cfg.EmbeddedServer, servers.Spec{Root: root, StateDir: filepath.Join(root, ".state")})
	if err != nil {
		os.RemoveAll(root)
		return nil, nil, fmt.Errorf("start the embedded %s server: %w", cfg.EmbeddedServer, err)
	}
	t := srv.Target()
	cfg.Addr, cfg.User, cfg.Password = t.Addr, t.User, t.Password
	env = append(env, "FTPH_ADDR="+t.Addr, "FTPH_USER="+t.User, "FTPH_PASSWORD="+t.Password)
	if cfg.PasvRange == "" {
		cfg.PasvRange = t.PasvRange
		env = append(env, "FTPH_PASV_RANGE="+t.PasvRange)
	}
	return env, func() { srv.Stop(); os.RemoveAll(root) }, nil
}

// workers start worker processes of this binary.
type workers struct {
	args []string
	env  []string
	dir  string
	// progress, when set, gets a line rewritten as shares finish; stream,
	// when set, each worker's output (Ginkgo's stream with -v) as it ends.
	progress, stream io.Writer
	total            int
	mu               sync.Mutex
	done             int
	stopped          string // the first worker's "server stopped answering" reason
}

// finished notes a worker that ended and shows its output and the progress.
func (w *workers) finished(s framework.Shard, output string, rs []types.Report) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.done++
	for _, r := range rs {
		if stop := report.FromGinkgo(r).Stopped; stop != "" && w.stopped == "" {
			w.stopped = stop // the shares not started yet are not run
		}
	}
	if w.stream != nil {
		b, _ := os.ReadFile(output)
		fmt.Fprintf(w.stream, "--- worker %s ---\n%s", s, b)
	}
	if w.progress != nil {
		fmt.Fprintf(w.progress, "\r[%d/%d] shares of the checks done", w.done, w.total)
		if w.done == w.total {
			fmt.Fprint(w.progress, "\r"+strings.Repeat(" ", 40)+"\r")
		}
	}
}

// sharesPerWorker is how many shares of the checks each worker slot runs
// one after the other.
const sharesPerWorker = 3

// run runs one worker per share, at most slots at a time, and returns their
// reports; done, when set, is told of each share as it ends.
func (w *workers) run(ctx context.Context, exe string, shares []framework.Shard, slots int, done func(framework.Shard, error)) ([]types.Report, error) {
	reports := make([][]types.Report, len(shares))
	errs := make([]error, len(shares))
	var wg sync.WaitGroup
	free := make(chan struct{}, slots)
	for i, s := range shares {
		// the slot is taken here, not in the goroutine, so the shares
		// start in their order (the slow ones first), not in whatever
		// order the goroutines happen to be scheduled
		free <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-free }()
			reports[i], errs[i] = w.one(ctx, exe, s)
			if done != nil {
				done(s, errs[i])
			}
		}()
	}
	wg.Wait()
	var out []types.Report
	for i := range shares {
		if errs[i] != nil {
			return nil, errs[i]
		}
		out = append(out, reports[i]...)
	}
	return out, nil
}

// one runs the worker for share s: its checks, or when another worker
// found the server stopped answering or the run was interrupted, a list of
// them skipped with that reason.
func (w *workers) one(ctx context.Context, exe string, s framework.Shard) ([]types.Report, error) {
	return w.start(ctx, exe, s, w.notRun(ctx))
}

// start runs the worker for share s (with notRun set: lists its checks as
// skipped with that reason, touching no server); its output goes to a file
// shown only when the worker wrote no report (it crashed or could not
// start).
func (w *workers) start(ctx context.Context, exe string, s framework.Shard, notRun string) ([]types.Report, error) {
	dir := filepath.Join(w.dir, shareName(s))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	out, err := os.Create(filepath.Join(dir, "output.txt"))
	if err != nil {
		return nil, err
	}
	defer out.Close()
	cmd := exec.Command(exe, append(append([]string{}, w.args...), "--report-dir="+dir)...)
	cmd.Env = append(append([]string{}, w.env...), framework.ShardEnv+"="+s.String())
	if notRun != "" {
		cmd.Env = append(cmd.Env, framework.NotRunEnv+"="+notRun)
	}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	if !w.listOnly(cmd) {
		stop := context.AfterFunc(ctx, func() { cmd.Process.Signal(os.Interrupt) })
		defer stop()
	}
	_ = cmd.Wait() // its verdicts, not its exit status, say how it went
	b, err := os.ReadFile(filepath.Join(dir, "ginkgo.json"))
	if err != nil && ctx.Err() != nil && !w.listOnly(cmd) {
		// the signal came before the worker's own handler was set up:
		// list its checks as not run
		return w.one(ctx, exe, s)
	}
	if err != nil {
		tail, _ := os.ReadFile(out.Name())
		return nil, fmt.Errorf("worker %s wrote no report (%v); its output:\n%s", s, cmd.ProcessState, lastLines(string(tail), 20))
	}
	var rs []types.Report
	if err := json.Unmarshal(b, &rs); err != nil {
		return nil, fmt.Errorf("worker %s: reading its report: %w", s, err)
	}
	if !s.Plan {
		w.finished(s, out.Name(), rs)
	}
	return rs, nil
}

// listOnly reports whether cmd was a worker told not to run its checks.
func (w *workers) listOnly(cmd *exec.Cmd) bool {
	for _, kv := range cmd.Env {
		if strings.HasPrefix(kv, framework.NotRunEnv+"=") {
			return true
		}
	}
	return false
}

// notRun is why a share starting now must not run its checks: the server
// stopped answering in another worker, or the run was interrupted.
func (w *workers) notRun(ctx context.Context) string {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stopped != "" {
		return w.stopped
	}
	if ctx.Err() != nil {
		return "not run (interrupted)"
	}
	return ""
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// writeGinkgoReports writes the --ginkgo.*-report files the user asked for
// from the combined report (the workers were not given them).
func writeGinkgoReports(r types.Report) error {
	for name, gen := range map[string]func(types.Report, string) error{
		"ginkgo.junit-report":    reporters.GenerateJUnitReport,
		"ginkgo.json-report":     reporters.GenerateJSONReport,
		"ginkgo.teamcity-report": reporters.GenerateTeamcityReport,
	} {
		if path := flagValue(name); path != "" {
			if err := gen(r, path); err != nil {
				return fmt.Errorf("--%s: %w", name, err)
			}
		}
	}
	return nil
}
