package matchers

import (
	"fmt"
	"strings"

	"github.com/ftpharness/ftpharness/ftp"
)

// MultilineProblems grades the structure of a reply from its raw bytes
// (RFC 959 §4.2): a multi-line reply starts "ddd-", ends "ddd<SP>" with the
// same code, and an intermediate line that begins with three digits is
// padded — except "ddd-text" with the reply's own code, which cannot be
// mistaken for the last line and is universal practice. Line ends are not
// graded here (REPLY-001 does that).
func MultilineProblems(r ftp.Reply) []string {
	raw := strings.ReplaceAll(string(r.Raw), "\r\n", "\n")
	raw = strings.TrimSuffix(raw, "\n")
	lines := strings.Split(raw, "\n")
	if len(lines) == 0 || len(lines[0]) < 4 || !digits3(lines[0]) {
		return []string{"first line does not start with a three-digit code"}
	}
	code := lines[0][:3]
	if len(lines) == 1 {
		if lines[0][3] != ' ' {
			return []string{fmt.Sprintf("single line %q is not ddd<SP>text", lines[0])}
		}
		return nil
	}
	var out []string
	if lines[0][3] != '-' {
		out = append(out, fmt.Sprintf("first line of a multi-line reply is %q, not %s-", lines[0], code))
	}
	last := lines[len(lines)-1]
	if !(strings.HasPrefix(last, code+" ") || last == code) {
		out = append(out, fmt.Sprintf("last line %q does not start with %q", last, code+" "))
	} else if last == code {
		out = append(out, fmt.Sprintf("last line %q has no space after the code", last))
	}
	for _, l := range lines[1 : len(lines)-1] {
		if digits3(l) && !strings.HasPrefix(l, code+"-") {
			out = append(out, fmt.Sprintf("intermediate line %q begins with three digits and is not padded", l))
		}
	}
	return out
}

func digits3(s string) bool {
	return len(s) >= 3 && s[0] >= '0' && s[0] <= '9' && s[1] >= '0' && s[1] <= '9' && s[2] >= '0' && s[2] <= '9'
}

type multilineMatcher struct{ problems []string }
