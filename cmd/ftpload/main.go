// Command ftpload is the FTP load generator: it finds where a server's
// passive port pool runs out (exhaust), how many passive cycles per second
// it sustains (churn), its transfer throughput (retr, stor) and its latency
// under a command mix (mixed). See "ftpload --help".
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/ftpharness/ftpharness/loadgen"
	"github.com/ftpharness/ftpharness/servers"
	"github.com/ftpharness/ftpharness/servers/sink"
	"github.com/ftpharness/ftpharness/target"
)

// Exit codes.
const (
	exitOK          = 0
	exitThreshold   = 1
	exitUsage       = 2
	exitUnreachable = 3
	exitInterrupted = 130 // 128 + SIGINT, as a shell reports a command it interrupted
)

const usage = `ftpload: FTP passive-mode load generator

Usage:
  ftpload SCENARIO [--target ftp://user:pass@host:port] [flags]
  ftpload report FILE.json [MORE.json...] [--csv FILE] [--fail-on EXPR] [--html OUT.html]
  ftpload merge [-o OUT.json] [--html OUT.html] [--fail-on EXPR] SHARD.json...
  ftpload sink [--addr 127.0.0.1:2100] [--pasv-range lo-hi]   (serve the minimal FTP sink until SIGINT)

Scenarios:
  exhaust  ramp sessions that log in, send PASV (or EPSV) and hold the listener
           without connecting, until the server refuses or misbehaves; report the
           capacity, the failure mode (reply-4xx, reply-5xx, out-of-range,
           session-dropped, timeout, address-mismatch) with the raw reply, the
           time to exhaust, then release all and time the recovery.
           --sessions is the number of logins in flight while ramping (default 16),
           --count the most sessions tried (default: range size + 10, else 2000),
           --rate paces session starts.
  churn    PASV/EPSV -> data connect -> tiny RETR (or LIST with --list) -> 226,
           as fast as possible over --sessions sessions: cycles/s and phase latency.
  retr     --sessions sessions downloading a file of --size bytes: MB/s aggregate
           and per session.
  stor     the same, uploading.
  mixed    a weighted command mix (--mix) over long-lived sessions with --think time.

With no --target, ftpload starts a server itself on 127.0.0.1 (--server:
embedded = ftpserverlib v0.32.3 in-process (default), sink = a minimal
in-process FTP sink, goftp in-process, or a local daemon: vsftpd, proftpd,
pure-ftpd, pyftpdlib, twisted, inetutils) with --pasv-range or a free
20-port range.

FTPS: an ftpes:// target (explicit, AUTH TLS) or ftps:// (implicit, TLS
before the greeting) runs every scenario over TLS: the control handshake,
PBSZ 0 and PROT P after the login, and TLS on every data connection,
resuming the control session (--tls-resume=false: full handshakes). The
handshakes are timed as phases of their own (tls-handshake,
data-tls-handshake) and the report counts the data handshakes that
resumed. --tls-ca or --tls-insecure set the trust.

Load models: closed loop by default (--sessions N, each starting its next
operation when the last one ends); open loop with --rate R/s (operations start
on schedule; latency is also reported from the intended start, corrected for
coordinated omission). Every run is bounded by --duration (default 10s) and/or
--count.

Progress goes to stderr: on a terminal one live line; elsewhere (a CI log)
one plain line every 10 s, e.g.
  ftpload: 20.0s sessions 16 ops 81234 4061/s 0.0 MB/s errors 0
(exhaust: held and errors); none with --quiet.

Files: at the end ftpload removes the files this run uploaded (DELE each on
one fresh session, bounded by twice --timeout): stor's ftpload-stor-N.bin,
one per session (ftpload-stor-I-N.bin in shard I; mixed with stor too), and
the file RETR reads, ftpload-SIZE.bin, when this run uploaded it (absent or
of another size) - not one that was there already, nor --file, nor the one
shard 0 uploads for every shard of a sharded run. A failure is one line on
stderr and never changes the exit status. --keep-files keeps them.

Interrupts: the first SIGINT/SIGTERM stops starting operations and lets
those in flight finish; a second aborts them (and the cleanup). The reports
are written either way.

Sharding (one run over several generators, e.g. a Kubernetes Indexed Job):
--shard I/N makes this process shard I of N; or --shards N (env FTPH_SHARDS,
else JOB_COMPLETIONS) with the index from JOB_COMPLETION_INDEX, which
Kubernetes sets in each pod of an Indexed Job. --sessions, --count and
--rate are the whole run's: each shard takes its share (remainders to the
lowest indices, so the shares add up to the totals), a disjoint block of
the --source addresses, and the seed --seed+I. A sharded run needs --target;
its report records the shard, and its timeline starts on a whole wall-clock
second. {shard} in --json/--csv is replaced by the index. Then
  ftpload merge -o all.json shard-*.json
combines the shard reports into the run's: counters, errors and port
counts summed, latency histograms merged exactly (the percentiles are the
whole run's), timelines laid on wall-clock seconds. It refuses reports of
different schemas, scenarios, targets or shard counts and a shard index
given twice, and warns about missing shards. ftpload report reads the
merged report like any other.

Environment: every flag not given on the command line is read from
FTPH_LOAD_<FLAG> (upper case, - as _: FTPH_LOAD_TARGET, FTPH_LOAD_SESSIONS,
FTPH_LOAD_PASV_RANGE), --shards from FTPH_SHARDS; so a ConfigMap can carry
the settings of every shard.

Flags:
%s
Examples:
  ftpload exhaust                                   # embedded server, zero setup
  ftpload exhaust --target ftp://ftpuser:ftppass@127.0.0.1:2121 --pasv-range 30000-30009
  ftpload exhaust --server vsftpd --pasv-range 30000-30009 --json vsftpd.json
  ftpload churn --server sink --sessions 8 --duration 5s
  ftpload retr --target ftp://u:p@127.0.0.1:2121 --size 1GiB --count 1
  ftpload retr --target ftpes://u:p@127.0.0.1:2121 --tls-ca ca.pem --size 1GiB --count 1
  ftpload churn --target ftps://u:p@127.0.0.1:990 --tls-insecure --tls-resume=false
  ftpload churn --tls explicit                      # embedded server with FTPS, zero setup
  ftpload retr --sessions 16 --size 64MiB --duration 30s --source 127.0.0.2-127.0.0.9
  ftpload churn --rate 2000/s --sessions 64 --fail-on 'errors>0,p99.pasv>50ms'
  ftpload mixed --mix retr=4,list=2,cwd=1,pwd=1,noop=2 --think 50ms
  ftpload exhaust --json run.json --fail-on 'capacity<1000' && ftpload report run.json
  ftpload report --html compare.html before.json after.json   # one page, runs overlaid
  ftpload churn --target ftp://u:p@127.0.0.1:2121 --sessions 64 --count 40000 \
      --source 127.0.0.2-127.0.0.9 --shard 1/4 --json shard-{shard}.json  # one of 4
  ftpload merge -o all.json --html all.html shard-0.json shard-1.json shard-2.json shard-3.json

Exit status: 0 ok, 1 a --fail-on threshold was broken (named on stderr),
2 usage or configuration error (also: a report could not be written),
3 the target could not be reached or refused the login, 130 the run was
interrupted (SIGINT/SIGTERM; its reports are written). An interrupted run's
numbers cover part of it, so 130 comes before 3 (no session logged in) and
1 (a broken threshold, still named on stderr); a report that could not be
written keeps 2. A failed cleanup never changes the status.
`

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// notifySignals routes SIGINT and SIGTERM to c (tests replace it).
var notifySignals = func(c chan<- os.Signal) { signal.Notify(c, os.Interrupt, syscall.SIGTERM) }

type config struct {
	target, server, pasvRange, pasvAddr, rate, size, source, file, mix string
	jsonOut, csvOut, failOn, shard, tlsCA, tlsMode                     string
	epsv, strict, list, quiet, allowRemote, allowRemoteData, keepFiles bool
	tlsInsecure, tlsResume                                             bool
	sessions, count, shards                                            int
	seed                                                               uint64
	duration, timeout, think, recovery                                 time.Duration

	set     map[string]bool // flags given (command line or environment)
	command string          // the command line, for the report (password hidden)
}

func flags(cfg *config, name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.StringVar(&cfg.target, "target", "", "server `URL` ftp://user:pass@host:port (none: start --server locally)")
	fs.StringVar(&cfg.server, "server", "embedded", "server to start when there is no --target (`NAME`)")
	fs.StringVar(&cfg.pasvRange, "pasv-range", "", "the server's declared passive range `lo-hi` (out-of-range checks, exhaust capacity)")
	fs.StringVar(&cfg.pasvAddr, "pasv-address", "", "`IP` PASV replies should advertise (default: the control peer)")
	fs.BoolVar(&cfg.strict, "strict-address", false, "a PASV address other than the control peer's fails the cycle (address-mismatch) instead of being replaced by the control peer's; it is never dialled without --allow-remote-data")
	fs.BoolVar(&cfg.allowRemoteData, "allow-remote-data", false, "with --strict-address, dial the data address a server advertises even when it is not the control peer (a server can name any host: only for servers you trust)")
	fs.BoolVar(&cfg.epsv, "epsv", false, "use EPSV instead of PASV")
	fs.IntVar(&cfg.sessions, "sessions", 0, "concurrent sessions `N` (closed loop; open loop: pool size; exhaust: logins in flight)")
	fs.StringVar(&cfg.rate, "rate", "", "open loop: operations per second `R/s` (exhaust: sessions started per second)")
	fs.DurationVar(&cfg.duration, "duration", 0, "bound on the run `D` (default 10s; exhaust 60s)")
	fs.IntVar(&cfg.count, "count", 0, "bound on operations `N` (exhaust: most sessions tried)")
	fs.StringVar(&cfg.size, "size", "", "file size `S` for retr/stor/churn (e.g. 100, 64KiB, 1GiB; default churn 100, retr/stor 10MiB)")
	fs.StringVar(&cfg.source, "source", "", "local source addresses `a-b` or a,b,c; sessions spread over them, data bound to the session's")
	fs.StringVar(&cfg.file, "file", "", "existing server `FILE` to RETR (default: upload ftpload-SIZE.bin first)")
	fs.BoolVar(&cfg.list, "list", false, "churn: LIST instead of RETR")
	fs.StringVar(&cfg.mix, "mix", loadgen.DefaultMix.String(), "mixed: weighted `OPS` (retr list stor cwd pwd noop)")
	fs.DurationVar(&cfg.think, "think", 0, "mixed/closed loop: pause `D` between a session's operations")
	fs.DurationVar(&cfg.timeout, "timeout", loadgen.DefaultTimeout, "bound on each network step `D`")
	fs.DurationVar(&cfg.recovery, "recovery-timeout", loadgen.DefaultRecoveryTimeout, "exhaust: how long to wait for PASV to work again `D`")
	fs.StringVar(&cfg.jsonOut, "json", "", "write the JSON report to `FILE` (- for stdout)")
	fs.StringVar(&cfg.csvOut, "csv", "", "write the per-second timeline as CSV to `FILE`")
	fs.StringVar(&cfg.failOn, "fail-on", "", "exit 1 when a condition `EXPR` holds, e.g. 'errors>0,p99.pasv>50ms,throughput<500MB/s,capacity<1000'")
	fs.BoolVar(&cfg.quiet, "quiet", false, "no progress lines and no text summary")
	fs.BoolVar(&cfg.keepFiles, "keep-files", false, "leave the files this run uploaded on the server (default: DELE them at the end)")
	fs.StringVar(&cfg.shard, "shard", "", "run shard `I/N` of a sharded run (0-based): its share of --sessions, --count, --rate and --source, seed --seed+I")
	fs.IntVar(&cfg.shards, "shards", 0, "shard count `N`; the index comes from JOB_COMPLETION_INDEX (a Kubernetes Indexed Job); env FTPH_SHARDS")
	fs.Uint64Var(&cfg.seed, "seed", 0, "base random `SEED` (mixed's choices; shard I uses SEED+I; default: from the clock, 0 when sharded)")
	fs.StringVar(&cfg.tlsMode, "tls", "", "FTPS `MODE` of the server ftpload starts (no --target): explicit or implicit, with a test CA made at start (with --target the scheme says it: ftpes://, ftps://)")
	fs.StringVar(&cfg.tlsCA, "tls-ca", "", "FTPS: PEM `FILE` of the CA the server certificate must chain to (default: the system pool)")
	fs.BoolVar(&cfg.tlsInsecure, "tls-insecure", false, "FTPS: do not verify the server certificate (said in the report)")
	fs.BoolVar(&cfg.tlsResume, "tls-resume", true, "FTPS: data connections resume the control connection's TLS session (false: a full handshake each)")
	fs.BoolVar(&cfg.allowRemote, "allow-remote", false, "allow a non-loopback --target (e.g. a Service inside a cluster)")
	fs.SetOutput(io.Discard)
	return fs
}

// getenv reads the environment (tests replace it).
var getenv = os.Getenv

// envName is the environment variable that sets flag name when the
// command line does not: FTPH_LOAD_ and the name in upper case with _ for
// - (FTPH_LOAD_TARGET, FTPH_LOAD_PASV_RANGE), except FTPH_SHARDS.
func envName(flagName string) string {
	if flagName == "shards" {
		return loadgen.EnvShards
	}
	return "FTPH_LOAD_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// envVars lists every environment variable ftpload reads for a run.
func envVars() []string {
	var cfg config
	var names []string
	flags(&cfg, "ftpload").VisitAll(func(f *flag.Flag) { names = append(names, envName(f.Name)) })
	return append(names, loadgen.EnvShardIndex, loadgen.EnvCompletions)
}

// parseFlags parses args, then fills the flags the command line left
// unset from their environment variables (envName).
func parseFlags(fs *flag.FlagSet, cfg *config, args []string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg.set = map[string]bool{}
	fs.Visit(func(f *flag.Flag) { cfg.set[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if cfg.set[f.Name] || err != nil {
			return
		}
		k := envName(f.Name)
		v := strings.TrimSpace(getenv(k))
		if v == "" {
			return
		}
		if e := fs.Set(f.Name, v); e != nil {
			err = fmt.Errorf("%s=%q (for --%s): %v", k, v, f.Name, e)
			return
		}
		cfg.set[f.Name] = true
	})
	return err
}

func printUsage(w io.Writer) {
	var cfg config
	fs := flags(&cfg, "ftpload")
	var b strings.Builder
	fs.SetOutput(&b)
	fs.PrintDefaults()
	fmt.Fprintf(w, usage, b.String())
}

type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

func fail(code int, format string, args ...any) error {
	return &exitError{code, fmt.Sprintf(format, args...)}
}

func run(args []string, stdout, stderr io.Writer) int {
	err := dispatch(args, stdout, stderr)
	if err == nil {
		return exitOK
	}
	code, msg := exitUsage, err.Error()
	var ee *exitError
	if errors.As(err, &ee) {
		code = ee.code
	}
	if code == exitUsage {
		msg += " (see --help)"
	}
	fmt.Fprintln(stderr, "ftpload:", oneLine(msg))
	return code
}

// oneLine is an error message made fit for a terminal: one line, no
// password, no control sequence a server slipped into a reply.
func oneLine(msg string) string {
	return loadgen.TermSafe(loadgen.RedactURLs(msg))
}

func dispatch(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fail(exitUsage, "no scenario given")
	}
	switch args[0] {
	case "-h", "--help", "-help", "help":
		printUsage(stdout)
		return nil
	case "report":
		return report(args[1:], stdout)
	case "merge":
		return merge(args[1:], stdout, stderr)
	case "sink":
		return serveSink(args[1:], stderr)
	}
	scenario := args[0]
	known := false
	for _, s := range loadgen.Scenarios {
		known = known || s == scenario
	}
	if !known {
		return fail(exitUsage, "unknown scenario %q (known: %s, report, merge, sink)", scenario, strings.Join(loadgen.Scenarios, ", "))
	}
	cfg := config{command: loadgen.RedactURLs("ftpload " + strings.Join(args, " "))}
	fs := flags(&cfg, scenario)
	if err := parseFlags(fs, &cfg, args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printUsage(stdout)
			return nil
		}
		return fail(exitUsage, "%v", err)
	}
	if fs.NArg() > 0 {
		return fail(exitUsage, "unexpected argument %q", fs.Arg(0))
	}
	return attack(scenario, &cfg, stdout, stderr)
}

// parseTarget reads --target. Without a scheme it refuses rather than
// guess: "host:port" would log in anonymously, "user:pass@host" would not
// parse as the user meant.
func parseTarget(s string) (target.Config, error) {
	bad := func(why string) error {
		shown := loadgen.RedactURLs(s)
		if !strings.Contains(s, "://") { // user:pass@host: hidden as a URL would be
			shown = strings.TrimPrefix(loadgen.RedactURLs("ftp://"+s), "ftp://")
		}
		return fmt.Errorf("--target %s: %s; want ftp:// (ftpes://, ftps://) with the user, password, host and port", shown, why)
	}
	u, err := target.ParseURL(s)
	if err != nil {
		return target.Config{}, bad(err.Error())
	}
	t := target.Config{Addr: u.Addr, User: "anonymous", Password: "ftpload@", TLS: u.TLS}
	if u.HasUser {
		t.User = u.User
		if u.HasPassword {
			t.Password = u.Password
		}
	}
	return t, nil
}

func parseRate(s string) (float64, error) {
	s = strings.TrimSuffix(strings.TrimSpace(s), "/s")
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f <= 0 {
		return 0, fmt.Errorf("--rate %q: want a positive number per second, e.g. 500/s", s)
	}
	return f, nil
}

// plan is a run settled from its flags, before any network work.
type plan struct {
	opts            []loadgen.Option
	pr              target.Range
	thresholds      []loadgen.Threshold
	tgt             target.Config
	shard           loadgen.Shard
	jsonOut, csvOut string
}

func attack(scenario string, cfg *config, stdout, stderr io.Writer) error {
	p, err := settle(scenario, cfg)
	if err != nil {
		return err
	}
	if err := checkOutputs("", "--json", p.jsonOut, "--csv", p.csvOut); err != nil {
		return err
	}
	return execute(scenario, cfg, p, stdout, stderr)
}

// knownServer: a name --server can start.
func knownServer(name string) bool {
	if name == "embedded" || name == "sink" {
		return true
	}
	for _, n := range servers.Names() {
		if n == name {
			return true
		}
	}
	return false
}

// checkOutputs checks the output files given as flag, path pairs are
// writable before any work whose results they would receive.
func checkOutputs(prefix string, flagPaths ...string) error {
	for i := 0; i+1 < len(flagPaths); i += 2 {
		if err := checkWritable(flagPaths[i+1]); err != nil {
			return fail(exitUsage, "%s%s: %v (checked before the work, so that no results are lost)", prefix, flagPaths[i], err)
		}
	}
	return nil
}

// checkWritable makes sure a report can be written to path before a run
// whose results would otherwise be lost: it opens the file for writing
// (without truncating an existing one) and removes it again when it did
// not exist.
func checkWritable(path string) error {
	if path == "" || path == "-" {
		return nil
	}
	_, statErr := os.Stat(path)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	f.Close()
	if os.IsNotExist(statErr) {
		return os.Remove(path)
	}
	return nil
}

// settle checks every option and builds the attacker's options, without
// touching the network.
func settle(scenario string, cfg *config) (*plan, error) {
	var opts []loadgen.Option
	var pr target.Range
	if cfg.pasvRange != "" {
		var err error
		if pr, err = target.ParseRange(cfg.pasvRange); err != nil {
			return nil, fail(exitUsage, "--pasv-range: %v", err)
		}
	}
	if cfg.rate != "" {
		r, err := parseRate(cfg.rate)
		if err != nil {
			return nil, fail(exitUsage, "%v", err)
		}
		opts = append(opts, loadgen.WithRate(r))
	}
	if cfg.sessions < 0 || cfg.count < 0 || cfg.duration < 0 {
		return nil, fail(exitUsage, "--sessions, --count and --duration must not be negative")
	}
	if cfg.set["sessions"] && cfg.sessions == 0 {
		return nil, fail(exitUsage, "--sessions 0: want at least one session")
	}
	if cfg.allowRemoteData && !cfg.strict {
		return nil, fail(exitUsage, "--allow-remote-data only matters with --strict-address (without it data always goes to the control peer)")
	}
	if cfg.sessions > 0 {
		opts = append(opts, loadgen.WithSessions(cfg.sessions))
	} else if scenario == loadgen.Exhaust {
		opts = append(opts, loadgen.WithSessions(loadgen.DefaultRampConcurrency))
	}
	dur := cfg.duration
	if dur == 0 && scenario == loadgen.Exhaust {
		dur = 60 * time.Second
	}
	opts = append(opts, loadgen.WithDuration(dur), loadgen.WithCount(cfg.count), loadgen.WithTimeout(cfg.timeout),
		loadgen.WithEPSV(cfg.epsv), loadgen.WithStrictAddress(cfg.strict), loadgen.WithRemoteData(cfg.allowRemoteData), loadgen.WithList(cfg.list),
		loadgen.WithThink(cfg.think), loadgen.WithRecoveryTimeout(cfg.recovery), loadgen.WithFile(cfg.file))
	if cfg.size != "" {
		n, err := loadgen.ParseSize(cfg.size)
		if err != nil {
			return nil, fail(exitUsage, "--size: %v", err)
		}
		opts = append(opts, loadgen.WithSize(n))
	}
	if cfg.source != "" {
		ips, err := loadgen.ParseSources(cfg.source)
		if err != nil {
			return nil, fail(exitUsage, "--source: %v", err)
		}
		for _, ip := range ips {
			if !ip.IsLoopback() {
				return nil, fail(exitUsage, "--source %s: only loopback source addresses are allowed", ip)
			}
		}
		opts = append(opts, loadgen.WithSources(ips))
	}
	if cfg.pasvAddr != "" {
		ip := net.ParseIP(cfg.pasvAddr)
		if ip == nil {
			return nil, fail(exitUsage, "--pasv-address %q: not an IP address", cfg.pasvAddr)
		}
		opts = append(opts, loadgen.WithPasvAddress(ip))
	}
	if scenario == loadgen.Mixed {
		m, err := loadgen.ParseMix(cfg.mix)
		if err != nil {
			return nil, fail(exitUsage, "--mix: %v", err)
		}
		opts = append(opts, loadgen.WithMix(m))
	}
	thresholds, err := loadgen.ParseThresholds(cfg.failOn)
	if err != nil {
		return nil, fail(exitUsage, "%v", err)
	}
	var tgt target.Config
	if cfg.target == "" && !knownServer(cfg.server) {
		return nil, fail(exitUsage, "--server %q: unknown (known: embedded, sink, %s)", cfg.server, strings.Join(servers.Names(), ", "))
	}
	if cfg.target != "" {
		if tgt, err = parseTarget(cfg.target); err != nil {
			return nil, fail(exitUsage, "%v", err)
		}
		host, _, _ := net.SplitHostPort(tgt.Addr)
		ip := net.ParseIP(host)
		if !cfg.allowRemote && (ip == nil || !ip.IsLoopback()) {
			return nil, fail(exitUsage, "--target %s: only loopback targets are allowed without --allow-remote", tgt.Addr)
		}
		if err := sameFamily(cfg.source, ip); err != nil {
			return nil, fail(exitUsage, "%v", err)
		}
	}
	if err := settleTLS(cfg, &tgt); err != nil {
		return nil, fail(exitUsage, "%v", err)
	}
	opts = append(opts, loadgen.WithTLSResume(cfg.tlsResume))
	shard, err := resolveShard(cfg)
	if err != nil {
		return nil, fail(exitUsage, "%v", err)
	}
	if shard.Set() {
		if cfg.target == "" {
			return nil, fail(exitUsage, "--shard %s: a sharded run needs --target (every shard must load the same server)", shard)
		}
		opts = append(opts, loadgen.WithShard(shard), loadgen.WithSeed(cfg.seed))
	} else if cfg.set["seed"] {
		opts = append(opts, loadgen.WithSeed(cfg.seed))
	}
	jsonOut := shardPath(cfg.jsonOut, shard)
	csvOut := shardPath(cfg.csvOut, shard)
	if shard.Set() {
		// the shares must be possible before any server is touched
		if err := loadgen.NewAttacker(target.Config{}, opts...).Err(); err != nil {
			return nil, fail(exitUsage, "%v", err)
		}
	}

	return &plan{opts: opts, pr: pr, thresholds: thresholds, tgt: tgt, shard: shard, jsonOut: jsonOut, csvOut: csvOut}, nil
}

// execute runs a settled plan: starts the server when there is no
// --target, runs the scenario, writes the reports, removes the files the
// run uploaded, checks thresholds.
func execute(scenario string, cfg *config, p *plan, stdout, stderr io.Writer) error {
	opts, pr, tgt := p.opts, p.pr, p.tgt
	var err error
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	serverName := ""
	if cfg.target == "" {
		var cleanup func()
		tgt, pr, cleanup, err = startServer(cfg.server, pr, cfg.tlsMode, stderr)
		if err != nil {
			return fail(exitUnreachable, "starting %s: %v", cfg.server, err)
		}
		defer cleanup()
		serverName = serverLabel(cfg.server)
	}
	opts = append(opts, loadgen.WithPasvRange(pr))
	a := loadgen.NewAttacker(tgt, opts...)

	// SIGINT/SIGTERM: stop starting work and drain; a second one aborts
	// (the run, or the cleanup after it).
	sig := watchSignals(a, stop, stderr)
	defer sig.stop()

	if err := a.Prepare(ctx, scenario); err != nil {
		cleanup(a, cfg, sig, stderr) // a RETR file it began to upload
		if sig.interrupted.Load() {
			return fail(exitInterrupted, "interrupted while preparing the run: %v", err)
		}
		if errors.Is(err, loadgen.ErrUnreachable) || errors.Is(err, loadgen.ErrLoginRefused) {
			return fail(exitUnreachable, "%v", err)
		}
		return fail(exitUsage, "%v", err)
	}

	rep, err := runAttack(ctx, a, scenario, cfg, p.shard, stderr)
	if err != nil {
		return err
	}
	rep.Settings.Server = serverName
	rep.Settings.Command = cfg.command
	rep.Interrupted = sig.interrupted.Load()

	if err := writeReports(rep, cfg, p, stdout); err != nil {
		return err
	}
	cleanup(a, cfg, sig, stderr)
	return verdict(rep, p.thresholds)
}

// cleanup removes the files the run uploaded unless --keep-files; a
// failure is one line on stderr, never the run's exit status.
func cleanup(a *loadgen.Attacker, cfg *config, sig *signalWatch, stderr io.Writer) {
	if cfg.keepFiles {
		return
	}
	if res := a.Cleanup(sig.cleanupCtx); res.Err != "" {
		fmt.Fprintln(stderr, "ftpload: cleanup:", oneLine(res.String()), "(the run's results stand)")
	}
}

// signalWatch turns SIGINT/SIGTERM into a drain (the first) and an abort
// (any later one: the run's operations in flight and the cleanup).
type signalWatch struct {
	interrupted atomic.Bool
	cleanupCtx  context.Context
	stop        func()
}

func watchSignals(a *loadgen.Attacker, drain func(), stderr io.Writer) *signalWatch {
	w := &signalWatch{}
	var abortCleanup func()
	w.cleanupCtx, abortCleanup = context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 2)
	notifySignals(sigs)
	w.stop = func() { signal.Stop(sigs); abortCleanup() }
	go func() {
		n := 0
		for range sigs {
			n++
			w.interrupted.Store(true)
			if n == 1 {
				fmt.Fprintln(stderr, "\nftpload: interrupted: draining (again to abort)")
				drain()
			} else {
				a.Abort()
				abortCleanup()
			}
		}
	}()
	return w
}

// runAttack runs the scenario, showing progress on stderr, and returns
// its report (without the CLI's own settings).
func runAttack(ctx context.Context, a *loadgen.Attacker, scenario string, cfg *config, shard loadgen.Shard, stderr io.Writer) (*loadgen.Report, error) {
	begin := time.Now()
	results, err := a.Attack(ctx, scenario)
	if err != nil {
		return nil, fail(exitUsage, "%v", err)
	}
	m := loadgen.NewMetrics(begin)
	if shard.Set() {
		m.AlignTimeline() // shards' timelines share wall-clock seconds
	}
	done := make(chan struct{})
	var shown chan struct{}
	if !cfg.quiet {
		shown = make(chan struct{})
		go func() {
			defer close(shown)
			showProgress(a, scenario, begin, stderr, isTTY(stderr), done)
		}()
	}
	for r := range results {
		m.Add(r)
	}
	m.Close()
	close(done)
	if shown != nil {
		<-shown // the progress line ends before anything else is written
	}
	return m.Report(a.Settings(scenario)), nil
}

// writeReports writes the JSON and CSV reports and the text summary.
func writeReports(rep *loadgen.Report, cfg *config, p *plan, stdout io.Writer) error {
	if p.jsonOut != "" {
		if err := writeTo(p.jsonOut, stdout, loadgen.NewJSONReporter(rep)); err != nil {
			return fail(exitUsage, "--json: %v", err)
		}
	}
	if p.csvOut != "" {
		if err := writeTo(p.csvOut, stdout, loadgen.NewCSVReporter(rep)); err != nil {
			return fail(exitUsage, "--csv: %v", err)
		}
	}
	if !cfg.quiet && cfg.jsonOut != "-" {
		loadgen.NewTextReporter(rep)(stdout)
	}
	return nil
}

// verdict is the exit of a run whose reports are written: 130 when it was
// interrupted (its numbers cover only part of the run, so neither a
// threshold nor "no session could log in" is its verdict; a broken
// threshold is still named), else 3 when no session could log in, else 1
// when a threshold is broken.
func verdict(rep *loadgen.Report, thresholds []loadgen.Threshold) error {
	if rep.Interrupted {
		msg := "interrupted: the report covers the run up to the interrupt"
		var ee *exitError
		if err := checkThresholds(thresholds, rep); errors.As(err, &ee) && ee.code == exitThreshold {
			msg += "; " + ee.msg
		}
		return fail(exitInterrupted, "%s", msg)
	}
	if reachedNothing(rep) {
		return fail(exitUnreachable, "no session could log in: %s", firstError(rep))
	}
	return checkThresholds(thresholds, rep)
}

// resolveShard: --shard I/N, else the index from JOB_COMPLETION_INDEX
// and the count from --shards (or FTPH_SHARDS, JOB_COMPLETIONS).
func resolveShard(cfg *config) (loadgen.Shard, error) {
	if cfg.shard != "" {
		s, err := loadgen.ParseShard(cfg.shard)
		if err != nil {
			return s, fmt.Errorf("--shard: %v", err)
		}
		if cfg.shards > 0 && cfg.shards != s.Count {
			return s, fmt.Errorf("--shard %s but --shards %d", s, cfg.shards)
		}
		return s, nil
	}
	if cfg.shards < 0 {
		return loadgen.Shard{}, fmt.Errorf("--shards %d: want a positive count", cfg.shards)
	}
	return loadgen.ShardFromEnv(getenv, cfg.shards)
}

// shardPath replaces {shard} in an output path by the shard's index
// ("unsharded" when the run is not sharded), so that one manifest or
// script names every shard's file.
func shardPath(path string, s loadgen.Shard) string {
	if !strings.Contains(path, "{shard}") {
		return path
	}
	v := "unsharded"
	if s.Set() {
		v = strconv.Itoa(s.Index)
	}
	return strings.ReplaceAll(path, "{shard}", v)
}

// reachedNothing: every login failed on the network (not on a refusal
// the scenario measures).
func reachedNothing(rep *loadgen.Report) bool {
	if rep.Settings.Scenario == loadgen.Exhaust || rep.Totals.OK > 0 || rep.Totals.Count == 0 {
		return false
	}
	for _, e := range rep.Errors {
		if e.Class != loadgen.ClassRefused && e.Class != loadgen.ClassTimeout {
			return false
		}
	}
	return true
}

func firstError(rep *loadgen.Report) string {
	for _, e := range rep.Errors {
		return e.FirstError
	}
	return ""
}

func checkThresholds(ts []loadgen.Threshold, rep *loadgen.Report) error {
	var broken []string
	for _, t := range ts {
		b, actual, err := t.Check(rep)
		if err != nil {
			return fail(exitUsage, "--fail-on %q: %v", t.Expr, err)
		}
		if b {
			broken = append(broken, fmt.Sprintf("%s (actual %s = %.6g)", t.Expr, t.Metric, actual))
		}
	}
	if len(broken) > 0 {
		return fail(exitThreshold, "threshold broken: %s", strings.Join(broken, "; "))
	}
	return nil
}

func writeTo(path string, stdout io.Writer, r loadgen.Reporter) error {
	if path == "-" {
		return r(stdout)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := r(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// startServer starts a local server for a run without --target.
func startServer(name string, pr target.Range, tlsMode string, stderr io.Writer) (target.Config, target.Range, func(), error) {
	if name == "sink" {
		opts := sink.Options{PasvMin: pr.Lo, PasvMax: pr.Hi}
		s, err := sink.Start(opts)
		if err != nil {
			return target.Config{}, pr, nil, err
		}
		return target.Config{Addr: s.Addr(), User: "ftpload", Password: "ftpload"}, pr, func() { s.Close() }, nil
	}
	spec := servers.Spec{PasvMin: pr.Lo, PasvMax: pr.Hi, TLS: tlsMode}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	run, err := servers.Start(ctx, name, spec)
	if err != nil {
		return target.Config{}, pr, nil, err
	}
	t := run.Target()
	if got, err := target.ParseRange(t.PasvRange); err == nil {
		pr = got
	}
	fmt.Fprintf(stderr, "ftpload: started %s on %s, passive range %s\n", serverLabel(run.Name()), t.Addr, pr)
	return target.Config{Addr: t.Addr, User: t.User, Password: t.Password, TLS: t.TLS, TLSCA: t.TLSCA}, pr, func() { run.Stop() }, nil
}

func isTTY(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// progressEvery is the interval of the plain progress lines written
// when stderr is not a terminal (a CI log); tests shorten it.
var progressEvery = 10 * time.Second

// showProgress writes the run's live counters to w until done: on a
// terminal one line rewritten in place 4 times a second, elsewhere one
// plain line (no carriage return, no escape sequence) every progressEvery.
func showProgress(a *loadgen.Attacker, scenario string, begin time.Time, w io.Writer, tty bool, done <-chan struct{}) {
	every := progressEvery
	if tty {
		every = 250 * time.Millisecond
	}
	t := time.NewTicker(every)
	defer t.Stop()
	var lastOps, lastBytes int64
	last := begin
	line := func() {
		s := a.Stats()
		now := time.Now()
		dt := now.Sub(last).Seconds()
		if dt <= 0 {
			dt = 1
		}
		rate := float64(s.Ops-lastOps) / dt
		mbs := float64(s.Bytes-lastBytes) / dt / 1e6
		lastOps, lastBytes, last = s.Ops, s.Bytes, now
		el := now.Sub(begin).Seconds()
		switch {
		case tty && scenario == loadgen.Exhaust:
			fmt.Fprintf(w, "\r%6.1fs  held %d  errors %d\x1b[K", el, s.Held, s.Errors)
		case tty:
			fmt.Fprintf(w, "\r%6.1fs  sessions %d  ops %d  %.0f/s  %.1f MB/s  errors %d\x1b[K", el, s.Active, s.Ops, rate, mbs, s.Errors)
		case scenario == loadgen.Exhaust:
			fmt.Fprintf(w, "ftpload: %.1fs held %d errors %d\n", el, s.Held, s.Errors)
		default:
			fmt.Fprintf(w, "ftpload: %.1fs sessions %d ops %d %.0f/s %.1f MB/s errors %d\n", el, s.Active, s.Ops, rate, mbs, s.Errors)
		}
	}
	for {
		select {
		case <-t.C:
			line()
		case <-done:
			if tty { // the last state, then end the line
				line()
				fmt.Fprintln(w)
			}
			return
		}
	}
}

// embeddedVersion is the version of ftpserverlib (go.mod) that serves
// as the embedded server.
const embeddedVersion = "v0.32.3"

// serverLabel names the server --server started, for the report:
// ftpserverlib with its version.
func serverLabel(name string) string {
	if name == "embedded" || name == "ftpserverlib" {
		return "ftpserverlib " + embeddedVersion
	}
	return name
}

// serveSink runs the minimal FTP sink in this process until SIGINT, so a
// benchmark can put the server in another process than the generator.
func serveSink(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("sink", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	addr := fs.String("addr", "127.0.0.1:2100", "listen address")
	pasv := fs.String("pasv-range", "", "passive range lo-hi (default: kernel ports)")
	if err := fs.Parse(args); err != nil {
		return fail(exitUsage, "sink: %v", err)
	}
	host, port, err := net.SplitHostPort(*addr)
	n, perr := strconv.Atoi(port)
	if ip := net.ParseIP(host); err != nil || perr != nil || n < 0 || n > 65535 || ip == nil || !ip.IsLoopback() {
		return fail(exitUsage, "sink: --addr %q: want a loopback host:port", *addr)
	}
	var pr target.Range
	if *pasv != "" {
		if pr, err = target.ParseRange(*pasv); err != nil {
			return fail(exitUsage, "sink: %v", err)
		}
	}
	s, err := sink.Start(sink.Options{Addr: *addr, PasvMin: pr.Lo, PasvMax: pr.Hi})
	if err != nil {
		return fail(exitUnreachable, "sink: %v", err)
	}
	fmt.Fprintf(stderr, "ftpload: sink listening on %s, passive range %s\n", s.Addr(), pr)
	sigs := make(chan os.Signal, 1)
	notifySignals(sigs)
	<-sigs
	return s.Close()
}

// sameFamily refuses --source addresses of the other IP family than the
// target's (a ::1 source cannot reach 127.0.0.1, nor 127.0.0.2 reach ::1).
func sameFamily(sources string, target net.IP) error {
	if sources == "" || target == nil {
		return nil
	}
	ips, err := loadgen.ParseSources(sources)
	if err != nil {
		return nil // reported with the --source checks
	}
	for _, ip := range ips {
		if (ip.To4() == nil) != (target.To4() == nil) {
			return fmt.Errorf("--source %s and --target %s are of different IP families (::1 is the only IPv6 loopback source)", ip, target)
		}
	}
	return nil
}
