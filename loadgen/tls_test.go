package loadgen

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ftpharness/ftpharness/ftp"
	"github.com/ftpharness/ftpharness/ftp/tlscert"
	"github.com/ftpharness/ftpharness/servers"
	"github.com/ftpharness/ftpharness/servers/servertest"
	"github.com/ftpharness/ftpharness/target"
)

// startFTPS starts ftpserverlib v0.32.3 in-process with TLS (mode
// explicit or implicit) and its test CA.
func startFTPS(t *testing.T, mode string) (target.Config, target.Range) {
	t.Helper()
	tg, pr := servertest.Start(t, "ftpserverlib", servers.Spec{PasvMax: 20, TLS: mode})
	if !tg.FTPS() || tg.TLSCA == "" {
		t.Fatalf("no FTPS target: %+v", tg)
	}
	return tg, pr
}

// runFTPS prepares and runs scenario with a bounded count and returns
// its report.
func runFTPS(t *testing.T, tg target.Config, pr target.Range, scenario string, opts ...Option) *Report {
	t.Helper()
	opts = append([]Option{WithPasvRange(pr), WithSessions(2), WithCount(40), WithDuration(20 * time.Second), WithTimeout(5 * time.Second)}, opts...)
	a := NewAttacker(tg, opts...)
	if err := a.Prepare(context.Background(), scenario); err != nil {
		t.Fatalf("prepare: %v", err)
	}
	m, _ := collect(t, a, context.Background(), scenario)
	t.Cleanup(func() { a.Cleanup(context.Background()) })
	return m.Report(a.Settings(scenario))
}

func checkTLSRun(t *testing.T, rep *Report, wantResumed bool) {
	t.Helper()
	if rep.Totals.Errors != 0 || rep.Totals.OK == 0 {
		t.Fatalf("totals %+v, errors %+v", rep.Totals, rep.Errors)
	}
	if rep.Settings.TLS == nil || rep.TLS == nil {
		t.Fatalf("no TLS in the report: settings %+v, tls %+v", rep.Settings.TLS, rep.TLS)
	}
	ops := rep.Totals.Count - rep.Ops["login"].Count
	if rep.TLS.DataHandshakes != ops || rep.Phases["data-tls-handshake"].Count != int64(ops) {
		t.Errorf("data handshakes %d (phase %d), want one per operation (%d)", rep.TLS.DataHandshakes, rep.Phases["data-tls-handshake"].Count, ops)
	}
	if rep.Phases["tls-handshake"].Count != int64(rep.Ops["login"].Count) {
		t.Errorf("control handshakes %d, logins %d", rep.Phases["tls-handshake"].Count, rep.Ops["login"].Count)
	}
	var bySuite uint64
	for k, n := range rep.TLS.Suites {
		if !strings.HasPrefix(k, "TLS 1.3 TLS_") {
			t.Errorf("suite %q, want TLS 1.3 (Go to Go)", k)
		}
		bySuite += n
	}
	if bySuite != rep.TLS.DataHandshakes {
		t.Errorf("suites %v, want the %d data handshakes", rep.TLS.Suites, rep.TLS.DataHandshakes)
	}
	// ftpserverlib (Go's TLS server) resumes every offered session
	if wantResumed && rep.TLS.ResumptionRate != 1 || !wantResumed && rep.TLS.Resumed != 0 {
		t.Errorf("resume %v: %+v", wantResumed, *rep.TLS)
	}
}

func TestFTPSExplicitChurn(t *testing.T) {
	tg, pr := startFTPS(t, "explicit")
	t.Run("resume", func(t *testing.T) {
		rep := runFTPS(t, tg, pr, Churn)
		checkTLSRun(t, rep, true)
		if !rep.Settings.TLS.Resume || rep.Settings.TLS.Mode != "explicit" {
			t.Errorf("settings %+v", *rep.Settings.TLS)
		}
	})
	t.Run("no-resume", func(t *testing.T) {
		rep := runFTPS(t, tg, pr, Churn, WithTLSResume(false))
		checkTLSRun(t, rep, false)
		if rep.Settings.TLS.Resume {
			t.Errorf("settings say resume: %+v", *rep.Settings.TLS)
		}
		th, err := ParseThresholds("resumption<90%")
		if err != nil {
			t.Fatal(err)
		}
		if broken, v, err := th[0].Check(rep); !broken || err != nil {
			t.Errorf("resumption<90%%: broken %v (%v, %v)", broken, v, err)
		}
	})
}

// Implicit FTPS, every kind of data operation (RETR, LIST, STOR) and the
// commands, through the mixed scenario.
func TestFTPSImplicitMixed(t *testing.T) {
	tg, pr := startFTPS(t, "implicit")
	mix := Mix{{"retr", 1}, {"list", 1}, {"stor", 1}, {"noop", 1}}
	rep := runFTPS(t, tg, pr, Mixed, WithMix(mix), WithSize(64<<10), WithSeed(1))
	if rep.Totals.Errors != 0 {
		t.Fatalf("errors: %+v", rep.Errors)
	}
	for _, op := range []string{"retr", "list", "stor"} {
		if rep.Ops[op].OK == 0 {
			t.Errorf("no %s: %+v", op, rep.Ops)
		}
	}
	data := rep.Ops["retr"].Count + rep.Ops["list"].Count + rep.Ops["stor"].Count
	if rep.TLS == nil || rep.TLS.DataHandshakes != data || rep.TLS.ResumptionRate != 1 {
		t.Errorf("tls %+v, want %d resumed data handshakes", rep.TLS, data)
	}
	if rep.Settings.TLS.Mode != "implicit" || rep.Phases["tls-handshake"].Count == 0 {
		t.Errorf("settings %+v, phases %v", rep.Settings.TLS, rep.Phases)
	}
}

// A CA that did not sign the server's certificate: every login fails in
// the tls-handshake phase with the tls-handshake class, promptly, and
// Prepare says the target is unreachable.
func TestFTPSBadCA(t *testing.T) {
	tg, pr := startFTPS(t, "explicit")
	other, err := tlscert.New("not the server's CA")
	if err != nil {
		t.Fatal(err)
	}
	tg.TLSCA = filepath.Join(t.TempDir(), "other.pem")
	if err := os.WriteFile(tg.TLSCA, other.CAPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	a := NewAttacker(tg, WithPasvRange(pr), WithSessions(1), WithCount(3), WithDuration(5*time.Second), WithTimeout(3*time.Second))
	if err := a.Prepare(context.Background(), Churn); !errors.Is(err, ErrUnreachable) {
		t.Errorf("prepare: %v, want ErrUnreachable", err)
	}
	t0 := time.Now()
	_, rs := collect(t, a, context.Background(), Churn)
	if el := time.Since(t0); el > 5*time.Second {
		t.Errorf("took %v", el)
	}
	if len(rs) == 0 {
		t.Fatal("no results")
	}
	for _, r := range rs {
		if r.Class != ClassTLSHandshake || r.FailedPhase != PhaseTLSHandshake {
			t.Fatalf("result %s: class %q phase %s (%s), want tls-handshake", r.Op, r.Class, r.FailedPhase, r.Err)
		}
	}
	t.Logf("%s", rs[0].Err)
}

func TestClassifyTLS(t *testing.T) {
	reuse := &ftp.ReplyError{Cmd: "RETR", Reply: ftp.Reply{Code: 522, Lines: []string{"522 SSL connection failed: session reuse required"}}}
	other522 := &ftp.ReplyError{Cmd: "RETR", Reply: ftp.Reply{Code: 522, Lines: []string{"522 Data connections must be encrypted"}}}
	for _, c := range []struct {
		err  error
		want ErrorClass
	}{
		{reuse, ClassTLSReuse},
		// vsftpd's "500 OOPS" in cleartext on the TLS control connection
		{&net.OpError{Op: "local error", Err: errors.New("tls: received record with version 3030 when expecting version 303")}, ClassTLSCleartext},
		{&net.OpError{Op: "local error", Err: errors.New("tls: received record with version 301 when expecting version 303")}, ClassOther},
		{other522, ClassReply5xx},
		{&tlsError{class: handshakeClass(tls.RecordHeaderError{Msg: "first record does not look like a TLS handshake"}, true, false), err: errors.New("x")}, ClassTLSCleartext},
		{&tlsError{class: handshakeClass(errors.New("remote error: tls: bad certificate"), true, false), err: errors.New("x")}, ClassTLSHandshake},
		{&tlsError{class: handshakeClass(errors.New("read: EOF"), true, true), err: errors.New("x")}, ClassTLSReuse},
		{&tlsError{class: handshakeClass(errors.New("read: EOF"), true, false), err: errors.New("x")}, ClassTLSHandshake},
		{&tlsError{class: handshakeClass(tls.AlertError(70), true, true), err: errors.New("x")}, ClassTLSHandshake}, // protocol_version
	} {
		if got := Classify(c.err).Class; got != c.want {
			t.Errorf("%v: %s, want %s", c.err, got, c.want)
		}
	}
}
