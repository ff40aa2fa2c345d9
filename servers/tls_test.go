package servers_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ftpharness/ftpharness/ftp"
	"github.com/ftpharness/ftpharness/servers"
	"github.com/ftpharness/ftpharness/target"
)

// tlsServers are the servers with a TLS variant and the modes each has.
var tlsServers = map[string][]string{
	"ftpserverlib": {"explicit", "implicit"},
	"goftp":        {"explicit"},
	"vsftpd":       {"explicit", "implicit"},
	"proftpd":      {"explicit", "implicit"},
	"pure-ftpd":    {"explicit"},
	"pyftpdlib":    {"explicit"},
}

// Every TLS variant, in each of its modes, TLS offered and TLS required:
// log in through the target the server returns (mode and CA included),
// then LIST, STOR and RETR under PROT P on PASV and EPSV.
func TestTLSVariants(t *testing.T) {
	for name, modes := range tlsServers {
		if got := servers.TLSModes(name); !slices.Equal(got, modes) {
			t.Errorf("%s: TLSModes %v, want %v", name, got, modes)
		}
		for _, mode := range modes {
			for _, required := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s/%s/required=%v", name, mode, required), func(t *testing.T) {
					t.Parallel()
					s := start(t, name, servers.Spec{TLS: mode, TLSRequired: required})
					cfg := s.Target()
					if cfg.TLS != mode || cfg.TLSCA == "" {
						t.Fatalf("target %+v lacks the TLS mode or the CA", cfg)
					}
					protectedRoundTrip(t, name, cfg)
					if mode == "explicit" {
						cleartextLogin(t, cfg, required)
					}
					// ftpserverlib's implicit mode makes data TLS even
					// after PROT C: nothing to refuse, the LIST would
					// only wait for its deadline
					if required && !(name == "ftpserverlib" && mode == "implicit") {
						clearDataRefused(t, cfg)
					}
				})
			}
		}
	}
}

// protectedRoundTrip logs in over TLS and moves a file both ways and a
// listing under PROT P, on PASV and (where the server has it) EPSV.
func protectedRoundTrip(t *testing.T, name string, cfg target.Config) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
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
	transfer := func(epsv bool, cmd string, up []byte, sink *bytes.Buffer) ftp.TransferResult {
		t.Helper()
		data, _, err := c.OpenPassive(ctx, epsv, ftp.DataOptions{})
		if err != nil {
			t.Fatalf("%s (epsv %v): %v\n%s", cmd, epsv, err, c.Transcript())
		}
		var upload io.Reader
		if up != nil {
			upload = bytes.NewReader(up)
		}
		res := c.Transfer(ctx, data, cmd, upload, sink)
		if !res.OK() || res.TLS == nil {
			t.Fatalf("%s (epsv %v): %v TLS %v\n%s", cmd, epsv, res, res.TLS != nil, c.Transcript())
		}
		return res
	}
	for _, epsv := range []bool{false, true} {
		if epsv && noEPSV[name] {
			continue
		}
		file := fmt.Sprintf("tls-%v.bin", epsv)
		up := transfer(epsv, "STOR "+file, want, nil)
		var got bytes.Buffer
		transfer(epsv, "RETR "+file, nil, &got)
		if !bytes.Equal(got.Bytes(), want) {
			t.Fatalf("RETR %s: %d bytes back, want the %d sent", file, got.Len(), len(want))
		}
		var ls bytes.Buffer
		transfer(epsv, "LIST", nil, &ls)
		if !strings.Contains(ls.String(), file) {
			t.Fatalf("LIST lacks %s:\n%s", file, ls.String())
		}
		t.Logf("%s epsv=%v: data TLS %s, resumed %v", name, epsv, tls.VersionName(up.TLS.Version), up.TLS.DidResume)
	}
	if tr := c.Transcript().String(); !strings.Contains(tr, "verified against the given CA") || strings.Contains(tr, cfg.Password) {
		t.Fatalf("transcript:\n%s", tr)
	}
}

// cleartextLogin logs in without AUTH TLS: refused by a server that
// requires TLS, accepted by one that only offers it.
func cleartextLogin(t *testing.T, cfg target.Config, required bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	plain := cfg
	plain.TLS, plain.TLSCA = "off", ""
	c, err := plain.Open(ctx)
	if err == nil {
		defer c.Quit(ctx)
	}
	switch {
	case required && err == nil:
		t.Fatalf("TLS required, yet a cleartext login was accepted")
	case !required && err != nil:
		t.Fatalf("TLS optional, yet a cleartext login failed: %v", err)
	}
	t.Logf("cleartext login (TLS required %v): %v", required, err)
}

// clearDataRefused asks for cleartext data (PROT C) on a TLS session of a
// server that requires TLS: PROT C, the passive command or the transfer
// must be refused.
func clearDataRefused(t *testing.T, cfg target.Config) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := cfg.Open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Quit(ctx)
	if err := c.Protect(ctx, "C"); err != nil {
		t.Logf("PROT C refused: %v", err)
		return
	}
	data, _, err := c.OpenPassive(ctx, false, ftp.DataOptions{})
	if err != nil {
		t.Logf("PASV under PROT C refused: %v", err)
		return
	}
	res := c.Transfer(ctx, data, "LIST", nil, nil)
	if res.OK() {
		t.Fatalf("TLS required, yet a cleartext LIST went through\n%s", c.Transcript())
	}
	t.Logf("LIST under PROT C refused: %v", res)
}

// A server without a TLS variant, or without the mode asked, refuses a TLS
// Spec instead of starting in cleartext.
func TestTLSRefusedWhereUnsupported(t *testing.T) {
	for _, c := range []struct {
		name string
		spec servers.Spec
		want string
	}{
		{"goftp", servers.Spec{TLS: "implicit"}, "goftp has no implicit FTPS, only explicit"},
		{"twisted", servers.Spec{TLS: "explicit"}, "twisted has no TLS variant"},
		{"inetutils", servers.Spec{TLS: "explicit"}, "inetutils has no TLS variant"},
		{"pure-ftpd", servers.Spec{TLS: "implicit"}, "pure-ftpd has no implicit FTPS, only explicit"},
		{"pyftpdlib", servers.Spec{TLS: "implicit"}, "pyftpdlib has no implicit FTPS, only explicit"},
		{"ftpserverlib", servers.Spec{TLS: "sometimes"}, "is not off, explicit or implicit"},
		{"vsftpd", servers.Spec{TLSRequired: true}, "TLSRequired without a TLS mode"},
	} {
		_, err := servers.Start(context.Background(), c.name, c.spec)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s %+v: got %v, want %q", c.name, c.spec, err, c.want)
		}
	}
}
