package servers_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"os"
	"testing"
	"time"

	"github.com/ftpharness/ftpharness/ftp"
	"github.com/ftpharness/ftpharness/servers"
	"github.com/ftpharness/ftpharness/target"
)

// tlsDefault is what a server's FTPS does where servers/ leaves the
// server's own default (servers/README.md says the same).
type tlsDefault struct {
	// reuseRequired: a PROT P data connection that does not resume the
	// control session is refused.
	reuseRequired bool
	// tls11: a client offering TLS 1.0 and 1.1 only gets a session
	// (catalog check TLS-012).
	tls11 bool
}

var tlsDefaults = map[string]tlsDefault{
	"ftpserverlib": {reuseRequired: false, tls11: false},
	"goftp":        {reuseRequired: false, tls11: false},
	"vsftpd":       {reuseRequired: true, tls11: false},
	"proftpd":      {reuseRequired: true, tls11: false},
	"pure-ftpd":    {reuseRequired: false, tls11: false},
	"pyftpdlib":    {reuseRequired: false, tls11: false},
}

// The defaults servers/README.md documents, observed on each server.
func TestTLSDefaults(t *testing.T) {
	for name, want := range tlsDefaults {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cfg := start(t, name, servers.Spec{TLS: "explicit"}).Target()
			if got := freshDataAccepted(t, cfg); got == want.reuseRequired {
				t.Errorf("%s: a data connection without session reuse accepted %v, want %v", name, got, !want.reuseRequired)
			}
			if got := acceptsTLS11(t, cfg); got != want.tls11 {
				t.Errorf("%s: TLS 1.0/1.1 accepted %v, want %v", name, got, want.tls11)
			}
		})
	}
}

// freshDataAccepted runs a LIST under PROT P over a data connection that
// makes a full handshake instead of resuming the control session.
func freshDataAccepted(t *testing.T, cfg target.Config) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := cfg.Open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Quit(ctx)
	data, _, err := c.OpenPassive(ctx, false, ftp.DataOptions{NoResume: true})
	if err != nil {
		t.Fatal(err)
	}
	res := c.Transfer(ctx, data, "LIST", nil, nil)
	t.Logf("LIST without session reuse: %v", res)
	return res.OK()
}

// acceptsTLS11 tries AUTH TLS with a client whose highest version is
// TLS 1.1.
func acceptsTLS11(t *testing.T, cfg target.Config) bool {
	pem, err := os.ReadFile(cfg.TLSCA)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	old := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := ftp.Dial(ctx, cfg.Addr, ftp.WithTLS(ftp.TLSExplicit, old))
	if err != nil {
		t.Logf("TLS 1.0/1.1 client: %v", err)
		return false
	}
	defer c.Close()
	cs, _ := c.TLSState()
	t.Logf("TLS 1.0/1.1 client got %s", tls.VersionName(cs.Version))
	return true
}
