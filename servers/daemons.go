package servers

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"text/template"
	"time"

	"github.com/ftpharness/ftpharness/ftp"
)

// Templates holds one configuration template per daemon (servers/templates),
// shared with anything else (e.g. Dockerfiles) that runs the same servers.
//
//go:embed templates/*.tmpl
var Templates embed.FS

// TemplateData is what the templates are rendered with.
type TemplateData struct {
	Port int
	// ListenAddress is the address to bind ("" = 127.0.0.1; see Listen).
	ListenAddress    string
	PasvMin, PasvMax int
	// PasvAddress is the masquerade address; "" = render no masquerade
	// setting at all (Spec.PasvAddress NoMasquerade).
	PasvAddress    string
	User, Password string
	Root, StateDir string
	Anonymous      bool
	Debug          bool
	// PAMService is the PAM service vsftpd authenticates with.
	PAMService string
	// Binary is the program a shim execs (inetutils ftpd).
	Binary string
	// TLS is "" (no FTPS), "explicit" or "implicit"; TLSRequired refuses
	// cleartext logins and transfers. TLSCert (server certificate then
	// the CA's) and TLSKey (PKCS #8, mode 0600) are PEM files.
	TLS             string
	TLSRequired     bool
	TLSCert, TLSKey string
	// ModuleDir is where proftpd loads mod_tls from (TLS only).
	ModuleDir string
}

// Listen is the address to bind: ListenAddress, 127.0.0.1 when empty.
func (d TemplateData) Listen() string {
	if d.ListenAddress == "" {
		return DefaultListenAddress
	}
	return d.ListenAddress
}

// Wildcard reports whether Listen means every interface (0.0.0.0, ::).
func (d TemplateData) Wildcard() bool { return d.ListenAddress != "" && wildcard(d.ListenAddress) }

// IPv6 reports whether Listen is an IPv6 address (::1; :: for every
// interface of both families where the server allows).
func (d TemplateData) IPv6() bool { return isIPv6(d.Listen()) }

// Render renders servers/templates/<name> with d.
func Render(name string, d TemplateData) ([]byte, error) {
	t, err := template.ParseFS(Templates, "templates/"+name)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := t.Execute(&b, d); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func (r *resolved) data() TemplateData {
	d := TemplateData{
		Port: r.Port, ListenAddress: r.ListenAddress,
		PasvMin: r.PasvMin, PasvMax: r.PasvMax, PasvAddress: r.masquerade(),
		User: r.User, Password: r.Password, Root: r.Root, StateDir: r.StateDir,
		Anonymous: r.Anonymous, Debug: os.Getenv("FTPH_DEBUG") == "1",
		PAMService: pamService,
	}
	r.tlsData(&d)
	return d
}

// renderTo renders a template into StateDir/file.
func (r *resolved) renderTo(tmpl, file string, d TemplateData) (string, error) {
	b, err := Render(tmpl, d)
	if err != nil {
		return "", err
	}
	p := filepath.Join(r.StateDir, file)
	return p, os.WriteFile(p, b, 0o644)
}

const pamService = "ftpharness"

// ensurePAM writes the PAM service vsftpd uses (Debian's /etc/pam.d/vsftpd
// exists only for an apt install and also checks /etc/ftpusers and shells).
func ensurePAM() error {
	p := "/etc/pam.d/" + pamService
	want := "# written by ftpharness servers (vsftpd launcher)\n" +
		"auth required pam_unix.so\naccount required pam_unix.so\nsession required pam_permit.so\n"
	if b, err := os.ReadFile(p); err == nil && string(b) == want {
		return nil
	}
	return os.WriteFile(p, []byte(want), 0o644)
}

// ErrNeedsRoot is wrapped by Start's error when a daemon needs root (to
// create accounts and drop privileges per session) and this is not root.
var ErrNeedsRoot = errors.New("needs root")

func requireRoot(name string) error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("servers: %s must be started as root (it drops privileges per session): %w", name, ErrNeedsRoot)
	}
	return nil
}

// prepareAccounts creates the login account (and "ftp" for anonymous),
// makes Root reachable and owned by the login account.
func prepareAccounts(r *resolved, withPassword bool) (account, error) {
	pw := ""
	if withPassword {
		pw = r.Password
	}
	acc, err := ensureSystemUser(r.User, pw, "/bin/sh")
	if err != nil {
		return acc, err
	}
	if _, err := ensureSystemUser("ftp", "", "/usr/sbin/nologin"); err != nil {
		return acc, err
	}
	return acc, chownTree(r.Root, acc)
}

func init() {
	Register("vsftpd", startVsftpd)
	Register("proftpd", startProftpd)
	Register("pure-ftpd", startPureFtpd)
	Register("pyftpdlib", startPyftpdlib)
	Register("twisted", startTwisted)
	Register("inetutils", startInetutils)
	// Each daemon's own FTPS (servers/README.md): Debian's pure-ftpd is
	// built without implicit TLS, pyftpdlib 1.5.7 has none; twisted's
	// and inetutils' FTP servers have no TLS at all.
	canTLS("vsftpd", ftp.TLSExplicit, ftp.TLSImplicit)
	canTLS("proftpd", ftp.TLSExplicit, ftp.TLSImplicit)
	canTLS("pure-ftpd", ftp.TLSExplicit)
	canTLS("pyftpdlib", ftp.TLSExplicit)
}

// launch wraps the common start sequence: resolve, prepare, start, and
// release on failure.
func launch(ctx context.Context, name string, spec Spec, ready time.Duration, prep func(r *resolved) (argv []string, logPath string, usePasv bool, err error)) (Running, error) {
	r, err := resolve(name, spec)
	if err != nil {
		return nil, err
	}
	argv, logPath, usePasv, err := prep(r)
	if err != nil {
		r.release()
		return nil, err
	}
	d, err := startDaemon(ctx, r, usePasv, logPath, argv, ready)
	if err != nil {
		return nil, err
	}
	return d, nil
}

func startVsftpd(ctx context.Context, spec Spec) (Running, error) {
	bin, err := findBinary("vsftpd", "vsftpd", "usr/sbin/vsftpd")
	if err != nil {
		return nil, err
	}
	if err := requireRoot("vsftpd"); err != nil {
		return nil, err
	}
	return launch(ctx, "vsftpd", spec, ReadyTimeout, func(r *resolved) ([]string, string, bool, error) {
		if _, err := prepareAccounts(r, true); err != nil {
			return nil, "", false, err
		}
		if err := ensurePAM(); err != nil {
			return nil, "", false, err
		}
		empty := filepath.Join(r.StateDir, "empty")
		if err := os.MkdirAll(empty, 0o555); err != nil {
			return nil, "", false, err
		}
		_ = os.Chown(empty, 0, 0)
		_ = os.Chmod(empty, 0o555)
		if err := reachable(empty); err != nil {
			return nil, "", false, err
		}
		conf, err := r.renderTo("vsftpd.conf.tmpl", "vsftpd.conf", r.data())
		if err != nil {
			return nil, "", false, err
		}
		return []string{bin, conf}, filepath.Join(r.StateDir, "server.log"), true, nil
	})
}

func startProftpd(ctx context.Context, spec Spec) (Running, error) {
	bin, err := findBinary("proftpd", "proftpd-core", "usr/sbin/proftpd")
	if err != nil {
		return nil, err
	}
	if err := requireRoot("proftpd"); err != nil {
		return nil, err
	}
	return launch(ctx, "proftpd", spec, ReadyTimeout, func(r *resolved) ([]string, string, bool, error) {
		acc, err := prepareAccounts(r, false)
		if err != nil {
			return nil, "", false, err
		}
		hash, err := sha512Crypt(r.Password)
		if err != nil {
			return nil, "", false, err
		}
		line := fmt.Sprintf("%s:%s:%d:%d::%s:/bin/sh\n", r.User, hash, acc.UID, acc.GID, r.Root)
		if err := os.WriteFile(filepath.Join(r.StateDir, "ftpd.passwd"), []byte(line), 0o600); err != nil {
			return nil, "", false, err
		}
		if err := reachable(filepath.Join(r.StateDir, "x")); err != nil {
			return nil, "", false, err
		}
		d := r.data()
		if d.TLS != "" {
			if d.ModuleDir, err = proftpdModuleDir("mod_tls.so"); err != nil {
				return nil, "", false, err
			}
		}
		conf, err := r.renderTo("proftpd.conf.tmpl", "proftpd.conf", d)
		if err != nil {
			return nil, "", false, err
		}
		if out, err := exec.Command(bin, "-t", "-c", conf).CombinedOutput(); err != nil {
			return nil, "", false, fmt.Errorf("servers: proftpd config test failed: %v\n%s", err, out)
		}
		// with -n, proftpd's system log goes to stderr (the .out file)
		return []string{bin, "-n", "-c", conf}, "", true, nil
	})
}

// proftpdModuleDir finds the directory holding a proftpd module (mod_tls
// comes with proftpd-mod-crypto): the extract cache, then /usr/lib/proftpd.
func proftpdModuleDir(module string) (string, error) {
	for _, dir := range []string{filepath.Join(CacheDir(), "proftpd-mod-crypto", "usr/lib/proftpd"), "/usr/lib/proftpd"} {
		if _, err := os.Stat(filepath.Join(dir, module)); err == nil {
			return dir, nil
		}
	}
	return "", notInstalled("proftpd", module+" (package proftpd-mod-crypto)")
}

func startPureFtpd(ctx context.Context, spec Spec) (Running, error) {
	bin, err := findBinary("pure-ftpd", "pure-ftpd", "usr/sbin/pure-ftpd")
	if err != nil {
		return nil, err
	}
	pw, err := findBinary("pure-ftpd", "pure-ftpd", "usr/bin/pure-pw")
	if err != nil {
		return nil, err
	}
	if err := requireRoot("pure-ftpd"); err != nil {
		return nil, err
	}
	if miss := missingCaps(pureFtpdCaps); len(miss) > 0 {
		// it logs "Unable to switch capabilities" to syslog and exits 252
		return nil, fmt.Errorf("servers: pure-ftpd needs the capabilities %s, which this process lacks (a container: docker run --cap-add %s)",
			strings.Join(miss, ", "), strings.Join(miss, " --cap-add "))
	}
	var resetHome func()
	run, err := launch(ctx, "pure-ftpd", spec, ReadyTimeout, func(r *resolved) ([]string, string, bool, error) {
		acc, err := prepareAccounts(r, false)
		if err != nil {
			return nil, "", false, err
		}
		if r.Anonymous { // anonymous root = home of "ftp"
			if resetHome, err = setHome(ctx, "ftp", r.Root); err != nil {
				return nil, "", false, err
			}
			r.cleanupFuncs = append(r.cleanupFuncs, resetHome)
		}
		// SHA-512 crypt, not pure-pw's argon2id default (~6 s CPU per login).
		hash, err := sha512Crypt(r.Password)
		if err != nil {
			return nil, "", false, err
		}
		passwd := filepath.Join(r.StateDir, "pureftpd.passwd")
		line := fmt.Sprintf("%s:%s:%d:%d::%s/./::::::::::::\n", r.User, hash, acc.UID, acc.GID, r.Root)
		if err := os.WriteFile(passwd, []byte(line), 0o600); err != nil {
			return nil, "", false, err
		}
		if out, err := exec.Command(pw, "mkdb", filepath.Join(r.StateDir, "pureftpd.pdb"), "-f", passwd).CombinedOutput(); err != nil {
			return nil, "", false, fmt.Errorf("servers: pure-pw mkdb: %v: %s", err, out)
		}
		argsFile, err := r.renderTo("pure-ftpd.args.tmpl", "pure-ftpd.args", r.data())
		if err != nil {
			return nil, "", false, err
		}
		b, _ := os.ReadFile(argsFile)
		argv := []string{bin}
		for _, l := range strings.Split(string(b), "\n") {
			if l = strings.TrimSpace(l); l != "" {
				argv = append(argv, l)
			}
		}
		return argv, "", true, nil
	})
	return run, err
}

// pureFtpdCaps are the capabilities Debian's pure-ftpd (built with libcap)
// keeps at start besides Docker's defaults: without them it exits 252.
var pureFtpdCaps = map[int]string{2: "DAC_READ_SEARCH", 23: "SYS_NICE"}

// missingCaps lists the capabilities of want (bit -> name) missing from
// this process's bounding set (none when /proc cannot tell).
func missingCaps(want map[int]string) []string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return nil
	}
	for _, l := range strings.Split(string(b), "\n") {
		v, ok := strings.CutPrefix(l, "CapBnd:")
		if !ok {
			continue
		}
		set, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
		if err != nil {
			return nil
		}
		var miss []string
		for bit, name := range want {
			if set&(1<<uint(bit)) == 0 {
				miss = append(miss, name)
			}
		}
		sort.Strings(miss)
		return miss
	}
	return nil
}

// python finds Debian's interpreter (a pyenv python3 on PATH cannot see
// dist-packages) and checks that the module's files are there (cheaper than
// an import, which costs twisted a second on a busy machine).
func python(server, modulePath string) (string, error) {
	const py = "/usr/bin/python3"
	if _, err := os.Stat(py); err != nil {
		return "", notInstalled(server, py)
	}
	if modulePath != "" {
		p := filepath.Join("/usr/lib/python3/dist-packages", modulePath)
		if _, err := os.Stat(p); err != nil {
			return "", notInstalled(server, "python module "+p)
		}
	}
	return py, nil
}

// pythonReady is the greeting deadline for Python servers: their imports
// are slow on a loaded machine.
func pythonReady() time.Duration { return 2 * ReadyTimeout }

func startPyftpdlib(ctx context.Context, spec Spec) (Running, error) {
	py, err := python("pyftpdlib", "pyftpdlib/servers.py")
	if err != nil {
		return nil, err
	}
	if spec.TLS != "" && spec.TLS != "off" { // TLS_FTPHandler needs python3-openssl
		if _, err := python("pyftpdlib", "OpenSSL/SSL.py"); err != nil {
			return nil, err
		}
	}
	return launch(ctx, "pyftpdlib", spec, pythonReady(), func(r *resolved) ([]string, string, bool, error) {
		script, err := r.renderTo("pyftpdlib.py.tmpl", "launch.py", r.data())
		if err != nil {
			return nil, "", false, err
		}
		return []string{py, script}, filepath.Join(r.StateDir, "server.log"), true, nil
	})
}

func startTwisted(ctx context.Context, spec Spec) (Running, error) {
	py, err := python("twisted", "twisted/protocols/ftp.py")
	if err != nil {
		return nil, err
	}
	if spec.PasvAddress != "" && spec.PasvAddress != "127.0.0.1" && spec.PasvAddress != NoMasquerade {
		return nil, fmt.Errorf("servers: twisted has no passive (masquerade) address option")
	}
	return launch(ctx, "twisted", spec, pythonReady(), func(r *resolved) ([]string, string, bool, error) {
		script, err := r.renderTo("twisted.py.tmpl", "launch.py", r.data())
		if err != nil {
			return nil, "", false, err
		}
		return []string{py, script}, filepath.Join(r.StateDir, "server.log"), true, nil
	})
}

// startInetutils runs GNU inetutils ftpd behind an inetd-style shim. It has
// no passive range and no masquerade address (data ports are kernel
// ephemeral), so its Target has no PasvRange. Its user's root is the
// account's home, and anonymous (always on when "ftp" exists) uses ftp's
// home; both homes are set to Root while it runs, so only one inetutils
// instance per account can run at a time.
// InetutilsUser is the account inetutils gets when the Spec names none.
var InetutilsUser = "ftphinet"

func startInetutils(ctx context.Context, spec Spec) (Running, error) {
	bin, err := findBinary("inetutils", "inetutils-ftpd", "usr/sbin/ftpd")
	if err != nil {
		return nil, err
	}
	py, err := python("inetutils", "")
	if err != nil {
		return nil, err
	}
	if err := requireRoot("inetutils"); err != nil {
		return nil, err
	}
	if spec.PasvAddress != "" && spec.PasvAddress != "127.0.0.1" && spec.PasvAddress != NoMasquerade {
		return nil, fmt.Errorf("servers: inetutils ftpd has no passive (masquerade) address option")
	}
	if spec.User == "" {
		// inetutils serves its user's home directory, so the launcher
		// moves that home; with the shared account it would fail while
		// another server (vsftpd) has sessions running as that user, and
		// it would move that server's home too.
		spec.User = InetutilsUser
	}
	return launch(ctx, "inetutils", spec, pythonReady(), func(r *resolved) ([]string, string, bool, error) {
		if _, err := prepareAccounts(r, true); err != nil {
			return nil, "", false, err
		}
		reset, err := setHome(ctx, r.User, r.Root)
		if err != nil {
			return nil, "", false, err
		}
		r.cleanupFuncs = append(r.cleanupFuncs, reset)
		if r.User != "ftp" { // held already otherwise
			reset2, err := setHome(ctx, "ftp", r.Root)
			if err != nil {
				return nil, "", false, err
			}
			r.cleanupFuncs = append(r.cleanupFuncs, reset2)
		}
		d := r.data()
		d.Binary = bin
		script, err := r.renderTo("inetutils.py.tmpl", "launch.py", d)
		if err != nil {
			return nil, "", false, err
		}
		return []string{py, script}, filepath.Join(r.StateDir, "ftpd.stderr"), false, nil
	})
}
