package framework

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"syscall"

	. "github.com/onsi/ginkgo/v2"

	"github.com/ftpharness/ftpharness/ftp"
)

// sessionDroppers maps a command sent while a transfer runs to the check
// that judges whether the session survives it: RFC 959 §4.1.3 ABOR leaves
// the control connection open and in sync (XFER-012). A session that ends
// right after such a command keeps the next command of any other check
// from testing its own rule (issue 17 §1).
var sessionDroppers = map[string]string{"ABOR": "XFER-012"}

// judgeOwnDrop are checks whose own rule is the session surviving ABOR
// during a transfer (other variants than XFER-012's): a drop is their
// failure, not a block.
var judgeOwnDrop = map[string]bool{"XFER-013": true, "XFER-024": true}

// ClosedByServer reports an error that means the server closed (or reset)
// the control connection.
func ClosedByServer(err error) bool {
	if err == nil {
		return false
	}
	s := err.Error()
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) || strings.Contains(s, "EOF") || strings.Contains(s, "connection reset")
}

// dropBlocker finds, in a transcript whose session the server just closed,
// the last command sent; when it is a command of sessionDroppers sent while
// a transfer ran (after a 1xx with no final reply yet), it returns the check
// that judges it and the evidence.
func dropBlocker(entries []ftp.Entry) (owner, evidence string) {
	last := -1
	for i := len(entries) - 1; i >= 0; i-- {
		if entries[i].Dir == ftp.Sent {
			last = i
			break
		}
	}
	if last < 0 {
		return "", ""
	}
	// the command that dropped it is the last one, or the one before when
	// the last one was sent after the dropping command got its replies
	for _, i := range sentBefore(entries, last, 2) {
		verb := strings.ToUpper(strings.Fields(entries[i].Text + " ")[0])
		owner, ok := sessionDroppers[verb]
		if !ok || !duringTransfer(entries[:i]) {
			continue
		}
		after := ""
		if i != last {
			after = fmt.Sprintf(" (the next command, %s, got no reply)", strings.Fields(entries[last].Text + " ")[0])
		}
		return owner, fmt.Sprintf("the server closed the control connection after %s sent during a transfer%s; RFC 959 §4.1.3 keeps the session open after ABOR", verb, after)
	}
	return "", ""
}

// sentBefore returns up to n indexes of Sent entries, from last backwards.
func sentBefore(entries []ftp.Entry, last, n int) []int {
	var out []int
	for i := last; i >= 0 && len(out) < n; i-- {
		if entries[i].Dir == ftp.Sent {
			out = append(out, i)
		}
	}
	return out
}

// duringTransfer reports whether the last reply code in entries is a 1xx
// (a transfer started and has not ended).
func duringTransfer(entries []ftp.Entry) bool {
	for i := len(entries) - 1; i >= 0; i-- {
		e := entries[i]
		if e.Dir != ftp.Received || len(e.Text) < 4 || e.Text[3] != ' ' || e.Text[0] < '1' || e.Text[0] > '5' {
			continue
		}
		return e.Text[0] == '1'
	}
	return false
}

// blockOnDrop blocks the running check when err is s's control connection
// closed by the server right after a command another check judges.
func (s *Session) blockOnDrop(err error) {
	GinkgoHelper()
	if !ClosedByServer(err) || judgeOwnDrop[Running()] {
		return
	}
	if owner, ev := dropBlocker(s.Transcript().Entries()); owner != "" {
		Blocked(owner, ev)
	}
}
