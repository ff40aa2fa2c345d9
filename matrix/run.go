// Package matrix runs the conformance suites against every local real
// server and compares the verdicts with the per-server expectations in
// fixtures/expectations. It lives beside suites/ and servers/ because it
// needs both: it starts a server, runs the ftpconform binary against it in
// a child process (so each run gets a fresh Ginkgo), and reads back the
// verdicts.
package matrix

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/ftpharness/ftpharness/servers"
	"github.com/ftpharness/ftpharness/suites/report"
	"github.com/ftpharness/ftpharness/target"
)

// Options for Run.
type Options struct {
	// Binary is the ftpconform executable to run per server.
	Binary string
	// Servers to test (servers.Names() when empty).
	Servers []string
	// Dir receives one subdirectory per server with its profile, the
	// suite's output and reports.
	Dir string
	// Parallel is how many servers are tested at once (default 1).
	Parallel int
	// Args are extra arguments for ftpconform (e.g. a label filter).
	Args []string
	// PerServer bounds one server's run (default 5 minutes).
	PerServer time.Duration
	// Progress, if set, is told when each server starts and ends.
	Progress func(server, event string)
	// RangeSize overrides the passive range size per server (default
	// RangeSizes).
	RangeSize map[string]int
	// TLS is the FTPS mode the servers start with (servers.Spec.TLS:
	// "explicit", "implicit"); "" runs them in cleartext.
	TLS string
	// TLSRequired starts the servers with TLS required (servers.Spec
	// TLSRequired: cleartext logins and data refused) and declares it to
	// the suites (feature tls-required), so TLS-008 is judged.
	TLSRequired bool
	// Listen is the address the servers listen on (servers.Spec
	// ListenAddress; "" = 127.0.0.1, "::1" for the IPv6 column).
	Listen string
}

// RangeSizes are the passive range sizes the matrix gives servers that need
// more than servers.DefaultRangeSize: pure-ftpd admits only range/2
// clients, and sessions it keeps in CLOSE-WAIT after aborts hold slots;
// goftp keeps every passive listener nobody connected to for a minute, so
// a 20-port range runs dry part-way through the suite and later checks
// would measure that leak (RANGE-008 reports it) instead of their rule.
var RangeSizes = map[string]int{"pure-ftpd": 40, "goftp": 400}

// Seed fixes Ginkgo's spec order so that servers whose state leaks from one
// spec to the next (goftp never frees unconnected passive ports) give the
// same verdicts on every run.
const Seed = "1"

// Matrix is the verdicts of every server.
type Matrix struct {
	Servers []string              `json:"servers"`
	Runs    map[string]report.Run `json:"runs"`
	Errors  map[string]string     `json:"errors,omitempty"`
}

// Run tests every server and returns the matrix. A server that cannot be
// started or whose run did not produce verdicts is listed in Errors.
func Run(ctx context.Context, o Options) Matrix {
	if len(o.Servers) == 0 {
		o.Servers = servers.Names()
	}
	if o.Parallel < 1 {
		o.Parallel = 1
	}
	if o.PerServer == 0 {
		o.PerServer = 5 * time.Minute
	}
	m := Matrix{Servers: append([]string(nil), o.Servers...), Runs: map[string]report.Run{}, Errors: map[string]string{}}
	var mu sync.Mutex
	sem := make(chan struct{}, o.Parallel)
	var wg sync.WaitGroup
	for _, name := range o.Servers {
		wg.Add(1)
		go func(name string) {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			if o.Progress != nil {
				o.Progress(name, "start")
			}
			run, err := RunServer(ctx, o, name)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				m.Errors[name] = err.Error()
			} else {
				m.Runs[name] = run
			}
			if o.Progress != nil {
				ev := "done"
				if err != nil {
					ev = "error: " + err.Error()
				}
				o.Progress(name, ev)
			}
		}(name)
	}
	wg.Wait()
	sort.Strings(m.Servers)
	return m
}

// RunServer starts one server, runs the suites against it and returns the
// verdicts.
func RunServer(ctx context.Context, o Options, name string) (report.Run, error) {
	ctx, cancel, dir, err := prepare(ctx, o, name)
	defer cancel()
	if err != nil {
		return report.Run{}, err
	}
	root, err := os.MkdirTemp("", "ftpharness-matrix-"+name+"-")
	if err != nil {
		return report.Run{}, err
	}
	defer os.RemoveAll(root)
	spec := servers.Spec{Root: filepath.Join(root, "root"), StateDir: filepath.Join(root, "state"), ListenAddress: o.Listen, TLS: o.TLS, TLSRequired: o.TLSRequired}
	sizes := o.RangeSize
	if sizes == nil {
		sizes = RangeSizes
	}
	if n, ok := sizes[name]; ok {
		spec.PasvMax = n // PasvMax alone is a size hint
	}
	srv, err := servers.Start(ctx, name, spec)
	if err != nil {
		return report.Run{}, fmt.Errorf("start %s: %w", name, err)
	}
	defer srv.Stop()
	// with TLSRequired the server's target declares tls-required, and its
	// profile carries it
	return runTarget(ctx, o, name, dir, srv.Target())
}

// RunTarget runs the suites against a server that is already running (a
// container, a remote host) and returns the verdicts; o.Dir/name receives
// the profile, output and reports as for RunServer.
func RunTarget(ctx context.Context, o Options, name string, tg target.Config) (report.Run, error) {
	ctx, cancel, dir, err := prepare(ctx, o, name)
	defer cancel()
	if err != nil {
		return report.Run{}, err
	}
	return runTarget(ctx, o, name, dir, tg)
}

// prepare bounds one server's run by o.PerServer (default 5 minutes) and
// makes its directory o.Dir/name.
func prepare(ctx context.Context, o Options, name string) (context.Context, context.CancelFunc, string, error) {
	if o.PerServer == 0 {
		o.PerServer = 5 * time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, o.PerServer)
	dir := filepath.Join(o.Dir, name)
	return ctx, cancel, dir, os.MkdirAll(dir, 0o755)
}

func runTarget(ctx context.Context, o Options, name, dir string, tg target.Config) (report.Run, error) {
	profile := filepath.Join(dir, "profile.yaml")
	if err := tg.WriteProfile(profile); err != nil {
		return report.Run{}, err
	}
	out, err := os.Create(filepath.Join(dir, "output.txt"))
	if err != nil {
		return report.Run{}, err
	}
	defer out.Close()
	args := append([]string{"--ftp.profile=" + profile, "--report-dir=" + dir, "--ginkgo.no-color", "--ginkgo.seed=" + Seed}, o.Args...)
	cmd := exec.CommandContext(ctx, o.Binary, args...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.WaitDelay = 10 * time.Second
	runErr := cmd.Run()
	f, err := os.Open(filepath.Join(dir, "verdicts.json"))
	if err != nil {
		return report.Run{}, fmt.Errorf("%s: the suite produced no verdicts (%v; exit: %v); see %s", name, err, runErr, out.Name())
	}
	defer f.Close()
	run, err := report.ReadJSON(f)
	if err != nil {
		return run, err
	}
	run.Server = name
	if ee, ok := runErr.(*exec.ExitError); ok && ee.ExitCode() > 1 {
		return run, fmt.Errorf("%s: ftpconform exited %d; see %s", name, ee.ExitCode(), out.Name())
	}
	return run, nil
}
