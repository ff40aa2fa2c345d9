package servers

import (
	"context"
	"crypto/subtle"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	ftpserver "github.com/fclairamb/ftpserverlib"
	"github.com/ftpharness/ftpharness/ftp"
	"github.com/ftpharness/ftpharness/target"
	"github.com/spf13/afero"
	goftp "goftp.io/server/v2"
	goftpfile "goftp.io/server/v2/driver/file"
)

func init() {
	Register("ftpserverlib", startFtpserverlib)
	Register("goftp", startGoftp)
	canTLS("ftpserverlib", ftp.TLSExplicit, ftp.TLSImplicit)
	// goftp's implicit mode (Options.ExplicitFTPS false) is not offered:
	// its sessions count as TLS only after AUTH TLS, so inside an implicit
	// session PBSZ and PROT answer 550 and data connections are cleartext
	// (v2.0.3 session.go upgradeToTLS, cmd.go commandPbsz/commandProt,
	// data_socket.go): no client can protect a transfer.
	canTLS("goftp", ftp.TLSExplicit)
}

// inproc is a Running for a server served by goroutines of this process.
type inproc struct {
	r       *resolved
	logPath string
	logFile *os.File
	stop    func() error
	done    chan struct{}
	once    sync.Once
	err     error
	ready   time.Duration
}

func (s *inproc) Name() string              { return s.r.Name }
func (s *inproc) Target() target.Config     { return s.r.target(true) }
func (s *inproc) PID() int                  { return 0 }
func (s *inproc) LogPath() string           { return s.logPath }
func (s *inproc) ReadyAfter() time.Duration { return s.ready }
func (s *inproc) StateDir() string          { return s.r.StateDir }

func (s *inproc) Stop() error {
	s.once.Do(func() {
		err := s.stop()
		select {
		case <-s.done:
		case <-time.After(StopTimeout):
			err = errors.Join(err, errors.New("server goroutine did not return"))
		}
		if s.logFile != nil {
			s.logFile.Close()
		}
		s.r.release()
		s.err = err
	})
	return s.err
}

// goftpStdLog points the process's standard logger at a goftp server's
// log file until the returned func runs: goftp writes some errors ("Size:
// error(...)" for SIZE of a missing file) with the standard logger rather
// than Options.Logger, and those would land on the terminal of whoever
// runs ftpconform or ftpserve. ftpharness itself never uses the standard
// logger; with several goftp servers at once the last started gets them.
func goftpStdLog(w io.Writer) func() {
	log.SetOutput(w)
	return func() {
		if log.Writer() == w {
			log.SetOutput(os.Stderr)
		}
	}
}

func openLog(r *resolved) (*os.File, string, error) {
	p := filepath.Join(r.StateDir, "server.log")
	f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	return f, p, err
}

// ---- github.com/fclairamb/ftpserverlib ----

type fslDriver struct {
	settings *ftpserver.Settings
	tls      *tls.Config // nil: no TLS
	user     string
	pass     string
	root     string
	anon     bool
}

func (d *fslDriver) GetSettings() (*ftpserver.Settings, error) { return d.settings, nil }
func (d *fslDriver) ClientConnected(cc ftpserver.ClientContext) (string, error) {
	return "ftpharness ftpserverlib ready", nil
}
func (d *fslDriver) ClientDisconnected(cc ftpserver.ClientContext) {}

// GetTLSConfig returns the same Config every time, so data connections
// can resume the control connection's session (Go keeps ticket keys per
// Config).
func (d *fslDriver) GetTLSConfig() (*tls.Config, error) {
	if d.tls == nil {
		return nil, errors.New("TLS not configured")
	}
	return d.tls, nil
}
func (d *fslDriver) AuthUser(cc ftpserver.ClientContext, user, pass string) (ftpserver.ClientDriver, error) {
	fs := afero.NewBasePathFs(afero.NewOsFs(), d.root)
	if d.anon && (user == "anonymous" || user == "ftp") {
		return afero.NewReadOnlyFs(fs), nil
	}
	if eq(user, d.user) && eq(pass, d.pass) {
		return fs, nil
	}
	return nil, errors.New("bad credentials")
}

func eq(a, b string) bool {
	return len(a) == len(b) && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

func startFtpserverlib(ctx context.Context, spec Spec) (Running, error) {
	r, err := resolve("ftpserverlib", spec)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	settings := &ftpserver.Settings{
		ListenAddr:               r.listenAddr(),
		PublicHost:               r.masquerade(),
		PassiveTransferPortRange: ftpserver.PortRange{Start: r.PasvMin, End: r.PasvMax},
		Banner:                   "ftpharness ftpserverlib ready",
	}
	var tlsCfg *tls.Config
	if r.ca != nil {
		tlsCfg = r.ca.ServerConfig()
		switch {
		case r.tlsMode() == ftp.TLSImplicit:
			settings.TLSRequired = ftpserver.ImplicitEncryption
		case r.TLSRequired: // refuses USER and transfers without TLS
			settings.TLSRequired = ftpserver.MandatoryEncryption
		}
	}
	if r.Tweak != nil {
		r.Tweak(settings)
	}
	lf, lp, err := openLog(r)
	if err != nil {
		r.release()
		return nil, err
	}
	srv := ftpserver.NewFtpServer(&fslDriver{settings: settings, tls: tlsCfg, user: r.User, pass: r.Password, root: r.Root, anon: r.Anonymous})
	srv.Logger = slog.New(slog.NewTextHandler(lf, &slog.HandlerOptions{Level: slog.LevelInfo}))
	if err := srv.Listen(); err != nil {
		lf.Close()
		r.release()
		return nil, fmt.Errorf("servers: ftpserverlib listen on %s: %w", r.listenAddr(), err)
	}
	s := &inproc{r: r, logPath: lp, logFile: lf, stop: srv.Stop, done: make(chan struct{})}
	go func() { defer close(s.done); _ = srv.Serve() }()
	s.ready = time.Since(start)
	return s, nil
}

// ---- goftp.io/server/v2 ----

type fileLogger struct{ w io.Writer }

func (l fileLogger) Print(sessionID string, message interface{}) {
	fmt.Fprintf(l.w, "%s %v\n", sessionID, message)
}
func (l fileLogger) Printf(sessionID string, format string, v ...interface{}) {
	fmt.Fprintf(l.w, "%s %s\n", sessionID, fmt.Sprintf(format, v...))
}
func (l fileLogger) PrintCommand(sessionID string, command string, params string) {
	if command == "PASS" {
		params = "****"
	}
	fmt.Fprintf(l.w, "%s > %s %s\n", sessionID, command, params)
}
func (l fileLogger) PrintResponse(sessionID string, code int, message string) {
	fmt.Fprintf(l.w, "%s < %d %s\n", sessionID, code, message)
}

// goftpAuth accepts the configured user (and anonymous when enabled;
// goftp has no per-user permissions, so anonymous can write too).
type goftpAuth struct {
	user, pass string
	anon       bool
}

func (a goftpAuth) CheckPasswd(_ *goftp.Context, user, pass string) (bool, error) {
	if a.anon && (user == "anonymous" || user == "ftp") {
		return true, nil
	}
	return eq(user, a.user) && eq(pass, a.pass), nil
}

func startGoftp(ctx context.Context, spec Spec) (Running, error) {
	r, err := resolve("goftp", spec)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	drv, err := goftpfile.NewDriver(r.Root)
	if err != nil {
		r.release()
		return nil, err
	}
	lf, lp, err := openLog(r)
	if err != nil {
		r.release()
		return nil, err
	}
	opts := &goftp.Options{
		Driver:         drv,
		Auth:           goftpAuth{user: r.User, pass: r.Password, anon: r.Anonymous},
		Perm:           goftp.NewSimplePerm("ftp", "ftp"),
		Name:           "ftpharness goftp",
		Hostname:       r.ListenAddress,
		Port:           r.Port,
		PublicIP:       r.masquerade(),
		PassivePorts:   fmt.Sprintf("%d-%d", r.PasvMin, r.PasvMax),
		WelcomeMessage: "ftpharness goftp ready",
		Logger:         fileLogger{lf},
	}
	if r.ca != nil { // explicit only (see init)
		opts.TLS, opts.ExplicitFTPS, opts.TLSConfig = true, true, r.ca.ServerConfig()
		opts.ForceTLS = r.TLSRequired
	}
	if r.Tweak != nil {
		r.Tweak(opts)
	}
	srv, err := goftp.NewServer(opts)
	if err != nil {
		lf.Close()
		r.release()
		return nil, err
	}
	// NewServer copies every TLS option but ForceTLS (v2.0.3
	// optsWithDefaults), so TLS required is set on the server it made:
	// then every command but AUTH TLS before TLS gets 534.
	srv.ForceTLS = opts.ForceTLS
	s := &inproc{r: r, logPath: lp, logFile: lf, done: make(chan struct{})}
	restoreLog := goftpStdLog(lf)
	if opts.TLS {
		err = s.listenAndServeGoftp(ctx, srv)
	} else {
		err = s.serveGoftp(srv)
	}
	if err != nil {
		restoreLog()
		lf.Close()
		r.release()
		return nil, err
	}
	stop := s.stop
	s.stop = func() error {
		err := stop()
		restoreLog()
		return err
	}
	s.ready = time.Since(start)
	return s, nil
}

// serveGoftp serves srv on a listener of our own, IPv4 or IPv6 as the
// listen address says.
func (s *inproc) serveGoftp(srv *goftp.Server) error {
	network := "tcp4"
	if isIPv6(s.r.ListenAddress) {
		network = "tcp6"
	}
	ln, err := net.Listen(network, s.r.listenAddr())
	if err != nil {
		return fmt.Errorf("servers: goftp listen on %s: %w", s.r.listenAddr(), err)
	}
	s.stop = func() error {
		// Close the listener ourselves: Serve sets its fields in its own
		// goroutine, so Shutdown alone could race with a very early Stop.
		err := ln.Close()
		<-s.done
		_ = srv.Shutdown()
		return err
	}
	go func() { defer close(s.done); _ = srv.Serve(ln) }()
	return nil
}

// listenAndServeGoftp is serveGoftp for FTPS: goftp sets up the TLS config
// that AUTH TLS and the data connections use only in ListenAndServe, not
// in Serve, so it listens itself ("tcp" on Hostname:Port). Its greeting is
// awaited before returning: Serve has stored its listener by then, so a
// Stop's Shutdown finds it and closes it.
func (s *inproc) listenAndServeGoftp(ctx context.Context, srv *goftp.Server) error {
	var serveErr error
	go func() { defer close(s.done); serveErr = srv.ListenAndServe() }()
	if _, err := waitGreeting(ctx, s.r.Addr(), nil, s.done, 10*time.Second); err != nil {
		_ = srv.Shutdown()
		select {
		case <-s.done:
			err = errors.Join(err, serveErr) // serveErr is final once done is closed
		case <-time.After(StopTimeout):
		}
		return fmt.Errorf("servers: goftp with TLS on %s: %w", s.r.listenAddr(), err)
	}
	s.stop = func() error {
		err := srv.Shutdown()
		<-s.done
		return err
	}
	return nil
}
