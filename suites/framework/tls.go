package framework

// FTPS: every control connection the suites open follows the target's TLS
// mode (target.Config.DialOptions), and every logged-in session protects
// its data connections as an FTPS client does (target.Config.ProtectData).
// The TLS configuration is built once per configuration: TLSConfig reads
// the CA file on each call.

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"sync"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/ftpharness/ftpharness/ftp"
)

var (
	tlsMu   sync.Mutex
	tlsDone bool
	tlsCfg  *tls.Config // nil for a plaintext target
	tlsErr  error
)

// resetTLS forgets the TLS configuration built for a previous
// configuration (SetConfig calls it).
func resetTLS() {
	tlsMu.Lock()
	tlsDone, tlsCfg, tlsErr = false, nil, nil
	tlsMu.Unlock()
}

// targetTLS is the target's TLS configuration, built once (nil when the
// target is plaintext). ftp.WithTLS clones it for each connection.
func targetTLS() (*tls.Config, error) {
	tlsMu.Lock()
	defer tlsMu.Unlock()
	if !tlsDone {
		tlsCfg, tlsErr = Config().TLSConfig()
		tlsDone = true
	}
	return tlsCfg, tlsErr
}

// targetOptions are the target's own dial options, as
// target.Config.DialOptions has them (timeout and, for an FTPS target,
// its TLS mode and configuration), followed by lenient reply parsing:
// REPLY-001 grades formatting from Conn.Problems, so a formatting fault
// does not fail unrelated checks; every passive port used is noted
// (ports_used.go).
func targetOptions() ([]ftp.Option, error) {
	c := Config()
	opts := []ftp.Option{ftp.WithTimeout(c.Timeout), ftp.WithStrictReplies(false), ftp.WithPortObserver(notePortUse)}
	cfg, err := targetTLS()
	if cfg != nil {
		opts = append(opts, ftp.WithTLS(c.TLSMode(), cfg))
	}
	return opts, err
}

// dialTarget opens a control connection to the target with its options
// and then opts (later options win).
func dialTarget(ctx context.Context, opts ...ftp.Option) (*ftp.Conn, error) {
	base, err := targetOptions()
	if err != nil {
		return nil, err
	}
	return ftp.Dial(ctx, Config().Addr, append(base, opts...)...)
}

// FTPS reports whether the target was declared FTPS (ftpes://, ftps:// or
// --ftp.tls).
func FTPS() bool { return Config().FTPS() }

// RequireFTPS skips a check that needs TLS when the target is plaintext:
// the mode is declared, never guessed from a probe that could be wrong.
func RequireFTPS() {
	if !FTPS() {
		Skip("target is plaintext ftp://; give ftpes:// or ftps:// to run the FTPS checks")
	}
}

// RequireExplicitFTPS skips a check about AUTH TLS on an implicit target
// (TLS before the greeting: there is no AUTH to send) or a plaintext one.
func RequireExplicitFTPS() {
	RequireFTPS()
	if Config().TLSMode() != ftp.TLSExplicit {
		Skip("target is implicit FTPS (ftps://: TLS before the greeting): the check is about AUTH TLS on an explicit (ftpes://) target")
	}
}

// DialPlain opens a cleartext control connection to the target's address
// (no TLS whatever the mode: for the FTPS checks that send AUTH themselves
// or look at what a server does before TLS). On an implicit target the
// server expects a ClientHello first, so callers require explicit mode.
func DialPlain(ctx context.Context, opts ...ftp.Option) *Session {
	GinkgoHelper()
	cfg, err := targetTLS()
	if err != nil || cfg == nil {
		Fail(fmt.Sprintf("a cleartext session for AUTH TLS needs the target's TLS configuration (%v)", err))
	}
	return Dial(ctx, append([]ftp.Option{ftp.WithTLS(ftp.TLSOff, cfg)}, opts...)...)
}

// TLSClientConfig is the target's TLS configuration (a fresh copy a check
// may change, e.g. to offer other protocol versions).
func TLSClientConfig() *tls.Config {
	GinkgoHelper()
	cfg, err := targetTLS()
	if err != nil || cfg == nil {
		Fail(fmt.Sprintf("the target's TLS configuration: %v (is the target FTPS?)", err))
	}
	return cfg.Clone()
}

// SecureData is what MustLogin does after the login, for a check that
// logs in by hand: on an FTPS target PBSZ 0 and PROT P, so its transfers
// are protected whatever the server's default (servers differ on it in
// implicit mode: ftpserverlib protects data from the start, vsftpd not
// until PROT P). Nothing on a plaintext target.
func (s *Session) SecureData(ctx context.Context) {
	GinkgoHelper()
	octx, cancel := Ctx(ctx)
	defer cancel()
	err := Config().ProtectData(octx, s.Conn)
	blockOnProtectRefusal(err)
	Expect(err).To(Succeed(), "PBSZ 0 and PROT P after login (RFC 4217 §9)")
}

// ProtectJudge judges PBSZ 0 and PROT P after login (RFC 4217 §9): a
// session whose data connections cannot be protected blocks the checks
// that need one.
const ProtectJudge = "TLS-004"

func blockOnProtectRefusal(err error) {
	GinkgoHelper()
	var re *ftp.ReplyError
	if errors.As(err, &re) {
		Blocked(ProtectJudge, fmt.Sprintf("after login %s answered %q: data connections cannot be protected (RFC 4217 §9 wants 200)", re.Cmd, re.Reply.Raw))
	}
}

// ProtectedData wraps nc, a data connection the harness dialled or
// accepted itself, as the TLS client side when s has PROT P in effect (as
// ftp.Conn.DialData and AcceptData do): the handshake runs on first use,
// so a check reading what a server sends over it reads what the server
// would serve a real FTPS client, not a server waiting for a ClientHello.
func (s *Session) ProtectedData(nc net.Conn) net.Conn {
	if !s.DataProtected() {
		return nc
	}
	return s.WrapData(nc, ftp.DataOptions{})
}

// DialBeforeAuth opens a session for commands that belong before AUTH
// TLS (RFC 7151 HOST, so the server can pick the virtual host's
// certificate; ProFTPD refuses HOST after AUTH with 503): cleartext on an
// explicit FTPS target, where SecureControl then sends AUTH TLS; as Dial
// otherwise.
func DialBeforeAuth(ctx context.Context) *Session {
	GinkgoHelper()
	if Config().TLSMode() == ftp.TLSExplicit {
		return DialPlain(ctx)
	}
	return Dial(ctx)
}

// SecureControl sends AUTH TLS and runs the handshake on a session
// DialBeforeAuth left cleartext; nothing when the control connection is
// already TLS or the target is plaintext.
func (s *Session) SecureControl(ctx context.Context) error {
	if _, on := s.TLSState(); on || Config().TLSMode() != ftp.TLSExplicit {
		return nil
	}
	octx, cancel := Ctx(ctx)
	defer cancel()
	_, err := s.AuthTLS(octx)
	return err
}
