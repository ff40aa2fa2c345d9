package framework

import (
	"strings"
	"testing"

	"github.com/ftpharness/ftpharness/ftp"
)

// A refused login is SEC-001's once SEC-001 has run (its wrong passwords
// may have locked the account) or the reply says so, else SEQ-002's.
func TestLoginBlocker(t *testing.T) {
	started.Delete(LockoutJudge)
	t.Cleanup(func() { started.Delete(LockoutJudge); noteRunning("") })
	re := &ftp.ReplyError{Cmd: "PASS", Reply: ftp.Reply{Code: 530, Lines: []string{"530 Login incorrect."}, Raw: []byte("530 Login incorrect.")}}
	if owner, ev := loginBlocker(re); owner != "SEQ-002" || !strings.Contains(ev, "530 Login incorrect.") {
		t.Errorf("want SEQ-002 with the reply, got %s: %s", owner, ev)
	}
	locked := &ftp.ReplyError{Cmd: "PASS", Reply: ftp.Reply{Code: 530, Lines: []string{"530 Too many failed attempts"}, Raw: []byte("530 Too many failed attempts")}}
	if owner, _ := loginBlocker(locked); owner != "SEC-001" {
		t.Errorf("lockout text: want SEC-001, got %s", owner)
	}
	noteRunning("SEC-001")
	if owner, _ := loginBlocker(re); owner != "SEC-001" {
		t.Errorf("after SEC-001 ran: want SEC-001, got %s", owner)
	}
}
