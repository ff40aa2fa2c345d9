package tlscert

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"fmt"
	"time"
)

// Bad certificates, for proving that a client's certificate check fires
// (the fault proxy serves them): each is wrong in exactly one way.
const (
	// SelfSigned is a certificate for the right names that no CA signed.
	SelfSigned = "self-signed"
	// WrongName is signed by the CA, for wrong.invalid only.
	WrongName = "wrong-name"
	// Expired is signed by the CA for the right names, expired a day ago.
	Expired = "expired"
)

// BadKinds lists the kinds BadCertificate makes.
var BadKinds = []string{SelfSigned, WrongName, Expired}

// BadCertificate makes a server certificate that is wrong in the way kind
// names (SelfSigned, WrongName, Expired); the rest is as the good one.
func (a *Authority) BadCertificate(kind string) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := serverTemplate()
	parent, signer := a.ca, a.caKey
	switch kind {
	case SelfSigned:
		parent, signer = nil, key
	case WrongName:
		tmpl.Subject.CommonName = "wrong.invalid"
		tmpl.DNSNames, tmpl.IPAddresses = []string{"wrong.invalid"}, nil
	case Expired:
		now := time.Now()
		tmpl.NotBefore, tmpl.NotAfter = now.Add(-30*24*time.Hour), now.Add(-24*time.Hour)
	default:
		return tls.Certificate{}, fmt.Errorf("tlscert: no bad certificate of kind %q (known: %v)", kind, BadKinds)
	}
	_, der, err := sign(tmpl, parent, &key.PublicKey, signer)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("tlscert: %s certificate: %w", kind, err)
	}
	chain := [][]byte{der}
	if parent != nil {
		chain = append(chain, a.ca.Raw)
	}
	return tls.Certificate{Certificate: chain, PrivateKey: key}, nil
}
