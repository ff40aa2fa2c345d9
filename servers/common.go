package servers

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/ftpharness/ftpharness/ftp/tlscert"
	"github.com/ftpharness/ftpharness/target"
)

// ReadyTimeout bounds how long Start waits for a daemon's 220 greeting
// (doubled for the Python-based servers, whose imports are slow under load).
var ReadyTimeout = 15 * time.Second

// StopTimeout is how long Stop waits after SIGTERM before SIGKILL.
var StopTimeout = 5 * time.Second

// CacheDir is where scripts/install-servers unpacks the Debian FTP server
// packages that conflict with each other (one sub-directory per package).
// Override with the environment variable FTPH_SERVERS_CACHE.
func CacheDir() string {
	if d := os.Getenv("FTPH_SERVERS_CACHE"); d != "" {
		return d
	}
	return "/var/cache/ftpharness/servers"
}

// ErrNotInstalled is wrapped by Start's error when a server's binary or
// runtime is missing.
var ErrNotInstalled = errors.New("not installed")

func notInstalled(server, what string) error {
	return fmt.Errorf("servers: %s: %s %w; run `sudo scripts/install-servers` (or `make servers`)", server, what, ErrNotInstalled)
}

// findBinary looks for bin (a path like "usr/sbin/vsftpd") first in the
// extract cache of pkg, then in the system root.
func findBinary(server, pkg, bin string) (string, error) {
	for _, p := range []string{filepath.Join(CacheDir(), pkg, bin), filepath.Join("/", bin)} {
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", notInstalled(server, fmt.Sprintf("%s (looked in %s and /%s)", filepath.Base(bin), filepath.Join(CacheDir(), pkg), bin))
}

// resolved is a Spec with every default filled in plus the port lease.
type resolved struct {
	Spec
	Name         string
	lease        *portLease
	ownState     bool
	ownRoot      bool
	startedAt    time.Time
	cleanupFuncs []func()
	ca           *tlscert.Authority // with Spec.TLS only
	tlsFiles     tlscert.Files
}

// Addr is the address clients of this process dial: the listen address,
// or 127.0.0.1 when the server listens on every interface.
func (r *resolved) Addr() string {
	return net.JoinHostPort(dialHost(r.ListenAddress), strconv.Itoa(r.Port))
}

// listenAddr is host:port the server binds.
func (r *resolved) listenAddr() string {
	return net.JoinHostPort(r.ListenAddress, strconv.Itoa(r.Port))
}

// wildcard reports whether addr means "every interface".
func wildcard(addr string) bool {
	ip := net.ParseIP(addr)
	return addr == "" || (ip != nil && ip.IsUnspecified())
}

func dialHost(listen string) string {
	switch {
	case listen == "::":
		return "::1"
	case wildcard(listen):
		return "127.0.0.1"
	}
	return listen
}

// isIPv6 reports whether addr is an IPv6 address (::1, ::), not an IPv4
// one written in IPv6 form.
func isIPv6(addr string) bool {
	ip := net.ParseIP(addr)
	return ip != nil && ip.To4() == nil
}

// masquerade is the address the server is configured to advertise in 227
// replies, "" for none (NoMasquerade).
func (r *resolved) masquerade() string {
	if r.PasvAddress == NoMasquerade {
		return ""
	}
	return r.PasvAddress
}

func (r *resolved) target(pasv bool) target.Config {
	t := target.Config{Server: r.Name, Addr: r.Addr(), User: r.User, Password: r.Password}
	if r.ca != nil {
		t.TLS, t.TLSCA = r.tlsMode().String(), r.tlsFiles.CA
		if r.TLSRequired { // the policy is this server's own setting: declare it
			t.Features = append(t.Features, "tls-required")
		}
	}
	if pasv {
		t.PasvRange = fmt.Sprintf("%d-%d", r.PasvMin, r.PasvMax)
		t.PasvAddress = r.masquerade()
	} else {
		t.PasvEphemeral = true // no range setting: kernel ephemeral ports
	}
	return t
}

// release frees ports and removes directories this package created
// (kept when FTPH_KEEP_STATE=1).
func (r *resolved) release() {
	for i := len(r.cleanupFuncs) - 1; i >= 0; i-- {
		r.cleanupFuncs[i]()
	}
	r.cleanupFuncs = nil
	r.lease.Release()
	if os.Getenv("FTPH_KEEP_STATE") == "1" {
		return
	}
	if r.ownState {
		_ = os.RemoveAll(r.StateDir)
	} else if r.ownRoot {
		_ = os.RemoveAll(r.Root)
	}
}

// resolve fills defaults, allocates ports and creates directories.
func resolve(name string, spec Spec) (*resolved, error) {
	r := &resolved{Spec: spec, Name: name, lease: &portLease{}, startedAt: time.Now()}
	if r.User == "" {
		r.User = DefaultUser
	}
	if r.Password == "" {
		r.Password = DefaultPassword
	}
	if r.ListenAddress == "" {
		r.ListenAddress = DefaultListenAddress
	}
	if r.PasvAddress == "" {
		r.PasvAddress = DefaultPasvAddress
		if isIPv6(r.ListenAddress) {
			// RFC 2428 §1: a 227 carries IPv4 only, and a passive
			// socket bound on ::1 is not reachable at 127.0.0.1.
			r.PasvAddress = NoMasquerade
		}
	}
	if r.PasvMin < 0 || r.PasvMax < 0 || (r.PasvMax != 0 && r.PasvMax < r.PasvMin) || r.PasvMax > 65535 {
		return nil, fmt.Errorf("servers: bad passive range %d-%d", r.PasvMin, r.PasvMax)
	}
	fail := func(err error) (*resolved, error) { r.release(); return nil, err }
	if r.Port == 0 {
		p, err := allocControlPort(r.lease)
		if err != nil {
			return fail(err)
		}
		r.Port = p
	}
	switch {
	case r.PasvMin == 0:
		n := DefaultRangeSize
		if r.PasvMax > 0 {
			n = r.PasvMax // PasvMax alone = size hint
		}
		lo, hi, err := awaitPasvRange(n, r.lease)
		if err != nil {
			return fail(err)
		}
		r.PasvMin, r.PasvMax = lo, hi
	case r.PasvMax == 0:
		r.PasvMax = r.PasvMin + DefaultRangeSize - 1
	}
	if r.StateDir == "" {
		d, err := os.MkdirTemp("", "ftpharness-"+name+"-")
		if err != nil {
			return fail(err)
		}
		r.StateDir, r.ownState = d, true
	} else if err := os.MkdirAll(r.StateDir, 0o755); err != nil {
		return fail(err)
	}
	abs, err := filepath.Abs(r.StateDir)
	if err != nil {
		return fail(err)
	}
	r.StateDir = abs
	if r.Root == "" {
		r.Root = filepath.Join(r.StateDir, "root")
		r.ownRoot = true
	}
	if r.Root, err = filepath.Abs(r.Root); err != nil {
		return fail(err)
	}
	if err := os.MkdirAll(r.Root, 0o755); err != nil {
		return fail(err)
	}
	if err := r.setupTLS(); err != nil {
		return fail(fmt.Errorf("servers: TLS certificates: %w", err))
	}
	return r, nil
}

// ---- child-process daemons ----

// daemon is a Running backed by a child process in its own process group.
type daemon struct {
	r       *resolved
	cmd     *exec.Cmd
	logPath string
	usePasv bool
	ready   time.Duration
	banner  string

	done    chan struct{}
	waitErr error
	once    sync.Once
	stopErr error
}

func (d *daemon) Name() string              { return d.r.Name }
func (d *daemon) Target() target.Config     { return d.r.target(d.usePasv) }
func (d *daemon) PID() int                  { return d.cmd.Process.Pid }
func (d *daemon) LogPath() string           { return d.logPath }
func (d *daemon) ReadyAfter() time.Duration { return d.ready }
func (d *daemon) Banner() string            { return d.banner }
func (d *daemon) StateDir() string          { return d.r.StateDir }

// startDaemon runs argv in the foreground under its own process group with
// stdout+stderr going to StateDir/<name>.out, and waits for a 220 greeting.
func startDaemon(ctx context.Context, r *resolved, usePasv bool, logPath string, argv []string, ready time.Duration) (*daemon, error) {
	outPath := filepath.Join(r.StateDir, r.Name+".out")
	out, err := os.OpenFile(outPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	if logPath == "" {
		logPath = outPath
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = r.StateDir
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		out.Close()
		return nil, fmt.Errorf("servers: %s: start %s: %w", r.Name, argv[0], err)
	}
	out.Close()
	d := &daemon{r: r, cmd: cmd, logPath: logPath, usePasv: usePasv, done: make(chan struct{})}
	go func() { d.waitErr = cmd.Wait(); close(d.done) }()
	_ = os.WriteFile(filepath.Join(r.StateDir, "server.pid"), []byte(strconv.Itoa(cmd.Process.Pid)+"\n"), 0o644)

	banner, err := waitGreeting(ctx, r.Addr(), r.greetingTLS(), d.done, ready)
	if err != nil {
		d.kill()
		tail := logTail(outPath, 30)
		if logPath != outPath {
			tail += logTail(logPath, 20)
		}
		exit := ""
		select {
		case <-d.done:
			exit = fmt.Sprintf(" (exited: %v)", d.waitErr)
		default:
		}
		r.release()
		return nil, fmt.Errorf("servers: %s did not become ready on %s%s: %w\ncommand: %s\n--- log tail ---\n%s",
			r.Name, r.Addr(), exit, err, strings.Join(argv, " "), tail)
	}
	d.ready = time.Since(start)
	d.banner = banner
	return d, nil
}

// kill terminates the process group: SIGTERM, then SIGKILL after StopTimeout.
func (d *daemon) kill() {
	pgid := d.cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-d.done:
	case <-time.After(StopTimeout):
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		<-d.done
	}
	// Per-session children may outlive the leader briefly.
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
}

func (d *daemon) Stop() error {
	d.once.Do(func() {
		d.kill()
		d.r.release()
	})
	return d.stopErr
}

// waitGreeting polls addr until a final 220 reply line is read.
func waitGreeting(ctx context.Context, addr string, implicit *tls.Config, exited <-chan struct{}, timeout time.Duration) (string, error) {
	deadline := time.Now().Add(timeout)
	var last error
	for {
		select {
		case <-exited:
			return "", errors.New("process exited before greeting")
		case <-ctx.Done():
			return "", ctx.Err()
		default:
		}
		if time.Now().After(deadline) {
			if last == nil {
				last = errors.New("timeout")
			}
			return "", fmt.Errorf("no 220 greeting within %s: %w", timeout, last)
		}
		banner, err := readGreeting(addr, time.Until(deadline), implicit)
		if err == nil {
			return banner, nil
		}
		last = err
		time.Sleep(25 * time.Millisecond)
	}
}

// readGreeting connects once and reads the greeting (multi-line aware),
// after a TLS handshake with implicit when it is not nil (implicit FTPS).
func readGreeting(addr string, budget time.Duration, implicit *tls.Config) (string, error) {
	if budget > 3*time.Second {
		budget = 3 * time.Second
	}
	var c net.Conn
	c, err := net.DialTimeout("tcp", addr, budget)
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(budget))
	if implicit != nil {
		tc := tls.Client(c, implicit)
		if err := tc.Handshake(); err != nil {
			return "", fmt.Errorf("implicit FTPS handshake: %w", err)
		}
		c = tc
	}
	br := bufio.NewReader(c)
	var lines []string
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return "", fmt.Errorf("reading greeting: %w (got %q)", err, strings.Join(lines, ""))
		}
		line = strings.TrimRight(line, "\r\n")
		lines = append(lines, line)
		if len(line) >= 4 && line[3] == ' ' && line[:3] >= "100" && line[:3] <= "599" {
			if line[:3] != "220" {
				return "", fmt.Errorf("greeting was %q", strings.Join(lines, " | "))
			}
			_, _ = c.Write([]byte("QUIT\r\n"))
			return strings.Join(lines, "\n"), nil
		}
		if len(lines) > 100 {
			return "", errors.New("greeting too long")
		}
	}
}

func logTail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(%s: %v)\n", path, err)
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return fmt.Sprintf("[%s]\n%s\n", path, strings.Join(lines, "\n"))
}

// ---- system accounts (vsftpd, proftpd, pure-ftpd, inetutils) ----

var userMu sync.Mutex

// withUserLock serialises account changes within this process and across
// processes (useradd/chpasswd/usermod take /etc/passwd locks that fail
// rather than wait).
func withUserLock(fn func() error) error {
	userMu.Lock()
	defer userMu.Unlock()
	_ = os.MkdirAll(LockDir(), 0o777)
	f, err := os.OpenFile(filepath.Join(LockDir(), "accounts.lock"), os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		return err
	}
	defer syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	return fn()
}

func run(name string, args ...string) error {
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return nil
}

type account struct {
	Name     string
	UID, GID int
	Home     string
}

func lookupAccount(name string) (account, bool) {
	b, err := os.ReadFile("/etc/passwd")
	if err != nil {
		return account{}, false
	}
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Split(l, ":")
		if len(f) >= 7 && f[0] == name {
			uid, _ := strconv.Atoi(f[2])
			gid, _ := strconv.Atoi(f[3])
			return account{Name: name, UID: uid, GID: gid, Home: f[5]}, true
		}
	}
	return account{}, false
}

// ensureSystemUser makes sure a system account exists with password (if
// non-empty) and a home directory that exists.
func ensureSystemUser(name, password, shell string) (account, error) {
	if os.Geteuid() != 0 {
		return account{}, fmt.Errorf("servers: creating system user %q needs root", name)
	}
	var acc account
	err := withUserLock(func() error {
		a, ok := lookupAccount(name)
		if !ok {
			if err := run("useradd", "--system", "--user-group", "--home-dir", "/", "--no-create-home", "--shell", shell, name); err != nil {
				return err
			}
			if a, ok = lookupAccount(name); !ok {
				return fmt.Errorf("useradd %s: account not found afterwards", name)
			}
		} else if st, err := os.Stat(a.Home); err != nil || !st.IsDir() {
			if err := run("usermod", "-d", "/", name); err != nil {
				return err
			}
			a.Home = "/"
		}
		if password != "" {
			cmd := exec.Command("chpasswd")
			cmd.Stdin = strings.NewReader(name + ":" + password + "\n")
			if out, err := cmd.CombinedOutput(); err != nil {
				return fmt.Errorf("chpasswd: %w: %s", err, out)
			}
		}
		acc = a
		return nil
	})
	return acc, err
}

// setHome points an account's home at dir (inetutils and pure-ftpd take
// roots from homes) and returns a func that resets it to "/". The home is
// held until then (holdHome): a second server wanting it waits.
func setHome(ctx context.Context, name, dir string) (func(), error) {
	release, err := holdHome(ctx, name)
	if err != nil {
		return nil, err
	}
	err = withUserLock(func() error { return run("usermod", "-d", dir, name) })
	if err != nil {
		release()
		return nil, err
	}
	return func() {
		defer release()
		_ = withUserLock(func() error {
			if a, ok := lookupAccount(name); ok && a.Home == dir {
				return run("usermod", "-d", "/", name)
			}
			return nil
		})
	}, nil
}

// holdHome takes account name's home for the life of one server, across
// processes (a flock under LockDir): two servers serving the same account's
// home (two inetutils of two test lanes, say) would move it under each
// other, so the second waits, under ctx, until the first has stopped.
// Accounts are always taken in the same order (the server's user, then
// "ftp"), so two waiting servers cannot hold each other up.
func holdHome(ctx context.Context, name string) (func(), error) {
	_ = os.MkdirAll(LockDir(), 0o777)
	f, err := os.OpenFile(filepath.Join(LockDir(), "home-"+name+".lock"), os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		return nil, err
	}
	for tries := 0; ; tries++ {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { syscall.Flock(int(f.Fd()), syscall.LOCK_UN); f.Close() }, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, err
		}
		if tries == 0 {
			noticeWait(fmt.Sprintf("the home of account %s is served by another running server: waiting until it stops", name))
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("servers: the home of account %s is served by another running server: %w", name, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// reachable makes dir traversable for dropped-privilege processes: o+x on
// every ancestor that lacks it (t.TempDir and mktemp make 0700 dirs).
func reachable(dir string) error {
	for p := filepath.Dir(dir); ; p = filepath.Dir(p) {
		st, err := os.Stat(p)
		if err != nil {
			return err
		}
		if st.Mode().Perm()&0o001 == 0 {
			if err := os.Chmod(p, st.Mode().Perm()|0o001); err != nil {
				return err
			}
		}
		if p == "/" || p == filepath.Dir(p) {
			return nil
		}
	}
}

// chownTree gives root's tree to the account (so it can write there) and
// makes it world-readable for anonymous sessions.
func chownTree(root string, a account) error {
	if err := reachable(root); err != nil {
		return err
	}
	return filepath.Walk(root, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if err := os.Lchown(p, a.UID, a.GID); err != nil {
			return err
		}
		if info.IsDir() {
			return os.Chmod(p, info.Mode().Perm()|0o755)
		}
		return nil
	})
}

// sha512Crypt returns a crypt(3) SHA-512 hash ($6$) via openssl, which
// pure-ftpd and proftpd verify cheaply (unlike pure-pw's argon2 default).
func sha512Crypt(password string) (string, error) {
	cmd := exec.Command("openssl", "passwd", "-6", "-stdin")
	cmd.Stdin = strings.NewReader(password + "\n")
	out, err := cmd.Output()
	if err != nil {
		if errors.Is(err, exec.ErrNotFound) {
			return "", notInstalled("openssl", "openssl")
		}
		return "", fmt.Errorf("openssl passwd -6: %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}
