package target

import (
	"bufio"
	"context"
	"crypto/tls"
	"flag"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ftpharness/ftpharness/ftp"
	"github.com/ftpharness/ftpharness/ftp/tlscert"
)

func TestURLSchemes(t *testing.T) {
	for s, want := range map[string]FTPURL{
		"ftpes://u:p@127.0.0.1":    {Scheme: "ftpes", TLS: "explicit", Addr: "127.0.0.1:21"},
		"ftps://u:p@127.0.0.1":     {Scheme: "ftps", TLS: "implicit", Addr: "127.0.0.1:990"},
		"FTPS://u:p@[::1]:2990":    {Scheme: "ftps", TLS: "implicit", Addr: "[::1]:2990"},
		"ftp://u:p@127.0.0.1:2121": {Scheme: "ftp", TLS: "off", Addr: "127.0.0.1:2121"},
	} {
		u, err := ParseURL(s)
		if err != nil || u.Scheme != want.Scheme || u.TLS != want.TLS || u.Addr != want.Addr || u.User != "u" || u.Password != "p" {
			t.Errorf("%s: %+v %v", s, u, err)
		}
	}
	for _, bad := range []string{"sftp://u:s3cret@127.0.0.1", "ftpse://h", "https://h"} {
		if _, err := ParseURL(bad); err == nil || strings.Contains(err.Error(), "s3cret") {
			t.Errorf("%s: %v", bad, err)
		}
	}
}

// caFile writes a test CA's certificate and returns its path.
func caFile(t *testing.T) (*tlscert.Authority, string) {
	t.Helper()
	a, err := tlscert.New("")
	if err != nil {
		t.Fatal(err)
	}
	f, err := a.WriteFiles(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return a, f.CA
}

func resolveArgs(t *testing.T, args ...string) (Config, error) {
	t.Helper()
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	f := RegisterFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return f.Resolve()
}

func TestTLSFromFlagsEnvAndProfile(t *testing.T) {
	_, ca := caFile(t)
	cfg, err := resolveArgs(t, "--ftp.url=ftpes://u:p@127.0.0.1:2121", "--ftp.tls-ca="+ca)
	if err != nil || cfg.TLSMode() != ftp.TLSExplicit || cfg.TLSCA != ca || cfg.Addr != "127.0.0.1:2121" {
		t.Fatalf("url + flag: %+v %v", cfg, err)
	}
	tc, err := cfg.TLSConfig()
	if err != nil || tc.RootCAs == nil || tc.InsecureSkipVerify {
		t.Fatalf("TLSConfig %+v %v", tc, err)
	}
	// a bare --ftp.tls-insecure is true
	cfg, err = resolveArgs(t, "--ftp.url=ftps://u:p@127.0.0.1", "--ftp.tls-insecure")
	if err != nil || cfg.TLSMode() != ftp.TLSImplicit || !cfg.TLSInsecure || cfg.Addr != "127.0.0.1:990" {
		t.Fatalf("bare insecure: %+v %v", cfg, err)
	}
	if !strings.Contains(cfg.TLSNote(), "NOT verified") {
		t.Errorf("note %q", cfg.TLSNote())
	}
	t.Setenv("FTPH_TLS", "implicit")
	t.Setenv("FTPH_TLS_INSECURE", "1")
	cfg, err = resolveArgs(t, "--ftp.addr=127.0.0.1:990", "--ftp.user=u")
	if err != nil || cfg.TLS != "implicit" || !cfg.TLSInsecure {
		t.Fatalf("env: %+v %v", cfg, err)
	}
	t.Setenv("FTPH_TLS", "")
	t.Setenv("FTPH_TLS_INSECURE", "")
	prof := filepath.Join(t.TempDir(), "p.yaml")
	os.WriteFile(prof, []byte("addr: 127.0.0.1:21\nuser: u\ntls: explicit\ntls-ca: "+ca+"\n"), 0o600)
	cfg, err = resolveArgs(t, "--ftp.profile="+prof)
	if err != nil || cfg.TLS != "explicit" || cfg.TLSCA != ca {
		t.Fatalf("profile: %+v %v", cfg, err)
	}
	// WriteProfile keeps them, and the declared features (a server started
	// with TLS required declares tls-required in its profile)
	cfg.Features = []string{"tls-required"}
	out := filepath.Join(t.TempDir(), "w.yaml")
	if err := cfg.WriteProfile(out); err != nil {
		t.Fatal(err)
	}
	back, err := resolveArgs(t, "--ftp.profile="+out)
	if err != nil || back.TLS != "explicit" || back.TLSCA != ca || !back.Has("tls-required") {
		t.Fatalf("profile round trip: %+v %v", back, err)
	}
}

func TestTLSValidationNamesTheFlag(t *testing.T) {
	_, ca := caFile(t)
	notPEM := filepath.Join(t.TempDir(), "x.pem")
	os.WriteFile(notPEM, []byte("hello"), 0o644)
	cases := map[string][]string{
		"--ftp.tls":          {"--ftp.addr=127.0.0.1:21", "--ftp.tls=maybe"},
		"TLS is off":         {"--ftp.addr=127.0.0.1:21", "--ftp.tls-ca=" + ca},
		"no PEM certificate": {"--ftp.addr=127.0.0.1:21", "--ftp.tls=explicit", "--ftp.tls-ca=" + notPEM},
		"--ftp.tls-ca":       {"--ftp.addr=127.0.0.1:21", "--ftp.tls=explicit", "--ftp.tls-ca=/nonexistent.pem"},
		"give one of them":   {"--ftp.addr=127.0.0.1:21", "--ftp.tls=explicit", "--ftp.tls-ca=" + ca, "--ftp.tls-insecure"},
		"implicit FTPS but":  {"--ftp.url=ftps://u:p@127.0.0.1", "--ftp.tls=explicit"},
		"--ftp.tls-insecure": {"--ftp.addr=127.0.0.1:21", "--ftp.tls=explicit", "--ftp.tls-insecure=perhaps"},
	}
	for want, args := range cases {
		_, err := resolveArgs(t, append(args, "--ftp.user=u")...)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%v: error %v does not say %q", args, err, want)
		}
	}
}

// tlsFTP serves explicit FTPS with a's certificate: AUTH, USER, PASS,
// PBSZ, PROT, QUIT.
func tlsFTP(t *testing.T, a *tlscert.Authority, authReply string) string {
	return serveOnce(t, func(c net.Conn, br *bufio.Reader) {
		var w io.Writer = c
		io.WriteString(w, "220 ready\r\n")
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				return
			}
			verb, _, _ := strings.Cut(strings.TrimSpace(line), " ")
			switch verb {
			case "AUTH":
				io.WriteString(w, authReply+"\r\n")
				if !strings.HasPrefix(authReply, "234") {
					continue
				}
				tc := tls.Server(c, a.ServerConfig())
				w, br = tc, bufio.NewReader(tc)
			case "USER":
				io.WriteString(w, "331 password\r\n")
			case "PASS":
				io.WriteString(w, "230 in\r\n")
			case "PBSZ", "PROT":
				io.WriteString(w, "200 ok\r\n")
			default:
				io.WriteString(w, "221 bye\r\n")
				return
			}
		}
	})
}

func TestProbeAndOpenOverTLS(t *testing.T) {
	a, ca := caFile(t)
	addr := tlsFTP(t, a, "234 go")
	cfg := probeCfg(addr, 5*time.Second)
	cfg.TLS, cfg.TLSCA = "explicit", ca
	if err := Probe(cfg); err != nil {
		t.Fatal(err)
	}
	conn, err := cfg.Open(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, ok := conn.TLSState(); !ok || !conn.DataProtected() {
		t.Fatalf("Open: TLS %v, PROT P %v\n%s", ok, conn.DataProtected(), conn.Transcript())
	}
	// no CA given: the system pool does not know the test CA
	cfg.TLSCA = ""
	err = Probe(cfg)
	if err == nil || !strings.Contains(err.Error(), "TLS handshake with "+addr) || !strings.Contains(err.Error(), `issued by "CN=ftpharness test CA,O=ftpharness" failed verification against the system pool`) {
		t.Fatalf("want a verification failure naming the CA, got %v", err)
	}
}

func TestProbeAuthRefused(t *testing.T) {
	a, ca := caFile(t)
	cfg := probeCfg(tlsFTP(t, a, "502 AUTH not implemented"), 5*time.Second)
	cfg.TLS, cfg.TLSCA = "explicit", ca
	err := Probe(cfg)
	if err == nil || !strings.Contains(err.Error(), "refused AUTH TLS: 502 AUTH not implemented") {
		t.Fatalf("got %v", err)
	}
}
