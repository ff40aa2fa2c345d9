// Package tlscert makes a throw-away CA and a server certificate for
// 127.0.0.1, ::1 and localhost at start (crypto/x509, ECDSA P-256; no
// openssl needed): PEM files for the Debian servers, a tls.Config for the
// in-process ones, the CA for the harness to trust. The private keys stay
// in memory or in files of mode 0600; nothing here prints them.
package tlscert

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// Validity of the certificates made (from an hour back, for clock skew).
var Validity = 7 * 24 * time.Hour

// Authority is a test CA and one server certificate it signed.
type Authority struct {
	ca      *x509.Certificate
	caKey   *ecdsa.PrivateKey // signs the deliberately bad certificates (bad.go)
	caPEM   []byte
	leaf    tls.Certificate
	leafPEM []byte
	keyPEM  []byte

	once sync.Once
	srv  *tls.Config
}

// New makes a CA named name (default "ftpharness test CA") and a server
// certificate for 127.0.0.1, ::1 and localhost.
func New(name string) (*Authority, error) {
	if name == "" {
		name = "ftpharness test CA"
	}
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	ca, caDER, err := sign(caTemplate(name), nil, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, fmt.Errorf("tlscert: CA: %w", err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	_, leafDER, err := sign(serverTemplate(), ca, &key.PublicKey, caKey)
	if err != nil {
		return nil, fmt.Errorf("tlscert: server certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	return &Authority{
		ca:      ca,
		caKey:   caKey,
		caPEM:   pemBlock("CERTIFICATE", caDER),
		leaf:    tls.Certificate{Certificate: [][]byte{leafDER, caDER}, PrivateKey: key},
		leafPEM: append(pemBlock("CERTIFICATE", leafDER), pemBlock("CERTIFICATE", caDER)...),
		keyPEM:  pemBlock("PRIVATE KEY", keyDER),
	}, nil
}

func caTemplate(name string) *x509.Certificate {
	now := time.Now()
	return &x509.Certificate{
		SerialNumber: serial(), Subject: pkix.Name{CommonName: name, Organization: []string{"ftpharness"}},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(Validity),
		IsCA: true, BasicConstraintsValid: true, MaxPathLenZero: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
}

func serverTemplate() *x509.Certificate {
	now := time.Now()
	return &x509.Certificate{
		SerialNumber: serial(), Subject: pkix.Name{CommonName: "localhost", Organization: []string{"ftpharness"}},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(Validity),
		DNSNames:    []string{"localhost"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		KeyUsage:    x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
}

// sign makes tmpl into a certificate signed by parent (nil: self-signed).
func sign(tmpl, parent *x509.Certificate, pub *ecdsa.PublicKey, priv *ecdsa.PrivateKey) (*x509.Certificate, []byte, error) {
	if parent == nil {
		parent = tmpl
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, priv)
	if err != nil {
		return nil, nil, err
	}
	c, err := x509.ParseCertificate(der)
	return c, der, err
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	return n.Add(n, big.NewInt(1))
}

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

// CAPEM is the CA certificate in PEM (what a client trusts).
func (a *Authority) CAPEM() []byte { return a.caPEM }

// CA is the CA certificate.
func (a *Authority) CA() *x509.Certificate { return a.ca }

// Pool is a certificate pool holding the CA.
func (a *Authority) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(a.ca)
	return p
}

// ServerConfig is the server side: the same *tls.Config every call, so
// session tickets issued on a control connection resume on its data
// connections (Go keeps ticket keys per Config). TLS 1.2 at least.
func (a *Authority) ServerConfig() *tls.Config {
	a.once.Do(func() {
		a.srv = &tls.Config{Certificates: []tls.Certificate{a.leaf}, MinVersion: tls.VersionTLS12}
	})
	return a.srv
}

// Files are the PEM files WriteFiles wrote.
type Files struct {
	CA   string // the CA certificate (what --ftp.tls-ca names)
	Cert string // the server certificate followed by the CA's
	Key  string // the server's private key (PKCS #8, mode 0600)
}

// WriteFiles writes ca.pem, cert.pem and key.pem into dir.
func (a *Authority) WriteFiles(dir string) (Files, error) {
	f := Files{CA: filepath.Join(dir, "ca.pem"), Cert: filepath.Join(dir, "cert.pem"), Key: filepath.Join(dir, "key.pem")}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return f, err
	}
	for _, w := range []struct {
		path string
		b    []byte
		mode os.FileMode
	}{{f.CA, a.caPEM, 0o644}, {f.Cert, a.leafPEM, 0o644}, {f.Key, a.keyPEM, 0o600}} {
		if err := os.WriteFile(w.path, w.b, w.mode); err != nil {
			return f, fmt.Errorf("tlscert: %w", err)
		}
		if err := os.Chmod(w.path, w.mode); err != nil { // the file may have existed
			return f, fmt.Errorf("tlscert: %w", err)
		}
	}
	return f, nil
}
