package matchers

import (
	"strings"
	"testing"

	"github.com/ftpharness/ftpharness/ftp"
)

// A reply matcher's message is one line: the rule, then the raw reply
// (before: "Expected reply code 501\n  got: ...\n  raw: ..."; negated, it
// claimed the opposite rule).
func TestReplyMessagesAreOneLine(t *testing.T) {
	r := ftp.Reply{Code: 230, Lines: []string{"230 ok"}, Raw: []byte("230 ok\r\n")}
	m := HaveCode(230)
	for msg, want := range map[string]string{
		m.NegatedFailureMessage(r):        `want reply code other than 230, got "230 ok\r\n"`,
		HaveCode(501).FailureMessage(r):   `want reply code 501, got "230 ok\r\n"`,
		HaveClass(4, 5).FailureMessage(r): `want a 4 or 5xx reply, got "230 ok\r\n"`,
	} {
		if msg != want || strings.Contains(msg, "\n") {
			t.Errorf("%q, want %q", msg, want)
		}
	}
}
