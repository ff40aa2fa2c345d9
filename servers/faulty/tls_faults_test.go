package faulty

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ftpharness/ftpharness/ftp"
	"github.com/ftpharness/ftpharness/ftp/tlscert"
	"github.com/ftpharness/ftpharness/servers"
	"github.com/ftpharness/ftpharness/target"
)

// The FTPS faults, each against ftpserverlib v0.32.3 with explicit TLS
// behind the proxy, seen with the project's client; where ftpserverlib
// itself would pass, the clean proxy is shown to pass too.

func tlsFault(t *testing.T, name string, opts ...Option) (*Proxy, target.Config) {
	t.Helper()
	var all []Option
	if name != "" {
		all = append(all, WithFaults(MustLookup(name)))
	}
	return proxiedTLS(t, "ftpserverlib", "explicit", append(all, opts...)...)
}

// tlsDial dials tg in mode with its CA, adjusted by tweak (nil: as is).
func tlsDial(ctx context.Context, tg target.Config, mode ftp.TLSMode, tweak func(*tls.Config)) (*ftp.Conn, error) {
	cfg, err := tg.TLSConfig()
	if err != nil {
		return nil, err
	}
	if tweak != nil {
		tweak(cfg)
	}
	return ftp.Dial(ctx, tg.Addr, ftp.WithTimeout(5*time.Second), ftp.WithTLS(mode, cfg))
}

// listWith runs one PASV LIST with the data options given, under a
// deadline of its own.
func listWith(t *testing.T, c *ftp.Conn, opts ftp.DataOptions, within time.Duration) (ftp.TransferResult, []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	nc, _, err := c.OpenPassive(ctx, false, opts)
	if err != nil {
		t.Fatalf("PASV: %v\n%s", err, c.Transcript())
	}
	var sink bytes.Buffer
	res := c.Transfer(ctx, nc, "LIST", nil, &sink)
	return res, sink.Bytes()
}

// tls-data-cleartext: PROT P answered 200, the data goes in cleartext
// (a STOR and a RETR without TLS work); the client's TLS handshake on a
// data connection fails.
func TestTLSDataCleartext(t *testing.T) {
	_, tg := tlsFault(t, "tls-data-cleartext")
	c := openTLS(t, tg)
	data := payload(100000)
	clear := ftp.DataOptions{Clear: true}
	nc, _, err := c.OpenPassive(tctx(t), false, clear)
	if err != nil {
		t.Fatal(err)
	}
	if res := c.Transfer(tctx(t), nc, "STOR "+fname(t), bytes.NewReader(data), nil); !res.OK() || res.TLS != nil {
		t.Fatalf("cleartext STOR under PROT P: %s\n%s", res, c.Transcript())
	}
	nc, _, err = c.OpenPassive(tctx(t), false, clear)
	if err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	if res := c.Transfer(tctx(t), nc, "RETR "+fname(t), nil, &got); !res.OK() || !bytes.Equal(got.Bytes(), data) {
		t.Fatalf("cleartext RETR under PROT P: %s (%d bytes)\n%s", res, got.Len(), c.Transcript())
	}
	c2 := openTLS(t, tg)
	if res, _ := listWith(t, c2, ftp.DataOptions{}, 10*time.Second); res.OK() || res.TLS != nil {
		t.Fatalf("a TLS data connection worked: %s\n%s", res, c2.Transcript())
	}
}

// tls-data-fresh-hang: a data TLS session that does not resume the
// control one gets nothing and no reply; a resumed one works. Without the
// fault ftpserverlib takes both.
func TestTLSDataFreshHang(t *testing.T) {
	var cleanLog logBuf
	_, clean := tlsFault(t, "", WithLogf(cleanLog.logf))
	c := openTLS(t, clean)
	if res, _ := listWith(t, c, ftp.DataOptions{NoResume: true}, 10*time.Second); !res.OK() || res.TLS == nil || res.TLS.DidResume {
		t.Fatalf("clean proxy, fresh data session: %s\n%s", res, c.Transcript())
	}
	// the proxy offers the server a fresh session too (a server requiring
	// reuse refuses it as it would the client's)
	if !strings.Contains(cleanLog.String(), "client leg resumed false, server leg resumed false") {
		t.Fatalf("log:\n%s", cleanLog.String())
	}
	var log logBuf
	_, tg := tlsFault(t, "tls-data-fresh-hang", WithLogf(log.logf))
	c = openTLS(t, tg)
	if res, _ := listWith(t, c, ftp.DataOptions{}, 10*time.Second); !res.OK() || !res.TLS.DidResume {
		t.Fatalf("resumed data session: %s\n%s", res, c.Transcript())
	}
	start := time.Now()
	res, _ := listWith(t, c, ftp.DataOptions{NoResume: true}, 3*time.Second)
	if res.OK() || res.Final().Code/100 > 1 || time.Since(start) < 2*time.Second {
		t.Fatalf("fresh data session: %s after %v\n%s", res, time.Since(start), c.Transcript())
	}
	if !strings.Contains(log.String(), "not resumed: holding it") {
		t.Fatalf("log:\n%s", log.String())
	}
}

// tls-auth-no-handshake: 234, then the ClientHello is answered in
// cleartext.
func TestTLSAuthNoHandshake(t *testing.T) {
	_, tg := tlsFault(t, "tls-auth-no-handshake")
	_, err := tlsDial(tctx(t), tg, ftp.TLSExplicit, nil)
	var rh tls.RecordHeaderError
	if !errors.As(err, &rh) || !strings.Contains(err.Error(), "not TLS") {
		t.Fatalf("explicit dial: %v", err)
	}
	// the session goes on in cleartext: AUTH, garbage, 500, NOOP
	c, err := tlsDial(tctx(t), tg, ftp.TLSOff, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Expect(tctx(t), []int{234}, "AUTH", "TLS"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Expect(tctx(t), []int{500}, "\x16\x03\x01hello"); err != nil {
		t.Fatalf("after 234: %v\n%s", err, c.Transcript())
	}
	if _, err := c.Expect(tctx(t), []int{200}, "NOOP"); err != nil {
		t.Fatalf("NOOP: %v\n%s", err, c.Transcript())
	}
}

// tls-pbsz-order-ignored: PBSZ in cleartext is answered 200 by the proxy;
// PROT without PBSZ reaches the server behind a PBSZ 0 of the proxy's.
func TestTLSPBSZOrderIgnored(t *testing.T) {
	var log logBuf
	_, tg := tlsFault(t, "tls-pbsz-order-ignored", WithLogf(log.logf))
	c, err := tlsDial(tctx(t), tg, ftp.TLSOff, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if r, err := c.Expect(tctx(t), []int{200}, "PBSZ", "0"); err != nil || !strings.Contains(r.Text(), "PBSZ=0") {
		t.Fatalf("PBSZ in cleartext: %v %v", r, err)
	}
	if _, err := c.AuthTLS(tctx(t)); err != nil {
		t.Fatal(err)
	}
	if err := c.Login(tctx(t), tg.User, tg.Password); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Expect(tctx(t), []int{200}, "PROT", "P"); err != nil {
		t.Fatalf("PROT P without PBSZ: %v", err)
	}
	c.SetDataProtection(true)
	if res, _ := listWith(t, c, ftp.DataOptions{}, 10*time.Second); !res.OK() || res.TLS == nil {
		t.Fatalf("LIST: %s\n%s", res, c.Transcript())
	}
	if !strings.Contains(log.String(), "PBSZ 0 sent ahead of PROT") {
		t.Fatalf("log:\n%s", log.String())
	}
}

// tls-legacy-versions: TLS 1.1 (and 1.0) is negotiated; the clean proxy
// refuses it.
func TestTLSLegacyVersions(t *testing.T) {
	old := func(v uint16) func(*tls.Config) {
		return func(c *tls.Config) { c.MinVersion, c.MaxVersion = v, v }
	}
	_, clean := tlsFault(t, "")
	if c, err := tlsDial(tctx(t), clean, ftp.TLSExplicit, old(tls.VersionTLS11)); err == nil {
		c.Close()
		t.Fatal("the clean proxy negotiated TLS 1.1")
	}
	_, tg := tlsFault(t, "tls-legacy-versions")
	for _, v := range []uint16{tls.VersionTLS10, tls.VersionTLS11} {
		c, err := tlsDial(tctx(t), tg, ftp.TLSExplicit, old(v))
		if err != nil {
			t.Fatalf("%s: %v", tls.VersionName(v), err)
		}
		cs, _ := c.TLSState()
		c.Close()
		if cs.Version != v {
			t.Fatalf("negotiated %s, want %s", tls.VersionName(cs.Version), tls.VersionName(v))
		}
	}
}

// tls-feat-unadvertised: FEAT loses AUTH TLS, PBSZ and PROT.
func TestTLSFeatUnadvertised(t *testing.T) {
	feat := func(tg target.Config) string {
		c, err := tlsDial(tctx(t), tg, ftp.TLSOff, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		r, err := c.Expect(tctx(t), []int{211}, "FEAT")
		if err != nil {
			t.Fatal(err)
		}
		return string(r.Raw)
	}
	_, clean := tlsFault(t, "")
	if f := feat(clean); !strings.Contains(f, "AUTH TLS") || !strings.Contains(f, "PBSZ") || !strings.Contains(f, "PROT") {
		t.Fatalf("clean FEAT:\n%s", f)
	}
	_, tg := tlsFault(t, "tls-feat-unadvertised")
	if f := feat(tg); strings.Contains(f, "AUTH") || strings.Contains(f, "PBSZ") || strings.Contains(f, "PROT") || !strings.Contains(f, "EPSV") {
		t.Fatalf("FEAT:\n%s", f)
	}
}

// tls-login-survives-auth: USER, AUTH TLS, PWD is 257; the clean proxy
// passes ftpserverlib's 530 on.
func TestTLSLoginSurvivesAuth(t *testing.T) {
	pwd := func(tg target.Config) ftp.Reply {
		c, err := tlsDial(tctx(t), tg, ftp.TLSOff, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := c.Expect(tctx(t), []int{331}, "USER", tg.User); err != nil {
			t.Fatal(err)
		}
		if _, err := c.AuthTLS(tctx(t)); err != nil {
			t.Fatal(err)
		}
		r, err := c.Cmd(tctx(t), "PWD")
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	_, clean := tlsFault(t, "")
	if r := pwd(clean); r.Code != 530 {
		t.Fatalf("clean: PWD after USER, AUTH: %s", r)
	}
	_, tg := tlsFault(t, "tls-login-survives-auth")
	if r := pwd(tg); r.Code != 257 {
		t.Fatalf("PWD after USER, AUTH: %s", r)
	}
}

// tls-required-user-accepted: a USER without TLS gets the proxy's 331,
// whatever the server answered; the server still saw the USER, so in front
// of a server taking cleartext logins the login goes on (matrix
// TestTLSRequiredFault shows the kill in front of one requiring TLS).
func TestTLSRequiredUserAccepted(t *testing.T) {
	_, tg := tlsFault(t, "tls-required-user-accepted")
	c, err := tlsDial(tctx(t), tg, ftp.TLSOff, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if r, _ := c.Cmd(tctx(t), "USER", tg.User); string(r.Raw) != "331 Password required.\r\n" {
		t.Fatalf("USER without TLS: %q, want the proxy's 331", r.Raw)
	}
	if r, err := c.Cmd(tctx(t), "PASS", tg.Password); err != nil || r.Code != 230 {
		t.Fatalf("PASS after the proxy's 331: %v %v (the server did not see the USER)\n%s", r, err, c.Transcript())
	}
}

// tls-cert-*: the client's verification against the proxy's CA fails
// for the reason named.
func TestTLSBadCertificates(t *testing.T) {
	for _, kind := range tlscert.BadKinds {
		t.Run(kind, func(t *testing.T) {
			_, tg := tlsFault(t, "tls-cert-"+kind)
			_, err := tlsDial(tctx(t), tg, ftp.TLSExplicit, nil)
			var unknown x509.UnknownAuthorityError
			var name x509.HostnameError
			var invalid x509.CertificateInvalidError
			ok := false
			switch kind {
			case tlscert.SelfSigned:
				ok = errors.As(err, &unknown)
			case tlscert.WrongName:
				ok = errors.As(err, &name)
			case tlscert.Expired:
				ok = errors.As(err, &invalid) && invalid.Reason == x509.Expired
			}
			if !ok {
				t.Fatalf("dial: %v", err)
			}
			c, err := tlsDial(tctx(t), tg, ftp.TLSExplicit, func(c *tls.Config) { c.InsecureSkipVerify = true })
			if err != nil {
				t.Fatalf("unverified dial: %v", err)
			}
			c.Close()
		})
	}
}

// The reply faults of FTPS commands: each answer against ftpserverlib's
// own through the clean proxy.
func TestTLSCommandReplies(t *testing.T) {
	type step struct {
		verb, arg string
		clean     int // ftpserverlib v0.32.3's code through the clean proxy
		faulted   int
	}
	for _, tc := range []struct {
		fault string
		mode  ftp.TLSMode
		steps []step
	}{
		{"tls-reauth-200", ftp.TLSExplicit, []step{{"AUTH", "TLS", 234, 200}}},
		{"tls-prot-level-200", ftp.TLSExplicit, []step{{"PBSZ", "0", 200, 200}, {"PROT", "S", 200, 200}, {"PROT", "X", 200, 200}}},
		{"tls-ccc-fake-200", ftp.TLSOff, []step{{"CCC", "", 530, 200}}},
		{"tls-ccc-fake-200", ftp.TLSExplicit, []step{{"USER", servers.DefaultUser, 331, 331}, {"PASS", servers.DefaultPassword, 230, 230}, {"CCC", "", 502, 200}}},
	} {
		t.Run(tc.fault, func(t *testing.T) {
			for _, faulted := range []bool{false, true} {
				name := ""
				if faulted {
					name = tc.fault
				}
				_, tg := tlsFault(t, name)
				c, err := tlsDial(tctx(t), tg, tc.mode, nil)
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				for _, st := range tc.steps {
					args := []string{}
					if st.arg != "" {
						args = append(args, st.arg)
					}
					r, err := c.Cmd(tctx(t), st.verb, args...)
					want := st.clean
					if faulted {
						want = st.faulted
					}
					if err != nil || r.Code != want {
						t.Fatalf("faulted %v: %s %s: %v %v, want %d", faulted, st.verb, st.arg, r, err, want)
					}
					if faulted && st.verb == "PROT" && !strings.Contains(r.Text(), "Protection level set") {
						t.Fatalf("PROT %s answered by the server: %s", st.arg, r)
					}
				}
			}
		})
	}
}

// tls-rein-reply-cleartext: the REIN reply comes outside TLS, which the
// client reads as a broken record; ftpserverlib answers 502 inside TLS.
func TestTLSReinReplyCleartext(t *testing.T) {
	_, clean := tlsFault(t, "")
	c := openTLS(t, clean)
	if r, err := c.Cmd(tctx(t), "REIN"); err != nil || r.Code != 502 {
		t.Fatalf("clean REIN: %v %v", r, err)
	}
	_, tg := tlsFault(t, "tls-rein-reply-cleartext")
	c = openTLS(t, tg)
	r, err := c.Cmd(tctx(t), "REIN")
	var rh tls.RecordHeaderError
	if !errors.As(err, &rh) || !strings.HasPrefix(string(rh.RecordHeader[:]), "220 ") {
		t.Fatalf("REIN: %v %v", r, err)
	}
}
