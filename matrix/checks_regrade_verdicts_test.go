package matrix_test

import (
	"bufio"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ftpharness/ftpharness/servers/faulty"
	"github.com/ftpharness/ftpharness/suites/report"
	"github.com/ftpharness/ftpharness/target"
)

// The re-graded checks, run through the proxy against ftpserverlib (as
// TestNATMessages does): a fault the RFC allows (stat-path-211,
// abor-plain-ignored) fails no MUST check and only warns where the check
// is INTEROP; a refused EPSV ALL fails EPSV-006 once, and EPSV-007 skips.
func TestRegradedVerdicts(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the suites and runs them through the proxy; skipped with -short")
	}
	_, tg := proxied(t, "ftpserverlib", faulty.WithFaults(faulty.MustLookup("stat-path-211"), faulty.MustLookup("epsv-all-refused"),
		faulty.MustLookup("abor-plain-ignored"), faulty.MustLookup("ascii-double-cr")))
	got := runChecks(t, tg, `\b(XFER-013|XFER-016|XFER-024|XFER-025|EPSV-006|EPSV-007)\b`)
	expectVerdicts(t, got, map[string]want{
		"XFER-016": {result: report.Pass},
		"XFER-013": {result: report.Pass},
		"XFER-024": {result: report.Warn, contains: []string{"plain ABOR", "RFC 959 §4.1", "Fix:"}},
		"XFER-025": {result: report.Warn, contains: []string{"CR CR LF", "RFC 959 §3.1.1.1", "Fix:"}},
		"EPSV-006": {result: report.Fail, contains: []string{"502 EPSV ALL not implemented."}},
		"EPSV-007": {result: report.Skip, contains: []string{"EPSV-006", "502 EPSV ALL not implemented."}},
	})
}

// vsftpd 3.0.3 (through the transparent proxy) answers STAT of a missing
// path with an empty 213 listing, which RFC 959 does not forbid (STAT of a
// path is analogous to LIST): XFER-016 warns, not fails. It accepts EPRT
// right after EPSV ALL (EPSV-006 fails), so EPSV-007 cannot tell whether
// EPSV ALL survives an ABOR: blocked by EPSV-006, not a second failure of
// the same defect.
func TestRegradedVerdictsOnVsftpd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the suites and runs them against vsftpd; skipped with -short")
	}
	_, tg := proxied(t, "vsftpd")
	got := runChecks(t, tg, `\b(XFER-016|EPSV-006|EPSV-007)\b`)
	expectVerdicts(t, got, map[string]want{
		"XFER-016": {result: report.Warn, contains: []string{"STAT of a missing path", "213", "RFC 959 §4.1.3", "Fix:"}},
		"EPSV-006": {result: report.Fail, contains: []string{"EPRT"}},
		"EPSV-007": {result: report.Blocked, contains: []string{"EPSV-006", "EPRT"}},
	})
}

// SEC-001 against a server that takes 5.5 s to answer each wrong password
// (RFC 2577 §5 suggests about 5 s) and never closes: the check must wait
// out every delay, count the five answered attempts and fail for the
// missing 421 (a fixed 20 s budget gave up after three and passed).
func TestSEC001WaitsOutDelays(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the suites and waits out five 5.5 s delays; skipped with -short")
	}
	t.Parallel()
	expectSEC001Fails(t, slowAuthServer(t, func(int) time.Duration { return 5500 * time.Millisecond }))
}

// SEC-001 against a server whose delay grows with each wrong password,
// as pure-ftpd's does (about 3 s more per attempt, plus up to 3 s of
// jitter): here the jitter is worst for the check — the first delay
// short, the next long (3, 9, 9, 15, 15 s). A wait sized from the
// longest delay plus a half gave up at the third attempt and skipped.
func TestSEC001WaitsOutGrowingDelays(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the suites and waits out five delays up to 15 s; skipped with -short")
	}
	t.Parallel()
	delays := []int{3, 9, 9, 15, 15, 15} // seconds, for the n-th wrong PASS
	growing := func(n int) time.Duration { return time.Duration(delays[min(n, len(delays))-1]) * time.Second }
	expectSEC001Fails(t, slowAuthServer(t, growing))
}

func expectSEC001Fails(t *testing.T, addr string) {
	t.Helper()
	tg := target.Config{Server: "slow-auth", Addr: addr, User: "ftpuser", Password: "right-password"}
	got := runChecks(t, tg, `\bSEC-001\b`)
	expectVerdicts(t, got, map[string]want{
		"SEC-001": {result: report.Fail, contains: []string{"all 5 were answered", "530 Login incorrect.", "RFC 2577 §5"}},
	})
	if strings.Contains(got["SEC-001"].Reason, "right-password") {
		t.Error("the password reached the verdict")
	}
}

// serveSessions listens on loopback and runs session for each of up to
// 100 connections; the listener closes and the sessions are waited for when
// the test ends. It returns the address.
func serveSessions(t *testing.T, session func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < 100; i++ {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() { defer wg.Done(); session(c) }()
		}
	}()
	return ln.Addr().String()
}

// slowAuthServer is a minimal FTP control server on loopback: USER gets
// 331, the session's n-th wrong PASS 530 after delay(n), NOOP 200, QUIT
// 221; it never closes a session by itself. Sessions end with the test
// (or after a minute idle).
func slowAuthServer(t *testing.T, delay func(n int) time.Duration) string {
	t.Helper()
	return serveSessions(t, func(c net.Conn) { slowAuthSession(c, delay) })
}

func slowAuthSession(c net.Conn, delay func(n int) time.Duration) {
	defer c.Close()
	say := func(s string) { c.SetWriteDeadline(time.Now().Add(5 * time.Second)); c.Write([]byte(s + "\r\n")) }
	say("220 slow-auth ready")
	br := bufio.NewReaderSize(c, 1024)
	wrong := 0
	for n := 0; n < 200; n++ {
		c.SetReadDeadline(time.Now().Add(time.Minute))
		line, err := br.ReadString('\n')
		if err != nil {
			return
		}
		verb, _, _ := strings.Cut(strings.TrimSpace(line), " ")
		switch strings.ToUpper(verb) {
		case "USER":
			say("331 Password required.")
		case "PASS":
			wrong++
			time.Sleep(delay(wrong))
			say("530 Login incorrect.")
		case "NOOP":
			say("200 OK.")
		case "QUIT":
			say("221 Bye.")
			return
		default:
			say("502 Not implemented.")
		}
	}
}

// abor-deferred holds every ABOR, Telnet IP + Synch or not, until the
// download ends, which RFC 1123 §4.1.3.3 allows ("accept and defer"): the
// ABOR checks warn, none fails.
func TestAborDeferredWarns(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the suites and runs them through the proxy; skipped with -short")
	}
	_, tg := proxied(t, "ftpserverlib", faulty.WithFaults(faulty.MustLookup("abor-deferred")))
	got := runChecks(t, tg, `\b(XFER-012|XFER-013)\b`)
	expectVerdicts(t, got, map[string]want{
		"XFER-012": {result: report.Warn, contains: []string{"accept and defer", "Fix:"}},
		"XFER-013": {result: report.Warn, contains: []string{"Telnet IP + Synch", "only after the transfer ended", "accept and defer", "Fix:"}},
	})
}
