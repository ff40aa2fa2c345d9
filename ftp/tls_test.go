package ftp

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"net"
	"strings"
	"testing"
	"time"
)

// tlsLogin dials s with mode, trusting pool, logs in and (explicit) sets
// PROT P.
func tlsLogin(t *testing.T, addr string, mode TLSMode, cfg *tls.Config) *Conn {
	t.Helper()
	ctx := ctxFor(t, 5*time.Second)
	c, err := Dial(ctx, addr, WithTLS(mode, cfg))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Login(ctx, "alice", "s3cret-pw"); err != nil {
		t.Fatal(err)
	}
	if mode == TLSExplicit {
		if err := c.Protect(ctx, "P"); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// retrStor downloads f over PASV and EPSV and uploads it back, and
// returns the data connections' TLS states.
func retrStor(t *testing.T, c *Conn, s *tlsServer, want []byte, opts DataOptions) []*tls.ConnectionState {
	t.Helper()
	ctx := ctxFor(t, 5*time.Second)
	var states []*tls.ConnectionState
	for _, epsv := range []bool{false, true} {
		data, _, err := c.OpenPassive(ctx, epsv, opts)
		if err != nil {
			t.Fatal(err)
		}
		var got bytes.Buffer
		res := c.Transfer(ctx, data, "RETR f", nil, &got)
		if !res.OK() || !bytes.Equal(got.Bytes(), want) {
			t.Fatalf("RETR over TLS: %v (%d bytes)\n%s", res, got.Len(), c.Transcript())
		}
		states = append(states, res.TLS)
	}
	data, _, err := c.OpenPassive(ctx, true, opts)
	if err != nil {
		t.Fatal(err)
	}
	res := c.Transfer(ctx, data, "STOR g", bytes.NewReader(want), nil)
	if !res.OK() {
		t.Fatalf("STOR over TLS: %v\n%s", res, c.Transcript())
	}
	if got := <-s.stored; !bytes.Equal(got, want) {
		t.Fatalf("STOR stored %d bytes, want %d", len(got), len(want))
	}
	return append(states, res.TLS)
}

func TestTLSExplicitResumesControlSession(t *testing.T) {
	t.Parallel()
	pki := newTestPKI(t, "ftpharness test CA")
	want := payload(300<<10+5, 7)
	s := newTLSServer(pki.server, map[string][]byte{"f": want})
	s.requireReuse = true
	c := tlsLogin(t, s.start(t), TLSExplicit, &tls.Config{RootCAs: pki.pool})
	cs, ok := c.TLSState()
	if !ok || cs.Version < tls.VersionTLS12 || !c.DataProtected() {
		t.Fatalf("control TLS %v %+v, data protected %v", ok, cs.Version, c.DataProtected())
	}
	for i, st := range retrStor(t, c, s, want, DataOptions{}) {
		if st == nil || !st.DidResume {
			t.Fatalf("data connection %d: TLS %v, want the control session resumed\n%s", i, st, c.Transcript())
		}
	}
	tr := c.Transcript().String()
	for _, sub := range []string{"> AUTH TLS", "tls control: TLS 1.3", `server certificate "CN=fake ftps,O=ftpharness test" issued by "CN=ftpharness test CA", verified against the given CA`, "tls data: TLS 1.3", "resumed the control session"} {
		if !strings.Contains(tr, sub) {
			t.Errorf("transcript lacks %q:\n%s", sub, tr)
		}
	}
	if strings.Contains(tr, "s3cret-pw") {
		t.Errorf("password in transcript:\n%s", tr)
	}
}

func TestTLSImplicit(t *testing.T) {
	t.Parallel()
	pki := newTestPKI(t, "ftpharness test CA")
	want := payload(10<<10, 8)
	s := newTLSServer(pki.server, map[string][]byte{"f": want})
	s.implicit = true
	c := tlsLogin(t, s.start(t), TLSImplicit, &tls.Config{RootCAs: pki.pool})
	if !c.DataProtected() || c.Greeting().Code != 220 {
		t.Fatalf("implicit: data protected %v, greeting %v", c.DataProtected(), c.Greeting())
	}
	if strings.Contains(c.Transcript().String(), "AUTH") {
		t.Fatalf("implicit FTPS sent AUTH:\n%s", c.Transcript())
	}
	for _, st := range retrStor(t, c, s, want, DataOptions{}) {
		if st == nil || !st.DidResume {
			t.Fatalf("data TLS %v, want resumed", st)
		}
	}
}

func TestTLSDataWithoutResumption(t *testing.T) {
	t.Parallel()
	pki := newTestPKI(t, "ftpharness test CA")
	want := payload(4096, 9)
	s := newTLSServer(pki.server, map[string][]byte{"f": want})
	c := tlsLogin(t, s.start(t), TLSExplicit, &tls.Config{RootCAs: pki.pool})
	for _, st := range retrStor(t, c, s, want, DataOptions{NoResume: true}) {
		if st == nil || st.DidResume {
			t.Fatalf("data TLS %v, want a full handshake", st)
		}
	}
	if !strings.Contains(c.Transcript().String(), "full handshake (not resumed)") {
		t.Fatalf("transcript:\n%s", c.Transcript())
	}
	// a server requiring reuse refuses it, and says so
	s.requireReuse = true
	ctx := ctxFor(t, 5*time.Second)
	data, _, err := c.OpenPassive(ctx, true, DataOptions{NoResume: true})
	if err != nil {
		t.Fatal(err)
	}
	res := c.Transfer(ctx, data, "RETR f", nil, nil)
	var re *ReplyError
	if !errors.As(res.Err, &re) || re.Reply.Code != 522 {
		t.Fatalf("want 522 session reuse required, got %v", res)
	}
}

func TestTLSActiveModeClientIsTLSClient(t *testing.T) {
	t.Parallel()
	pki := newTestPKI(t, "ftpharness test CA")
	want := payload(64<<10, 10)
	s := newTLSServer(pki.server, map[string][]byte{"f": want})
	c := tlsLogin(t, s.start(t), TLSExplicit, &tls.Config{RootCAs: pki.pool})
	ctx := ctxFor(t, 5*time.Second)
	for _, verb := range []string{"PORT", "EPRT"} {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		a := ln.Addr().(*net.TCPAddr)
		arg := FormatEPRT(a.IP, a.Port)
		if verb == "PORT" {
			arg, _ = FormatPORT(a.IP, a.Port)
		}
		if _, err := c.Expect(ctx, []int{200}, verb, arg); err != nil {
			t.Fatal(err)
		}
		var got bytes.Buffer
		res := c.TransferWith(ctx, "RETR f", func(ctx context.Context) (net.Conn, error) {
			return c.AcceptData(ctx, ln, DataOptions{})
		}, nil, &got, func() { ln.Close() })
		if !res.OK() || !bytes.Equal(got.Bytes(), want) || res.TLS == nil || !res.TLS.DidResume {
			t.Fatalf("%s RETR over TLS: %v, TLS %v\n%s", verb, res, res.TLS, c.Transcript())
		}
	}
}

func TestTLSAuthAnsweredButNoHandshake(t *testing.T) {
	t.Parallel()
	pki := newTestPKI(t, "ftpharness test CA")
	s := newTLSServer(pki.server, nil)
	s.noHandshake = true
	addr := s.start(t)
	start := time.Now()
	_, err := Dial(context.Background(), addr, WithTimeout(500*time.Millisecond), WithTLS(TLSExplicit, &tls.Config{RootCAs: pki.pool}))
	if err == nil || !IsTimeout(err) || !strings.Contains(err.Error(), "no TLS handshake from the server before the deadline") {
		t.Fatalf("want a clear timeout error, got %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("took %v: not bounded by the 500ms timeout", d)
	}
	if tr := TranscriptOf(err); tr == nil || !strings.Contains(tr.String(), "tls control handshake failed") {
		t.Fatalf("transcript: %v", tr)
	}
}

func TestTLSBytesAfter234Refused(t *testing.T) {
	t.Parallel()
	pki := newTestPKI(t, "ftpharness test CA")
	s := newTLSServer(pki.server, nil)
	s.after234 = "\r\n200 injected"
	_, err := Dial(ctxFor(t, 5*time.Second), s.start(t), WithTLS(TLSExplicit, &tls.Config{RootCAs: pki.pool}))
	if err == nil || !strings.Contains(err.Error(), "before the TLS handshake") {
		t.Fatalf("want the injected reply refused, got %v", err)
	}
}

func TestTLSCertificateFailsVerification(t *testing.T) {
	t.Parallel()
	pki, other := newTestPKI(t, "ftpharness test CA"), newTestPKI(t, "some other CA")
	s := newTLSServer(pki.server, nil)
	addr := s.start(t)
	_, err := Dial(ctxFor(t, 5*time.Second), addr, WithTLS(TLSExplicit, &tls.Config{RootCAs: other.pool}))
	if err == nil || !strings.Contains(err.Error(), `server certificate "CN=fake ftps,O=ftpharness test" issued by "CN=ftpharness test CA" failed verification against the given CA`) {
		t.Fatalf("want a verification error naming subject and CA, got %v", err)
	}
	// insecure: accepted, and the transcript says it was not verified
	c, err := Dial(ctxFor(t, 5*time.Second), addr, WithTLS(TLSExplicit, &tls.Config{InsecureSkipVerify: true}))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if !strings.Contains(c.Transcript().String(), "NOT verified (insecure)") {
		t.Fatalf("transcript:\n%s", c.Transcript())
	}
}

func TestTLSCCC(t *testing.T) {
	t.Parallel()
	pki := newTestPKI(t, "ftpharness test CA")
	want := payload(2048, 11)
	s := newTLSServer(pki.server, map[string][]byte{"f": want})
	c := tlsLogin(t, s.start(t), TLSExplicit, &tls.Config{RootCAs: pki.pool})
	ctx := ctxFor(t, 5*time.Second)
	if r, err := c.CCC(ctx); err != nil || r.Code != 200 {
		t.Fatalf("CCC: %v %v\n%s", r, err, c.Transcript())
	}
	if _, ok := c.TLSState(); ok {
		t.Fatal("control connection still TLS after CCC")
	}
	if _, err := c.Expect(ctx, []int{200}, "NOOP"); err != nil {
		t.Fatalf("NOOP after CCC: %v\n%s", err, c.Transcript())
	}
	if a, b := <-s.plain, <-s.plain; a != "AUTH TLS" || b != "NOOP" {
		t.Fatalf("server read %q and %q in cleartext, want AUTH TLS and NOOP", a, b)
	}
	// the data protection level stays
	data, _, err := c.OpenPassive(ctx, true, DataOptions{})
	if err != nil {
		t.Fatal(err)
	}
	res := c.Transfer(ctx, data, "RETR f", nil, nil)
	if !res.OK() || res.TLS == nil || res.SHA256 != SHA256Hex(want) {
		t.Fatalf("RETR after CCC: %v TLS %v", res, res.TLS)
	}
	if !strings.Contains(c.Transcript().String(), "close_notify both ways") {
		t.Fatalf("transcript:\n%s", c.Transcript())
	}
}

func TestTLSClearDataUnderProtP(t *testing.T) {
	t.Parallel()
	pki := newTestPKI(t, "ftpharness test CA")
	s := newTLSServer(pki.server, map[string][]byte{"f": []byte("x")})
	c := tlsLogin(t, s.start(t), TLSExplicit, &tls.Config{RootCAs: pki.pool})
	ctx := ctxFor(t, 5*time.Second)
	data, _, err := c.OpenPassive(ctx, true, DataOptions{Clear: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := data.(*tls.Conn); ok {
		t.Fatal("Clear data connection is TLS")
	}
	data.Close()
}

// A TLS 1.3 server built on OpenSSL sends session tickets after the data
// connection's handshake, which an upload never reads: closing a socket
// with bytes unread sends a reset that drops what is still queued to send,
// and the server loses the end of the upload (vsftpd: 426 Failure reading
// network stream). The upload ends with close_notify and a half-close and
// reads to the server's close. (Go's server sends its tickets with its
// Finished, read by the handshake, so a record written after it stands
// in for them.)
func TestTLSUploadSurvivesUnreadTickets(t *testing.T) {
	t.Parallel()
	pki := newTestPKI(t, "ftpharness test CA")
	s := newTLSServer(pki.server, nil)
	s.slowStore, s.lateRecord = 300*time.Millisecond, []byte("ticket")
	addr := s.start(t)
	c := tlsLogin(t, addr, TLSExplicit, &tls.Config{RootCAs: pki.pool})
	ctx := ctxFor(t, 5*time.Second)
	want := payload(8<<20, 3) // more than the socket buffers hold
	data, _, err := c.OpenPassive(ctx, true, DataOptions{})
	if err != nil {
		t.Fatal(err)
	}
	res := c.Transfer(ctx, data, "STOR g", bytes.NewReader(want), nil)
	if got := <-s.stored; !res.OK() || !bytes.Equal(got, want) || res.TLS.Version != tls.VersionTLS13 {
		t.Fatalf("STOR: %v, server stored %d of %d bytes\n%s", res, len(got), len(want), c.Transcript())
	}
	if !strings.Contains(c.Transcript().String(), "close_notify and FIN sent") {
		t.Fatalf("transcript does not say how the upload ended:\n%s", c.Transcript())
	}
}
