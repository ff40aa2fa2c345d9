package framework

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/ftpharness/ftpharness/ftp"
)

func sent(s string) ftp.Entry { return ftp.Entry{Dir: ftp.Sent, Text: s} }
func recv(s string) ftp.Entry { return ftp.Entry{Dir: ftp.Received, Text: s} }

// A session the server closes right after an ABOR sent during a transfer
// is XFER-012's defect; the same close after ABOR with no transfer
// running, or after another command, is not attributed.
func TestDropBlocker(t *testing.T) {
	retr := []ftp.Entry{sent("PASV"), recv("227 Entering Passive Mode (127,0,0,1,4,1)"), sent("RETR big"), recv("150 Opening BINARY mode data connection")}
	cases := []struct {
		name    string
		entries []ftp.Entry
		owner   string
	}{
		{"ABOR unanswered", append(append([]ftp.Entry{}, retr...), sent("ABOR")), "XFER-012"},
		{"next command after ABOR", append(append([]ftp.Entry{}, retr...), sent("ABOR"), recv("426 Aborted"), recv("226 ABOR ok"), sent("PASV")), "XFER-012"},
		{"ABOR without a transfer", []ftp.Entry{sent("PASV"), recv("227 (127,0,0,1,4,1)"), sent("ABOR")}, ""},
		{"other command", append(append([]ftp.Entry{}, retr...), sent("STAT")), ""},
		{"two commands after ABOR", append(append([]ftp.Entry{}, retr...), sent("ABOR"), recv("226 ok"), sent("NOOP"), recv("200 ok"), sent("PASV")), ""},
	}
	for _, c := range cases {
		owner, ev := dropBlocker(c.entries)
		if owner != c.owner {
			t.Errorf("%s: owner %q, want %q (%s)", c.name, owner, c.owner, ev)
		}
		if owner != "" && !strings.Contains(ev, "ABOR") {
			t.Errorf("%s: evidence %q does not name ABOR", c.name, ev)
		}
	}
	if !ClosedByServer(&ftp.OpError{Op: "read reply", Err: io.EOF}) || ClosedByServer(errors.New("i/o timeout")) {
		t.Error("ClosedByServer: EOF is a close, a timeout is not")
	}
}
