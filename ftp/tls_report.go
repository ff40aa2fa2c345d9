package ftp

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"strings"
)

// What the transcript says about a TLS connection: version, cipher suite,
// resumption, the server certificate and how it was checked. Nothing in a
// ConnectionState is secret (no keys), and none of it is printed anyway.

func describeTLS(cs tls.ConnectionState, cfg *tls.Config) string {
	return fmt.Sprintf("%s, %s, %s, %s", tls.VersionName(cs.Version), tls.CipherSuiteName(cs.CipherSuite), resumption(cs), certificate(cs, cfg))
}

func describeDataTLS(cs tls.ConnectionState, cfg *tls.Config) string {
	if cs.DidResume {
		return fmt.Sprintf("%s, %s, resumed the control session", tls.VersionName(cs.Version), tls.CipherSuiteName(cs.CipherSuite))
	}
	return fmt.Sprintf("%s, %s, full handshake (not resumed), %s", tls.VersionName(cs.Version), tls.CipherSuiteName(cs.CipherSuite), certificate(cs, cfg))
}

func resumption(cs tls.ConnectionState) string {
	if cs.DidResume {
		return "resumed session"
	}
	return "new session"
}

// certificate names the leaf's subject and issuer and what it was checked
// against.
func certificate(cs tls.ConnectionState, cfg *tls.Config) string {
	if len(cs.PeerCertificates) == 0 {
		return "no server certificate"
	}
	leaf := cs.PeerCertificates[0]
	return fmt.Sprintf("server certificate %q issued by %q, %s", leaf.Subject.String(), leaf.Issuer.String(), Verification(cfg))
}

// Verification says how cfg checks a server certificate.
func Verification(cfg *tls.Config) string {
	switch {
	case cfg.InsecureSkipVerify:
		return "NOT verified (insecure)"
	case cfg.RootCAs != nil:
		return "verified against the given CA"
	}
	return "verified against the system pool"
}

// explainTLS turns a handshake error into one that says what went wrong
// in FTP terms; the original stays wrapped.
func explainTLS(err error, cfg *tls.Config) error {
	var cv *tls.CertificateVerificationError
	var rh tls.RecordHeaderError
	switch {
	case errors.As(err, &cv):
		return fmt.Errorf("server certificate %s failed verification against %s: %w", chainNames(cv.UnverifiedCertificates), trustName(cfg), err)
	case errors.As(err, &rh):
		return fmt.Errorf("the server answered the ClientHello with something that is not TLS (%q): %w", Printable(string(rh.RecordHeader[:])), err)
	case IsTimeout(err):
		return fmt.Errorf("no TLS handshake from the server before the deadline (it never answered the ClientHello): %w", err)
	case errors.Is(err, io.EOF), strings.Contains(err.Error(), "connection reset"):
		return fmt.Errorf("the server closed the connection during the TLS handshake: %w", err)
	}
	return err
}

func chainNames(certs []*x509.Certificate) string {
	if len(certs) == 0 {
		return "(none sent)"
	}
	leaf := certs[0]
	return fmt.Sprintf("%q issued by %q", leaf.Subject.String(), leaf.Issuer.String())
}

func trustName(cfg *tls.Config) string {
	if cfg.RootCAs != nil {
		return "the given CA"
	}
	return "the system pool"
}
