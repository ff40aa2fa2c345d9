package framework

import (
	"fmt"
	"slices"
	"strings"

	. "github.com/onsi/ginkgo/v2"
)

// EntryEvidence + a catalog ID names a report entry holding evidence that
// the check's rule was broken, seen by whichever spec's session noticed it
// (suites/report gives that check one verdict from the whole run; the spec
// that saw it does not fail because of it). Kept in step with
// report.entryEvidence.
const EntryEvidence = "ftpharness:evidence:"

// Checks whose evidence every session collects.
const (
	checkFraming   = "REPLY-001" // line ends, code, separator
	checkMultiline = "REPLY-002" // multi-line structure
	checkEcho      = "REPLY-004" // framing broken by an echoed CR or LF
	checkPairing   = "REPLY-006" // one completion reply per command
)

// Evidence records text as evidence for check, from the running spec.
func Evidence(check, text string) {
	AddReportEntry(EntryEvidence+check, Sanitize(text), ReportEntryVisibilityNever)
}

// echoChecks send CR or LF inside a command's argument (their catalog
// rows say so): a reply their sessions see broken is most likely the
// argument echoed back, REPLY-004's rule, not the server's framing in
// general. REPLY-004 judges its own sessions.
var echoChecks = map[string]bool{checkEcho: true, "SEC-005": true}

// recordEvidence reports what s saw of the run-wide rules: every extra
// reply (REPLY-006) and every malformed reply, each problem to the check
// whose rule it breaks. A check's own sessions are graded by the check
// itself and are not repeated.
func recordEvidence(s *Session) {
	running := Running()
	for _, u := range s.Unsolicited() {
		Evidence(checkPairing, u.String())
	}
	if running == checkEcho {
		return
	}
	echo := echoChecks[running]
	for _, raw := range s.Unframed() {
		check := checkFraming
		if echo {
			check = checkEcho
		}
		if check != running {
			Evidence(check, fmt.Sprintf("line without a reply code (a reply split over lines without a code?): raw %q", evidenceRaw(raw)))
		}
	}
	greeting := s.Greeting().Problems
	for _, r := range s.Problems() {
		for _, p := range r.Problems {
			check := FramingCheck(p)
			if echo && !slices.Contains(greeting, p) {
				// the greeting, sent before any argument, has not this
				// problem: the echo brought it
				check = checkEcho
			}
			if check != running {
				Evidence(check, fmt.Sprintf("%s: raw %q", p, evidenceRaw(r.Raw)))
			}
		}
	}
}

// FramingCheck is the catalog check whose rule a problem of ftp.Reply
// breaks: the structure of a multi-line reply is REPLY-002's (RFC 959 §4.2
// "the last line will begin with the same code ... padded"), everything
// else — CRLF, the code, the space or hyphen after it — is REPLY-001's (so
// is a line without a code: Conn.Unframed).
func FramingCheck(problem string) string {
	for _, p := range []string{"multi-line reply", "last line has the code", "intermediate line begins"} {
		if strings.HasPrefix(problem, p) {
			return checkMultiline
		}
	}
	return checkFraming
}

// evidenceRaw cuts a reply to what identifies it in a verdict.
func evidenceRaw(raw []byte) []byte {
	const max = 160
	if len(raw) > max {
		return append(append([]byte(nil), raw[:max]...), "…"...)
	}
	return raw
}
