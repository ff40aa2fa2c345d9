package suites

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"strings"
)

// What TLS-013 reports about a server certificate: subject, issuer, names,
// validity; and, when the run did not verify it (--ftp.tls-insecure),
// whether a client that does would accept it.

func ftpsCertFacts(c *x509.Certificate) string {
	names := append([]string(nil), c.DNSNames...)
	for _, ip := range c.IPAddresses {
		names = append(names, ip.String())
	}
	self := ""
	if c.Subject.String() == c.Issuer.String() {
		self = ", self-signed"
	}
	return fmt.Sprintf("subject %q, issuer %q%s, names [%s], valid %s to %s",
		c.Subject.String(), c.Issuer.String(), self, strings.Join(names, " "),
		c.NotBefore.UTC().Format("2006-01-02"), c.NotAfter.UTC().Format("2006-01-02"))
}

// ftpsVerify checks the chain the server sent against the system pool for
// host (a name or an IP address, RFC 6125 / RFC 5280), as a client that
// verifies would.
func ftpsVerify(cs tls.ConnectionState, host string) error {
	if len(cs.PeerCertificates) == 0 {
		return fmt.Errorf("no certificate")
	}
	inter := x509.NewCertPool()
	for _, c := range cs.PeerCertificates[1:] {
		inter.AddCert(c)
	}
	_, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{DNSName: host, Intermediates: inter})
	return err
}
