// Command ftpserve starts one real FTP server on loopback and keeps it
// running until interrupted, printing where to connect. It is also the
// entrypoint of the server container images (--from-env, alias
// --container NAME) and their HEALTHCHECK (ftpserve health).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/ftpharness/ftpharness/target"

	"github.com/ftpharness/ftpharness/servers"
)

func usage() {
	out := flag.CommandLine.Output()
	fmt.Fprintf(out, `Usage: ftpserve NAME [flags]
       ftpserve NAME --from-env     (container entrypoint; = ftpserve --container NAME)
       ftpserve health [--addr HOST:PORT] [--timeout 2s]

Start one FTP server on 127.0.0.1 (::1 with --listen ::1) with a known passive port range, print its
target (address, credentials, passive range), and keep it running until
SIGINT or SIGTERM, then stop it (and its per-session processes).

Servers: %s
  ("embedded" is an alias of ftpserverlib.)
  ftpserverlib and goftp run in-process and need nothing installed; the others
  are Debian daemons: install them once with `+"`sudo scripts/install-servers`"+`
  (or `+"`make servers`"+`). Extracted packages are looked up in
  $FTPH_SERVERS_CACHE (default /var/cache/ftpharness/servers) and /usr/sbin.

FTPS (--tls): each server's own TLS support, with a test CA made at start
(its file is printed as tls-ca:):
%s
  --tls-required makes the server refuse cleartext logins and transfers; without
  it TLS is offered and cleartext still accepted.

Flags:
`, strings.Join(servers.Names(), ", "), tlsHelp())
	flag.PrintDefaults()
	fmt.Fprintf(out, `
Environment:
  FTPH_DEBUG=1        verbose protocol logs where the server supports it
  FTPH_KEEP_STATE=1   keep the generated state dir (config, logs) after stop
`)
	fmt.Fprint(out, containerHelp)
	fmt.Fprintf(out, `
Examples:
  ftpserve vsftpd --port 2121 --pasv-range 30000-30019
  ftpserve pyftpdlib --listen ::1        # prints ftp://ftpuser:ftppass@[::1]:PORT/
  ftpserve ftpserverlib --profile /tmp/embedded.yaml
  ftpserve ftpserverlib --tls --profile /tmp/ftps.yaml   # then ftpconform --ftp.profile=/tmp/ftps.yaml
  ftpserve vsftpd --tls=implicit --tls-required
  curl ftp://ftpuser:ftppass@127.0.0.1:2121/
`)
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "health" {
		os.Exit(health(os.Args[2:]))
	}
	flag.Usage = usage
	var (
		port     = flag.Int("port", 0, "control port (0 = pick a free one in 20000-29999)")
		listen   = flag.String("listen", "", "listen `address` (default 127.0.0.1; ::1 = IPv6 loopback, every server can; 0.0.0.0 = every interface)")
		fromEnv  = flag.Bool("from-env", false, "container mode: settings from FTPH_* variables, listen on 0.0.0.0, logs to stdout")
		contName = flag.String("container", "", "container mode for server `NAME` (= NAME --from-env)")
		pasv     = flag.String("pasv-range", "", "passive port range `lo-hi` (default: a free block of 20 ports in 30000-59999)")
		pasvAddr = flag.String("pasv-address", "", "address advertised in 227 replies (default 127.0.0.1; \""+servers.NoMasquerade+"\" = no masquerade setting)")
		user     = flag.String("user", "", "login user (default "+servers.DefaultUser+")")
		pass     = flag.String("password", "", "login password (default "+servers.DefaultPassword+")")
		root     = flag.String("root", "", "directory to serve (default: a fresh directory in the state dir)")
		state    = flag.String("state-dir", "", "directory for config, pid and logs (default: a fresh temp dir)")
		anon     = flag.Bool("anonymous", true, "allow read-only anonymous login where the server can")
		profile  = flag.String("profile", "", "also write the target as a YAML profile to this `file`")
		tlsMode  = &tlsFlag{mode: "off"}
		tlsReq   = flag.Bool("tls-required", false, "with --tls: refuse cleartext logins and data connections (the server's own setting)")
	)
	flag.Var(tlsMode, "tls", "FTPS: --tls (= explicit, AUTH TLS) or --tls=implicit (TLS before the greeting); a test CA is made at start and printed")
	// Accept NAME before or after the flags.
	args := os.Args[1:]
	var name string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, args = args[0], args[1:]
	}
	if err := flag.CommandLine.Parse(args); err != nil {
		os.Exit(2)
	}
	if name == "" && flag.NArg() > 0 {
		name = flag.Arg(0)
	} else if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "ftpserve: unexpected arguments: %v\n", flag.Args())
		os.Exit(2)
	}
	if *contName != "" {
		if name != "" && name != *contName {
			fmt.Fprintf(os.Stderr, "ftpserve: server %q and --container %q differ\n", name, *contName)
			os.Exit(2)
		}
		name, *fromEnv = *contName, true
	}
	if name == "" {
		usage()
		os.Exit(2)
	}
	if *fromEnv {
		set := map[string]bool{}
		flag.Visit(func(f *flag.Flag) { set[f.Name] = true })
		if err := applyEnv(set, port, listen, pasv, pasvAddr, user, pass, root, anon); err != nil {
			fmt.Fprintf(os.Stderr, "ftpserve: %v\n", err)
			os.Exit(2)
		}
		if err := applyTLSEnv(set, tlsMode, tlsReq); err != nil {
			fmt.Fprintf(os.Stderr, "ftpserve: %v\n", err)
			os.Exit(2)
		}
	}
	spec := servers.Spec{
		Port: *port, ListenAddress: *listen, PasvAddress: *pasvAddr, User: *user, Password: *pass,
		Root: *root, StateDir: *state, Anonymous: *anon, TLS: tlsMode.mode, TLSRequired: *tlsReq,
	}
	if *pasv != "" {
		a, b, err := parseRange(*pasv)
		if err != nil {
			fmt.Fprintf(os.Stderr, "ftpserve: bad --pasv-range %q (want lo-hi, e.g. 30000-30019)\n", *pasv)
			os.Exit(2)
		}
		spec.PasvMin, spec.PasvMax = a, b
	}

	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	if *fromEnv {
		defer syslogToStdout()()
	}
	servers.WaitNotice = func(why string) { fmt.Fprintf(os.Stderr, "ftpserve: %s %s\n", name, why) }
	start := time.Now()
	srv, err := servers.Start(ctx, name, spec)
	if err != nil {
		fmt.Fprintf(os.Stderr, "ftpserve: %v\n", err)
		os.Exit(1)
	}
	t := srv.Target()
	printTarget(t, spec, srv, time.Since(start))
	if *profile != "" {
		if err := t.WriteProfile(*profile); err != nil {
			fmt.Fprintf(os.Stderr, "ftpserve: writing profile: %v\n", err)
			_ = srv.Stop()
			os.Exit(1)
		}
		fmt.Printf("profile:      %s\n", *profile)
	}
	fmt.Println("running; press Ctrl-C to stop")
	// on success main returns, so its deferred cleanups run (as before)
	if code := serve(ctx, srv, name, *fromEnv); code != 0 {
		os.Exit(code)
	}
}

// printTarget prints what a client needs to reach the started server.
func printTarget(t target.Config, spec servers.Spec, srv servers.Running, took time.Duration) {
	fmt.Printf("server:       %s\n", t.Server)
	fmt.Printf("addr:         %s\n", t.Addr)
	fmt.Printf("user:         %s\n", t.User)
	fmt.Printf("password:     %s\n", t.Password)
	if spec.ListenAddress != "" {
		fmt.Printf("listen:       %s\n", spec.ListenAddress)
	}
	if t.PasvRange != "" {
		fmt.Printf("pasv-range:   %s\n", t.PasvRange)
		if t.PasvAddress == "" {
			fmt.Printf("pasv-address: (none: no masquerade setting; the server advertises the address it is reached on)\n")
		} else {
			fmt.Printf("pasv-address: %s\n", t.PasvAddress)
		}
	} else {
		fmt.Printf("pasv-range:   (none: this server uses kernel-chosen data ports)\n")
	}
	if pid := srv.PID(); pid != 0 {
		fmt.Printf("pid:          %d\n", pid)
	}
	if lp := srv.LogPath(); lp != "" {
		fmt.Printf("log:          %s\n", lp)
	}
	fmt.Printf("ready after:  %s\n", took.Round(time.Millisecond))
	scheme := "ftp"
	if t.FTPS() {
		fmt.Printf("tls:          %s\n", t.TLS)
		fmt.Printf("tls-ca:       %s\n", t.TLSCA)
		if t.Has("tls-required") {
			// the profile declares it; a run from the URL must say so itself
			fmt.Printf("tls-required: true (declare it to ftpconform: the profile does, or --ftp.features=tls-required)\n")
		} else {
			fmt.Printf("tls-required: false\n")
		}
		scheme = map[string]string{"explicit": "ftpes", "implicit": "ftps"}[t.TLS]
	}
	fmt.Printf("url:          %s://%s:%s@%s/\n", scheme, t.User, t.Password, t.Addr)
	if t.FTPS() {
		fmt.Printf("curl:         %s\n", curlLine(t))
	}
}

// curlLine is a curl command that lists the root over this target's FTPS
// (curl names explicit FTPS ftp:// with --ssl-reqd, implicit ftps://).
func curlLine(t target.Config) string {
	if t.TLS == "implicit" {
		return fmt.Sprintf("curl --cacert %s ftps://%s/ --user %s:%s", t.TLSCA, t.Addr, t.User, t.Password)
	}
	return fmt.Sprintf("curl --ssl-reqd --cacert %s ftp://%s/ --user %s:%s", t.TLSCA, t.Addr, t.User, t.Password)
}

// tlsHelp lists the FTPS modes of each server, one line each.
func tlsHelp() string {
	var b strings.Builder
	for _, n := range servers.Names() {
		modes := strings.Join(servers.TLSModes(n), ", ")
		if modes == "" {
			modes = "no FTPS"
		}
		fmt.Fprintf(&b, "  %-13s %s\n", n, modes)
	}
	return strings.TrimRight(b.String(), "\n")
}

// tlsFlag is --tls: alone it means explicit.
type tlsFlag struct{ mode string }

func (f *tlsFlag) String() string   { return f.mode }
func (f *tlsFlag) IsBoolFlag() bool { return true }
func (f *tlsFlag) Set(v string) error {
	switch v {
	case "true", "explicit":
		f.mode = "explicit"
	case "implicit":
		f.mode = "implicit"
	case "false", "off":
		f.mode = "off"
	default:
		return fmt.Errorf("%q is not explicit, implicit or off", v)
	}
	return nil
}

// serve waits for a stop signal (or, in container mode, the daemon's own
// exit), stops the server and returns the exit status.
func serve(ctx context.Context, srv servers.Running, name string, fromEnv bool) int {
	var exited <-chan struct{}
	stopFollow := func() {}
	if fromEnv {
		stopFollow = followLogs(srv)
		exited = watchDaemon(srv)
	}
	failed := false
	select {
	case <-ctx.Done():
		fmt.Fprintln(os.Stderr, "ftpserve: stopping", name)
	case <-exited:
		fmt.Fprintf(os.Stderr, "ftpserve: %s (pid %d) exited by itself\n", name, srv.PID())
		failed = true
	}
	stopReaping.Store(true)
	err := srv.Stop()
	stopFollow()
	if err != nil {
		fmt.Fprintf(os.Stderr, "ftpserve: stop: %v\n", err)
		return 1
	}
	if failed {
		return 1
	}
	return 0
}

// parseRange reads "lo-hi" by the one range syntax (target.ParseRange).
func parseRange(s string) (int, int, error) {
	r, err := target.ParseRange(s)
	return r.Lo, r.Hi, err
}
