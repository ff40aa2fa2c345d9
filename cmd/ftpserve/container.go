package main

import (
	"crypto/tls"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/ftpharness/ftpharness/servers"
)

const containerHelp = `
Container mode (--from-env, or --container NAME) listens on 0.0.0.0, copies
the server's log files to stdout, and takes its settings from these
variables (a flag given explicitly still wins):
  FTPH_PORT           control port (default 21)
  FTPH_USER           login user (default ftpuser)
  FTPH_PASSWORD       password (default ftppass)
  FTPH_PASV_RANGE     passive range lo-hi (default 30000-30009)
  FTPH_PASV_ADDRESS   address advertised in 227; empty or unset = no
                      masquerade setting at all (the server advertises the
                      address it was reached on, e.g. its container address)
  FTPH_LISTEN         listen address (default 0.0.0.0)
  FTPH_ROOT           directory served (default /srv/ftp)
  FTPH_ANONYMOUS      1/0: read-only anonymous login (default 1)
  FTPH_TLS            off, explicit or implicit: the server's FTPS (default off);
                      the test CA is written to STATE-DIR/tls/ca.pem (mount a
                      volume at --state-dir, or docker cp it out)
  FTPH_TLS_REQUIRED   1/0: refuse cleartext logins and transfers (default 0)

Health (the images' HEALTHCHECK): ftpserve health dials --addr (default
127.0.0.1:$FTPH_PORT, port 21 when unset), expects a 220 greeting within
--timeout (default 2s) and sends QUIT; exit status 0 healthy, 1 not. With
FTPH_TLS=implicit (or --implicit-tls) the greeting is read inside TLS.
`

// Container defaults.
const (
	containerPort   = 21
	containerRange  = "30000-30009"
	containerListen = "0.0.0.0"
	containerRoot   = "/srv/ftp"
)

// applyEnv fills the flags not given on the command line from FTPH_*
// variables and the container defaults.
func applyEnv(set map[string]bool, port *int, listen, pasv, pasvAddr, user, pass, root *string, anon *bool) error {
	env := func(k, def string) string {
		if v, ok := os.LookupEnv(k); ok && strings.TrimSpace(v) != "" {
			return strings.TrimSpace(v)
		}
		return def
	}
	if !set["port"] {
		p, err := strconv.Atoi(env("FTPH_PORT", strconv.Itoa(containerPort)))
		if err != nil || p <= 0 || p > 65535 {
			return fmt.Errorf("bad FTPH_PORT %q", os.Getenv("FTPH_PORT"))
		}
		*port = p
	}
	if !set["listen"] {
		*listen = env("FTPH_LISTEN", containerListen)
	}
	if !set["pasv-range"] {
		*pasv = env("FTPH_PASV_RANGE", containerRange)
		if _, _, err := parseRange(*pasv); err != nil {
			return fmt.Errorf("bad FTPH_PASV_RANGE %q (want lo-hi, e.g. 30000-30009)", *pasv)
		}
	}
	if !set["pasv-address"] {
		// Empty or unset: no masquerade setting at all (the NAT case).
		*pasvAddr = env("FTPH_PASV_ADDRESS", servers.NoMasquerade)
		if *pasvAddr != servers.NoMasquerade && net.ParseIP(*pasvAddr) == nil {
			return fmt.Errorf("bad FTPH_PASV_ADDRESS %q (want an IP address, or empty for no masquerade)", *pasvAddr)
		}
	}
	if !set["user"] {
		*user = env("FTPH_USER", servers.DefaultUser)
	}
	if !set["password"] {
		*pass = env("FTPH_PASSWORD", servers.DefaultPassword)
	}
	if !set["root"] {
		*root = env("FTPH_ROOT", containerRoot)
	}
	if !set["anonymous"] {
		switch strings.ToLower(env("FTPH_ANONYMOUS", "1")) {
		case "1", "true", "yes", "on":
			*anon = true
		case "0", "false", "no", "off":
			*anon = false
		default:
			return fmt.Errorf("bad FTPH_ANONYMOUS %q (want 1 or 0)", os.Getenv("FTPH_ANONYMOUS"))
		}
	}
	return nil
}

// applyTLSEnv fills --tls and --tls-required, when not given on the
// command line, from FTPH_TLS and FTPH_TLS_REQUIRED.
func applyTLSEnv(set map[string]bool, mode *tlsFlag, required *bool) error {
	if v := strings.TrimSpace(os.Getenv("FTPH_TLS")); v != "" && !set["tls"] {
		if err := mode.Set(v); err != nil {
			return fmt.Errorf("bad FTPH_TLS %q (want off, explicit or implicit)", v)
		}
	}
	if v := strings.TrimSpace(os.Getenv("FTPH_TLS_REQUIRED")); v != "" && !set["tls-required"] {
		switch strings.ToLower(v) {
		case "1", "true", "yes", "on":
			*required = true
		case "0", "false", "no", "off":
			*required = false
		default:
			return fmt.Errorf("bad FTPH_TLS_REQUIRED %q (want 1 or 0)", v)
		}
	}
	return nil
}

// health implements `ftpserve health`.
func health(args []string) int {
	fs := flag.NewFlagSet("health", flag.ContinueOnError)
	port := os.Getenv("FTPH_PORT")
	if port == "" {
		port = strconv.Itoa(containerPort)
	}
	addr := fs.String("addr", net.JoinHostPort("127.0.0.1", port), "control `address` to dial")
	timeout := fs.Duration("timeout", 2*time.Second, "how long to wait for the 220 greeting")
	quiet := fs.Bool("quiet", false, "print nothing when healthy")
	implicit := fs.Bool("implicit-tls", os.Getenv("FTPH_TLS") == "implicit", "the server speaks implicit FTPS: read the greeting inside TLS")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	banner, err := servers.Greeting(*addr, *timeout)
	if *implicit {
		// A liveness probe of the daemon in its own container: it checks
		// that a 220 comes inside TLS and sends only QUIT. The certificate
		// is the test CA's, made at start, which this process cannot know;
		// trusting it is the clients' business (--ftp.tls-ca).
		banner, err = servers.GreetingTLS(*addr, *timeout, &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS12})
	}
	if err != nil {
		fmt.Printf("unhealthy: %s: %v\n", *addr, err)
		return 1
	}
	if !*quiet {
		fmt.Printf("healthy: %s: %s\n", *addr, strings.ReplaceAll(banner, "\n", " | "))
	}
	return 0
}

// followLogs copies what the server appends to its log files to stdout
// (containers log there) until the returned func is called; that func
// copies what is left and returns.
func followLogs(srv servers.Running) func() {
	var paths []string
	if lp := srv.LogPath(); lp != "" {
		paths = append(paths, lp)
	}
	if sd, ok := srv.(interface{ StateDir() string }); ok {
		out := filepath.Join(sd.StateDir(), srv.Name()+".out")
		if len(paths) == 0 || paths[0] != out {
			paths = append(paths, out)
		}
	}
	offsets := make([]int64, len(paths))
	var mu sync.Mutex
	pump := func() {
		mu.Lock()
		defer mu.Unlock()
		for i, p := range paths {
			f, err := os.Open(p)
			if err != nil {
				continue
			}
			if st, err := f.Stat(); err == nil && st.Size() < offsets[i] {
				offsets[i] = 0 // truncated
			}
			if _, err := f.Seek(offsets[i], io.SeekStart); err == nil {
				n, _ := io.Copy(os.Stdout, f)
				offsets[i] += n
			}
			f.Close()
		}
	}
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				pump()
			}
		}
	}()
	return func() {
		close(done)
		<-stopped
		pump()
	}
}

// syslogToStdout serves /dev/log when nothing does (a container has no
// syslog daemon) and copies each message to stdout: pure-ftpd logs only to
// syslog. Returns a func that closes it.
func syslogToStdout() func() {
	const path = "/dev/log"
	if _, err := os.Lstat(path); err == nil {
		return func() {}
	}
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		return func() {}
	}
	_ = os.Chmod(path, 0o666)
	go func() {
		buf := make([]byte, 16<<10)
		for {
			n, _, err := conn.ReadFromUnix(buf)
			if err != nil {
				return
			}
			msg := strings.TrimRight(string(buf[:n]), "\n\x00")
			// drop the <PRI> prefix
			if i := strings.IndexByte(msg, '>'); strings.HasPrefix(msg, "<") && i > 0 && i < 5 {
				msg = msg[i+1:]
			}
			fmt.Fprintln(os.Stdout, "syslog: "+msg)
		}
	}()
	return func() { conn.Close(); _ = os.Remove(path) }
}

// stopReaping is set before Stop, whose clean-up may run commands that
// os/exec must wait for itself.
var stopReaping atomic.Bool

// watchDaemon returns a channel closed when the server's process has gone
// (nil for an in-process server). As PID 1 of a container it also reaps
// orphaned zombies (session processes whose parent died), never the
// daemon itself, which os/exec waits for.
func watchDaemon(srv servers.Running) <-chan struct{} {
	pid := srv.PID()
	if pid == 0 {
		return nil
	}
	ch := make(chan struct{})
	reap := os.Getpid() == 1
	go func() {
		for {
			time.Sleep(500 * time.Millisecond)
			if reap && !stopReaping.Load() {
				reapOrphans(pid)
			}
			if err := syscall.Kill(pid, 0); err == syscall.ESRCH {
				close(ch)
				return
			}
		}
	}()
	return ch
}

// reapOrphans waits for every zombie child of this process except keep.
func reapOrphans(keep int) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return
	}
	me := os.Getpid()
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == keep {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...; comm may contain spaces and ')'.
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		if len(f) < 2 || f[0] != "Z" {
			continue
		}
		if ppid, _ := strconv.Atoi(f[1]); ppid != me {
			continue
		}
		var ws syscall.WaitStatus
		_, _ = syscall.Wait4(pid, &ws, syscall.WNOHANG, nil)
	}
}
