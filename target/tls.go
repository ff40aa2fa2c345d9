package target

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"

	"github.com/ftpharness/ftpharness/ftp"
)

// maxCAFile bounds --ftp.tls-ca (a CA bundle is some hundred kilobytes).
const maxCAFile = 4 << 20

// TLSMode is the FTPS mode of c (TLSOff for an unknown one: Validate
// refuses those).
func (c Config) TLSMode() ftp.TLSMode {
	m, _ := ftp.ParseTLSMode(c.TLS)
	return m
}

// FTPS reports whether the target speaks FTPS.
func (c Config) FTPS() bool { return c.TLSMode() != ftp.TLSOff }

func (c *Config) validateTLS() error {
	if _, ok := ftp.ParseTLSMode(c.TLS); !ok {
		return fmt.Errorf("--ftp.tls: %q is not off, explicit or implicit", c.TLS)
	}
	if !c.FTPS() && (c.TLSCA != "" || c.TLSInsecure) {
		return errors.New("--ftp.tls-ca/--ftp.tls-insecure: TLS is off (set --ftp.tls=explicit|implicit or use an ftpes:// or ftps:// URL)")
	}
	if c.TLSCA != "" && c.TLSInsecure {
		return errors.New("--ftp.tls-insecure: verification is off, so --ftp.tls-ca would not be used; give one of them")
	}
	if c.TLSCA != "" {
		if _, err := loadCA(c.TLSCA); err != nil {
			return fmt.Errorf("--ftp.tls-ca: %v", err)
		}
	}
	return nil
}

// loadCA reads a PEM file of CA certificates.
func loadCA(path string) (*x509.CertPool, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b := make([]byte, maxCAFile+1)
	n, _ := f.Read(b)
	if n > maxCAFile {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, maxCAFile)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b[:n]) {
		return nil, fmt.Errorf("%s: no PEM certificate in it", path)
	}
	return pool, nil
}

// TLSConfig is the client TLS configuration for c: nil when TLS is off;
// else verification against TLSCA (or the system pool), or none with
// TLSInsecure. It reads TLSCA each call: call it once per run and reuse.
func (c Config) TLSConfig() (*tls.Config, error) {
	if !c.FTPS() {
		return nil, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: c.TLSInsecure}
	if c.TLSCA != "" {
		pool, err := loadCA(c.TLSCA)
		if err != nil {
			return nil, fmt.Errorf("--ftp.tls-ca: %v", err)
		}
		cfg.RootCAs = pool
	}
	return cfg, nil
}

// DialOptions are the ftp options c asks for: its timeout and, for FTPS,
// the mode and TLS configuration. Callers add their own.
func (c Config) DialOptions() ([]ftp.Option, error) {
	opts := []ftp.Option{ftp.WithTimeout(c.Timeout)}
	cfg, err := c.TLSConfig()
	if err != nil || cfg == nil {
		return opts, err
	}
	return append(opts, ftp.WithTLS(c.TLSMode(), cfg)), nil
}

// TLSNote says how the target's TLS is set up, for reports: "" when off.
func (c Config) TLSNote() string {
	switch {
	case !c.FTPS():
		return ""
	case c.TLSInsecure:
		return fmt.Sprintf("FTPS %s; server certificate NOT verified (--ftp.tls-insecure)", c.TLS)
	case c.TLSCA != "":
		return fmt.Sprintf("FTPS %s; server certificate verified against %s", c.TLS, c.TLSCA)
	}
	return fmt.Sprintf("FTPS %s; server certificate verified against the system pool", c.TLS)
}

// Open dials c, logs in and, for FTPS, sets PBSZ 0 and PROT P (as curl,
// lftp and FileZilla do, also in implicit mode): a session ready for
// commands and protected transfers. opts come after c's own.
func (c Config) Open(ctx context.Context, opts ...ftp.Option) (*ftp.Conn, error) {
	base, err := c.DialOptions()
	if err != nil {
		return nil, err
	}
	conn, err := ftp.Dial(ctx, c.Addr, append(base, opts...)...)
	if err != nil {
		return nil, err
	}
	if err := conn.Login(ctx, c.User, c.Password); err != nil {
		conn.Close()
		return nil, err
	}
	if err := c.ProtectData(ctx, conn); err != nil {
		conn.Close()
		return nil, err
	}
	return conn, nil
}

// ProtectData is what a logged-in FTPS session owes before transfers:
// PBSZ 0 and PROT P (RFC 4217 §9), also in implicit mode, where servers
// differ on the default protection. Nothing for a plaintext target.
func (c Config) ProtectData(ctx context.Context, conn *ftp.Conn) error {
	if !c.FTPS() {
		return nil
	}
	return conn.Protect(ctx, "P")
}
