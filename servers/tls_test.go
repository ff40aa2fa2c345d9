package servers_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ftpharness/ftpharness/ftp"
	"github.com/ftpharness/ftpharness/servers"
)

// ftpserverlib with TLS, explicit and implicit: log in through the target
// the server returns (mode and CA included), then STOR and RETR over PROT P
// on PASV and EPSV, each data connection resuming the control session.
func TestFtpserverlibTLS(t *testing.T) {
	for _, mode := range []string{"explicit", "implicit"} {
		t.Run(mode, func(t *testing.T) {
			s := start(t, "ftpserverlib", servers.Spec{TLS: mode})
			cfg := s.Target()
			if cfg.TLS != mode || cfg.TLSCA == "" {
				t.Fatalf("target %+v lacks the TLS mode or the CA", cfg)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			c, err := cfg.Open(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Quit(ctx)
			if cs, ok := c.TLSState(); !ok || cs.PeerCertificates[0].Issuer.CommonName != "ftpharness test CA" {
				t.Fatalf("control TLS %v", ok)
			}
			if _, err := c.Expect(ctx, []int{200}, "TYPE", "I"); err != nil {
				t.Fatal(err)
			}
			want := bytes.Repeat([]byte("ftps payload\n"), 50000)
			for _, epsv := range []bool{false, true} {
				data, _, err := c.OpenPassive(ctx, epsv, ftp.DataOptions{})
				if err != nil {
					t.Fatal(err)
				}
				res := c.Transfer(ctx, data, "STOR tls.bin", bytes.NewReader(want), nil)
				if !res.OK() || res.TLS == nil || !res.TLS.DidResume {
					t.Fatalf("STOR (epsv %v): %v TLS %+v\n%s", epsv, res, res.TLS, c.Transcript())
				}
				data, _, err = c.OpenPassive(ctx, epsv, ftp.DataOptions{})
				if err != nil {
					t.Fatal(err)
				}
				var got bytes.Buffer
				res = c.Transfer(ctx, data, "RETR tls.bin", nil, &got)
				if !res.OK() || !bytes.Equal(got.Bytes(), want) || res.TLS == nil || !res.TLS.DidResume {
					t.Fatalf("RETR (epsv %v): %v (%d bytes) TLS %+v\n%s", epsv, res, got.Len(), res.TLS, c.Transcript())
				}
			}
			if tr := c.Transcript().String(); !strings.Contains(tr, "verified against the given CA") || strings.Contains(tr, cfg.Password) {
				t.Fatalf("transcript:\n%s", tr)
			}
		})
	}
}

// A server without a TLS variant refuses a TLS Spec instead of starting
// in cleartext.
func TestTLSRefusedWhereUnsupported(t *testing.T) {
	_, err := servers.Start(context.Background(), "goftp", servers.Spec{TLS: "explicit"})
	if err == nil || !strings.Contains(err.Error(), "goftp has no TLS variant yet") {
		t.Fatalf("got %v", err)
	}
	if _, err := servers.Start(context.Background(), "ftpserverlib", servers.Spec{TLS: "sometimes"}); err == nil {
		t.Fatal("unknown TLS mode accepted")
	}
}
