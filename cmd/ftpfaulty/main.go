// Command ftpfaulty runs the fault-injecting FTP proxy (servers/faulty) in
// front of a server it starts itself or one already running, prints the
// target to test, and keeps running until interrupted.
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

	"github.com/ftpharness/ftpharness/ftp"
	"github.com/ftpharness/ftpharness/matrix"
	"github.com/ftpharness/ftpharness/servers"
	"github.com/ftpharness/ftpharness/servers/faulty"
	"github.com/ftpharness/ftpharness/target"
)

func usage() {
	out := flag.CommandLine.Output()
	fmt.Fprintf(out, `Usage: ftpfaulty [flags]

Start the fault-injecting proxy in front of an FTP server and keep it running
until SIGINT/SIGTERM. With --server it starts that server (see ftpserve);
with --upstream it proxies a server already running.

With --tls=explicit|implicit the proxy speaks FTPS on both sides: to the
client with a certificate of its own test CA (the file printed as tls-ca:
give it to the client, e.g. ftpconform --ftp.tls-ca), to the server as a TLS
client checking the server's certificate against --upstream-ca (or not, with
--upstream-insecure; a --server started with --tls brings its own CA).

Flags:
`)
	flag.PrintDefaults()
	fmt.Fprintf(out, "\nFaults:\n")
	for _, f := range faulty.All() {
		fmt.Fprintf(out, "  %-26s %s\n", f.Name, f.Doc)
	}
}

func main() {
	flag.Usage = usage
	var (
		server   = flag.String("server", "", "start this server (one of "+strings.Join(servers.Names(), ", ")+")")
		upstream = flag.String("upstream", "", "proxy the server at `host:port` instead")
		upRange  = flag.String("upstream-range", "", "the upstream server's passive range `lo-hi` (mirrored by the proxy)")
		user     = flag.String("user", servers.DefaultUser, "login user (with --upstream, for the printed target)")
		pass     = flag.String("password", servers.DefaultPassword, "login password (with --upstream)")
		faults   = flag.String("fault", "", "comma list of faults to inject (empty: transparent)")
		stall    = flag.Duration("stall", 30*time.Second, "how long reply-stall holds a reply")
		profile  = flag.String("profile", "", "write the proxied target as a YAML profile to this `file`")
		direct   = flag.String("direct-profile", "", "with --server, also write the server's own target profile here")
		list     = flag.Bool("list", false, "list the faults with the check IDs each should kill (fixtures/mutations.yaml), and exit")
		verbose  = flag.Bool("v", false, "log proxy events, every command and reply to stderr")
		tlsMode  = flag.String("tls", "off", "FTPS on both sides: off, explicit (AUTH TLS) or implicit (TLS before the greeting)")
		upCA     = flag.String("upstream-ca", "", "with --upstream and --tls: PEM `file` of the CA the server's certificate must chain to (default: the system pool)")
		upInsec  = flag.Bool("upstream-insecure", false, "with --upstream and --tls: do not verify the server's certificate")
		listen   = flag.String("listen", "", "the proxy's `address`, 127.0.0.1 or ::1 (default: the upstream's family); with --server the server listens there too")
	)
	flag.Parse()
	if *list {
		for _, f := range faulty.All() {
			c := ""
			if f.Conformant {
				c = " (conformant)"
			}
			fmt.Printf("%-26s %s%s\n    kills: %s\n", f.Name, f.Doc, c, strings.Join(matrix.Declared(f.Name).Kills, ", "))
		}
		return
	}
	if (*server == "") == (*upstream == "") {
		fmt.Fprintln(os.Stderr, "ftpfaulty: give exactly one of --server and --upstream")
		os.Exit(2)
	}
	var opts []faulty.Option
	if *faults != "" {
		for _, n := range strings.Split(*faults, ",") {
			f, ok := faulty.Lookup(strings.TrimSpace(n))
			if !ok {
				fmt.Fprintf(os.Stderr, "ftpfaulty: unknown fault %q (known: %s)\n", n, strings.Join(faulty.Names(), ", "))
				os.Exit(2)
			}
			opts = append(opts, faulty.WithFaults(f))
		}
	}
	opts = append(opts, faulty.StallFor(*stall))
	if *listen != "" {
		opts = append(opts, faulty.ListenOn(*listen))
	}
	if *verbose {
		opts = append(opts, faulty.Trace(), faulty.WithLogf(func(f string, a ...any) {
			fmt.Fprintf(os.Stderr, "%s ftpfaulty: "+f+"\n", append([]any{time.Now().Format("15:04:05.000000")}, a...)...)
		}))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	if _, ok := ftp.ParseTLSMode(*tlsMode); !ok {
		fmt.Fprintf(os.Stderr, "ftpfaulty: --tls %q is not off, explicit or implicit\n", *tlsMode)
		os.Exit(2)
	}
	up := target.Config{Addr: *upstream, User: *user, Password: *pass, PasvRange: *upRange, TLS: *tlsMode, TLSCA: *upCA, TLSInsecure: *upInsec}
	switch {
	case (*upCA != "" || *upInsec) && !up.FTPS():
		fmt.Fprintln(os.Stderr, "ftpfaulty: --upstream-ca/--upstream-insecure need --tls=explicit|implicit")
		os.Exit(2)
	case *upCA != "" && *upInsec:
		fmt.Fprintln(os.Stderr, "ftpfaulty: give one of --upstream-ca and --upstream-insecure")
		os.Exit(2)
	}
	if *server != "" {
		if *upCA != "" || *upInsec {
			fmt.Fprintln(os.Stderr, "ftpfaulty: --upstream-ca/--upstream-insecure go with --upstream (a --server brings its own CA)")
			os.Exit(2)
		}
		srv, err := servers.Start(ctx, *server, servers.Spec{TLS: *tlsMode, ListenAddress: *listen})
		if err != nil {
			fmt.Fprintf(os.Stderr, "ftpfaulty: %v\n", err)
			os.Exit(1)
		}
		defer srv.Stop()
		up = srv.Target()
		if *direct != "" {
			if err := up.WriteProfile(*direct); err != nil {
				fmt.Fprintf(os.Stderr, "ftpfaulty: %v\n", err)
				os.Exit(1)
			}
		}
	}
	p, err := faulty.StartFor(ctx, up, opts...)
	if err != nil {
		fmt.Fprintf(os.Stderr, "ftpfaulty: %v\n", err)
		os.Exit(1)
	}
	defer p.Close()
	t := p.Target(up)
	if *profile != "" {
		if err := t.WriteProfile(*profile); err != nil {
			fmt.Fprintf(os.Stderr, "ftpfaulty: %v\n", err)
			os.Exit(1)
		}
	}
	fmt.Printf("proxy %s -> %s (passive %s, upstream passive %s) faults=%q\n", t.Addr, up.Addr, t.PasvRange, up.PasvRange, *faults)
	scheme := map[string]string{"explicit": "ftpes", "implicit": "ftps"}[t.TLS]
	if scheme == "" {
		scheme = "ftp"
	}
	fmt.Printf("%s://%s:%s@%s/\n", scheme, t.User, t.Password, t.Addr)
	if ca := p.CAFile(); ca != "" {
		fmt.Printf("tls-ca: %s\n", ca)
	}
	<-ctx.Done()
}
