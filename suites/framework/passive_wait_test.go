package framework

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/ftpharness/ftpharness/ftp"
	"github.com/ftpharness/ftpharness/target"
)

// pasvServer is a tiny FTP server whose PASV/EPSV answers refused(elapsed)
// when non-empty (elapsed since it started), else a 227/229 of port 30001.
func pasvServer(t *testing.T, refused func(elapsed time.Duration) string) string {
	t.Helper()
	return pasvServerOn(t, 30001, refused)
}

// pasvServerOn is pasvServer advertising port.
func pasvServerOn(t *testing.T, port int, refused func(elapsed time.Duration) string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go servePasv(c, start, port, refused)
		}
	}()
	return ln.Addr().String()
}

func servePasv(c net.Conn, start time.Time, port int, refused func(time.Duration) string) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	c.Write([]byte("220 test\r\n"))
	br := bufio.NewReader(c)
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return
		}
		verb := strings.ToUpper(strings.Fields(line + " x")[0])
		reply := "502 no\r\n"
		switch {
		case verb != "PASV" && verb != "EPSV":
		case refused(time.Since(start)) != "":
			reply = refused(time.Since(start)) + "\r\n"
		case verb == "PASV":
			reply = fmt.Sprintf("227 Entering Passive Mode (127,0,0,1,%d,%d)\r\n", port/256, port%256)
		default:
			reply = fmt.Sprintf("229 Entering Extended Passive Mode (|||%d|)\r\n", port)
		}
		c.Write([]byte(reply))
	}
}

func dialPasv(t *testing.T, addr string) *ftp.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := ftp.Dial(ctx, addr, ftp.WithTimeout(5*time.Second), ftp.WithStrictReplies(false))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// setWait sets the waiting limits for one test and restores them after.
func setWait(t *testing.T, perSetup, budget time.Duration, rangeDecl string) {
	old1, old2, oldFirst := PassiveWaitPerSetup, PassiveWaitBudget, passiveFirstPause
	oldCfg := Config()
	PassiveWaitPerSetup, PassiveWaitBudget, passiveFirstPause = perSetup, budget, 50*time.Millisecond
	passiveWaitSpent.Store(0)
	passiveWaitTotal.Store(0)
	checkWait.id, checkWait.spent = "reset", 0
	c := target.Defaults()
	c.PasvRange = rangeDecl
	SetConfig(c)
	t.Cleanup(func() {
		PassiveWaitPerSetup, PassiveWaitBudget, passiveFirstPause = old1, old2, oldFirst
		passiveWaitSpent.Store(0)
		passiveWaitTotal.Store(0)
		SetConfig(oldCfg)
	})
}

const inUse = "500 OOPS: bind: Address already in use"

func TestRecovers(t *testing.T) {
	cases := map[string]bool{
		inUse:                               true,
		"425 Can't open passive connection": true,
		"421 Could not find any port to listen to": true,
		"500 No free ports":                        true,
		"500 Unknown command":                      false,
		"502 Command not implemented":              false,
		"227 Entering Passive Mode (1,2,3,4,5,6)":  false,
		"530 Please login with USER and PASS":      false,
	}
	for raw, want := range cases {
		var code int
		for _, ch := range raw[:3] {
			code = code*10 + int(ch-'0')
		}
		r := ftp.Reply{Code: code, Lines: []string{raw}, Raw: []byte(raw)}
		if got := Recovers(r); got != want {
			t.Errorf("Recovers(%q) = %v, want %v", raw, got, want)
		}
	}
}

// A pool that recovers after a while is waited out: the setup succeeds.
func TestPassiveWaitsOutARefusalThatRecovers(t *testing.T) {
	setWait(t, 10*time.Second, 30*time.Second, "30000-30019")
	addr := pasvServer(t, func(e time.Duration) string {
		if e < 800*time.Millisecond {
			return inUse
		}
		return ""
	})
	c := dialPasv(t, addr)
	got := passiveWithWait(context.Background(), c, false, 5*time.Second, true)
	if got.Err != nil || got.EP.Port != 117*256+49 {
		t.Fatalf("want the 227 after waiting, got %+v", got)
	}
	if got.Tries < 2 || got.Waited <= 0 || got.Waited > 5*time.Second {
		t.Errorf("want a few retries over under 5 s, got %d tries over %s", got.Tries, got.Waited)
	}
	// the pool recovered: the wait is given back to the run's budget (a
	// check meeting the next emptied pool waits as long), not to the ceiling
	if spent, total := passiveWaitSpent.Load(), passiveWaitTotal.Load(); spent != 0 || total != int64(got.Waited) {
		t.Errorf("after a recovered wait of %s: spent %s (want 0), total %s", got.Waited, time.Duration(spent), time.Duration(total))
	}
}

// A pool that never recovers costs at most the budget, then names RANGE-007
// (range declared) with the server's reply as evidence; a later refusal in
// the same run does not wait at all.
func TestPassiveNeverRecoveringIsBlockedWithinBudget(t *testing.T) {
	setWait(t, 10*time.Second, 1200*time.Millisecond, "30000-30019")
	addr := pasvServer(t, func(time.Duration) string { return inUse })
	c := dialPasv(t, addr)
	start := time.Now()
	got := passiveWithWait(context.Background(), c, false, 5*time.Second, true)
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("took %s, want within the 1.2 s budget (+ replies)", took)
	}
	if got.Err == nil || got.Refusal.Code != 500 {
		t.Fatalf("want the refusal, got %+v", got)
	}
	owner, ev := passiveBlocker(false, got)
	if owner != "RANGE-007" || !strings.Contains(ev, inUse) || !strings.Contains(ev, "30000-30019") {
		t.Errorf("want RANGE-007 with the reply and range as evidence, got %s: %s", owner, ev)
	}
	start = time.Now()
	again := passiveWithWait(context.Background(), c, true, 5*time.Second, true)
	if again.Tries != 1 || again.Waited != 0 || time.Since(start) > time.Second {
		t.Errorf("budget spent: want one try and no wait, got %d tries, %s", again.Tries, again.Waited)
	}
	if owner, _ := passiveBlocker(true, again); owner != "RANGE-007" {
		t.Errorf("EPSV refused for a pool exhausted: want RANGE-007, got %s", owner)
	}
}

// Without a declared range (RANGE-007 skips) the refusal is PASV-001's
// (EPSV-001's); RANGE-007 itself (wait=false) does not wait; a 227 costs
// one try.
func TestPassiveOwnersAndNoNeedlessWait(t *testing.T) {
	setWait(t, 10*time.Second, 30*time.Second, "")
	refusing := dialPasv(t, pasvServer(t, func(time.Duration) string { return inUse }))
	got := passiveWithWait(context.Background(), refusing, false, 5*time.Second, false)
	if got.Tries != 1 || got.Waited != 0 || passiveWaitSpent.Load() != 0 {
		t.Errorf("wait=false: want one try, no budget used; got %d tries, %s, spent %d", got.Tries, got.Waited, passiveWaitSpent.Load())
	}
	if owner, _ := passiveBlocker(false, got); owner != "PASV-001" {
		t.Errorf("no range declared: want PASV-001, got %s", owner)
	}
	if owner, _ := passiveBlocker(true, got); owner != "EPSV-001" {
		t.Errorf("no range declared, EPSV: want EPSV-001, got %s", owner)
	}
	fine := dialPasv(t, pasvServer(t, func(time.Duration) string { return "" }))
	if ok := passiveWithWait(context.Background(), fine, false, 5*time.Second, true); ok.Err != nil || ok.Tries != 1 || ok.Waited != 0 {
		t.Errorf("a 227: want one try and no wait, got %+v", ok)
	}
	// a range too large for RANGE-007 to exhaust: it skips, so PASV-001
	setWait(t, 10*time.Second, 30*time.Second, "30000-30399")
	if owner, _ := passiveBlocker(false, got); owner != "PASV-001" {
		t.Errorf("400-port range: want PASV-001, got %s", owner)
	}
}

// A refusal after other data-connection commands on the session may be the
// running check's own subject (a second PASV, PASV after ABOR): no owner,
// unless the declared pool is exhausted (RANGE-007) or the reply does not
// parse.
func TestPassiveRefusalAfterOtherSetupIsNotPASV001s(t *testing.T) {
	setWait(t, 10*time.Second, 30*time.Second, "")
	c := dialPasv(t, pasvServer(t, func(time.Duration) string { return "550 Requested action not taken: internal server error" }))
	ctx := context.Background()
	first := passiveWithWait(ctx, c, false, 5*time.Second, true)
	if owner, _ := passiveBlocker(false, first); owner != "PASV-001" || first.Tries != 1 {
		t.Errorf("first setup refused (no retry: 550 does not recover): want PASV-001 after 1 try, got %q after %d", owner, first.Tries)
	}
	second := passiveWithWait(ctx, c, false, 5*time.Second, true)
	owner, ev := passiveBlocker(false, second)
	if owner != "" || !strings.Contains(ev, "internal server error") {
		t.Errorf("second setup refused: want no owner and the reply as evidence, got %q: %s", owner, ev)
	}
	setWait(t, 10*time.Second, 0, "30000-30019")
	second.Reply = ftp.Reply{Code: 500, Lines: []string{inUse}, Raw: []byte(inUse)}
	if owner, _ := passiveBlocker(false, second); owner != "RANGE-007" {
		t.Errorf("pool exhausted on a later setup: want RANGE-007, got %q", owner)
	}
}

// One check's waiting is capped (PassiveWaitPerCheck) below its spec
// timeout; the next check may wait again.
func TestPassiveWaitPerCheck(t *testing.T) {
	setWait(t, 10*time.Second, 30*time.Second, "")
	old := PassiveWaitPerCheck
	PassiveWaitPerCheck = 300 * time.Millisecond
	t.Cleanup(func() { PassiveWaitPerCheck = old; noteRunning("") })
	noteRunning("XFER-001")
	if got := takeWait(time.Second); got != 300*time.Millisecond {
		t.Errorf("first wait in a check: got %s, want the 300ms cap", got)
	}
	if got := takeWait(time.Second); got != 0 {
		t.Errorf("check cap spent: got %s, want 0", got)
	}
	noteRunning("XFER-002")
	if got := takeWait(100 * time.Millisecond); got != 100*time.Millisecond {
		t.Errorf("next check: got %s, want 100ms", got)
	}
}
