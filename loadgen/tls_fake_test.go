package loadgen

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ftpharness/ftpharness/ftp/tlscert"
	"github.com/ftpharness/ftpharness/target"
)

// An explicit FTPS server scripted to misbehave on its data connections
// the way real ones do, for the classes no well-behaved server shows:
//   - cleartextData: under PROT P it writes the file in cleartext;
//   - reuseRequired: it completes the data handshake, and when it did not
//     resume the control session closes the data connection, answers
//     "522 SSL connection failed: session reuse required" and ends the
//     session (what vsftpd 3.0.3 does with require_ssl_reuse=YES);
//   - waitCloseNotify: it serves fakeBigSize bytes, sends its close_notify
//     and closes the data connection only after the client's (a
//     bidirectional TLS shutdown), with the 226 after that.
type fakeFTPSMode int

const (
	cleartextData fakeFTPSMode = iota
	reuseRequired
	waitCloseNotify
)

// fakeBigSize is the file waitCloseNotify serves: several rcvLowat marks
// and an end that is none of them.
const fakeBigSize = 3*rcvLowat + 12345

func startFakeFTPS(t *testing.T, mode fakeFTPSMode) target.Config {
	t.Helper()
	ca, err := tlscert.New("fake FTPS test CA")
	if err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, ca.CAPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go serveFakeFTPS(c, ca.ServerConfig(), mode)
		}
	}()
	return target.Config{Addr: ln.Addr().String(), User: "u", Password: "p", TLS: "explicit", TLSCA: caFile}
}

func serveFakeFTPS(c net.Conn, cfg *tls.Config, mode fakeFTPSMode) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	var conn net.Conn = c
	r := bufio.NewReader(conn)
	say := func(s string) { io.WriteString(conn, s+"\r\n") }
	var pasv net.Listener
	defer func() {
		if pasv != nil {
			pasv.Close()
		}
	}()
	say("220 fake FTPS")
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		verb, _, _ := strings.Cut(strings.TrimSpace(line), " ")
		switch strings.ToUpper(verb) {
		case "AUTH":
			say("234 go ahead")
			tc := tls.Server(c, cfg)
			if tc.Handshake() != nil {
				return
			}
			conn, r = tc, bufio.NewReader(tc)
		case "USER":
			say("331 password")
		case "PASS":
			say("230 in")
		case "PBSZ", "PROT", "TYPE", "NOOP":
			say("200 ok")
		case "SIZE":
			say(fmt.Sprintf("213 %d", fakeSize(mode)))
		case "PASV":
			if pasv == nil {
				if pasv, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
					return
				}
			}
			p := pasv.Addr().(*net.TCPAddr).Port
			say(fmt.Sprintf("227 Entering Passive Mode (127,0,0,1,%d,%d)", p/256, p%256))
		case "RETR":
			if !fakeRetr(pasv, cfg, mode, say) {
				return
			}
		default:
			say("221 bye")
			return
		}
	}
}

// fakeRetr serves one RETR of 100 bytes; false ends the session.
func fakeRetr(pasv net.Listener, cfg *tls.Config, mode fakeFTPSMode, say func(string)) bool {
	if pasv == nil {
		say("425 no PASV")
		return true
	}
	pasv.(*net.TCPListener).SetDeadline(time.Now().Add(5 * time.Second))
	dc, err := pasv.Accept()
	if err != nil {
		say("425 no data connection")
		return true
	}
	defer dc.Close()
	dc.SetDeadline(time.Now().Add(5 * time.Second))
	say("150 here it comes")
	payload := strings.Repeat("x", fakeSize(mode))
	if mode == cleartextData {
		io.WriteString(dc, payload)
		dc.Close()
		say("226 done")
		return true
	}
	td := tls.Server(dc, cfg)
	if td.Handshake() != nil {
		say("522 SSL connection failed")
		return true
	}
	if !td.ConnectionState().DidResume {
		td.Close()
		say("522 SSL connection failed: session reuse required")
		return false
	}
	io.WriteString(td, payload)
	if mode == waitCloseNotify {
		td.CloseWrite()
		io.Copy(io.Discard, td) // to the client's close_notify (or the deadline)
	}
	td.Close()
	say("226 done")
	return true
}

func fakeSize(mode fakeFTPSMode) int {
	if mode == waitCloseNotify {
		return fakeBigSize
	}
	return 100
}

func TestFTPSCleartextData(t *testing.T) {
	tg := startFakeFTPS(t, cleartextData)
	a := NewAttacker(tg, WithSessions(1), WithCount(3), WithDuration(10*time.Second), WithTimeout(3*time.Second))
	_, rs := collect(t, a, t.Context(), Churn)
	fails := 0
	for _, r := range rs {
		if r.Op == "login" {
			if !r.OK() {
				t.Fatalf("login: %s %s", r.Class, r.Err)
			}
			continue
		}
		fails++
		if r.Class != ClassTLSCleartext || r.FailedPhase != PhaseDataTLSHandshake || r.Code != 226 {
			t.Errorf("%s: class %q phase %s code %d (%s), want tls-cleartext at data-tls-handshake with the 226 after it", r.Op, r.Class, r.FailedPhase, r.Code, r.Err)
		}
	}
	// the verdict was read: the one session goes on
	if fails != 3 || countOp(rs, "login") != 1 {
		t.Errorf("%d failures, %d logins, want 3 and 1", fails, countOp(rs, "login"))
	}
}

func TestFTPSReuseRequired(t *testing.T) {
	tg := startFakeFTPS(t, reuseRequired)
	t.Run("resumed", func(t *testing.T) {
		a := NewAttacker(tg, WithSessions(1), WithCount(3), WithDuration(10*time.Second), WithTimeout(3*time.Second))
		m, _ := collect(t, a, t.Context(), Churn)
		rep := m.Report(a.Settings(Churn))
		if rep.Totals.Errors != 0 || rep.TLS == nil || rep.TLS.Resumed != 3 {
			t.Errorf("errors %+v, tls %+v", rep.Errors, rep.TLS)
		}
	})
	t.Run("full-handshakes", func(t *testing.T) {
		a := NewAttacker(tg, WithSessions(1), WithCount(2), WithDuration(10*time.Second), WithTimeout(3*time.Second), WithTLSResume(false))
		_, rs := collect(t, a, t.Context(), Churn)
		// login; the refused transfer; the next command finds the session
		// ended by the server (vsftpd does the same)
		if len(rs) != 3 || !rs[0].OK() {
			t.Fatalf("%d results, want login and 2 cycles", len(rs))
		}
		if r := rs[1]; r.Class != ClassTLSReuse || r.Code != 522 || r.FailedPhase != PhaseFinalReply || !r.DataTLS || r.Resumed {
			t.Errorf("%s: class %q phase %s code %d (%s), want tls-reuse-required 522 at final-reply after a full data handshake", r.Op, r.Class, r.FailedPhase, r.Code, r.Err)
		}
		// the server closed the session: the PASV after it reads EOF, or,
		// when the close overtook the command on a loaded machine, a reset
		if r := rs[2]; (r.Class != ClassDropped && r.Class != ClassReset) || r.FailedPhase != PhasePasv {
			t.Errorf("after the 522: class %q phase %s, want session-dropped (or reset) at pasv", r.Class, r.FailedPhase)
		}
	})
}

// A large RETR waits for rcvLowat bytes per wake-up, and reads its last
// stretch as it comes: a server that holds the data connection open until
// the client's close_notify (after its own) must not leave the file's end
// below the mark until the read deadline.
func TestFTPSRetrEndBelowLowat(t *testing.T) {
	tg := startFakeFTPS(t, waitCloseNotify)
	a := NewAttacker(tg, WithSessions(1), WithCount(2), WithDuration(20*time.Second), WithTimeout(3*time.Second), WithSize(fakeBigSize))
	if err := a.Prepare(t.Context(), Retr); err != nil {
		t.Fatal(err)
	}
	_, rs := collect(t, a, t.Context(), Retr)
	if countOp(rs, "retr") != 2 {
		t.Fatalf("%d RETRs, want 2", countOp(rs, "retr"))
	}
	for _, r := range rs {
		if r.Op != "retr" {
			continue
		}
		d, _ := r.PhaseDur(PhaseTransfer)
		if !r.OK() || r.Bytes != fakeBigSize || d > 2*time.Second {
			t.Errorf("retr: %s %s, %d bytes in %v; want %d bytes well within the 3 s timeout", r.Class, r.Err, r.Bytes, d, fakeBigSize)
		}
	}
}

func countOp(rs []*Result, op string) int {
	n := 0
	for _, r := range rs {
		if r.Op == op {
			n++
		}
	}
	return n
}
