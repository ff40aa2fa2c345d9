package matrix_test

import (
	"testing"

	"github.com/ftpharness/ftpharness/servers/faulty"
	"github.com/ftpharness/ftpharness/suites/report"
)

// One defect, one failure, named after the rule it breaks (issue 17 §4),
// through the proxy against ftpserverlib: an ABOR that drops the session
// fails XFER-012 and only blocks EPSV-007 (which aborts a transfer to see
// EPSV ALL survive it); bare-LF replies fail REPLY-001 from whatever check
// saw them, even when REPLY-001's own spec is not selected.
func TestRightCause(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the suites and runs them through the proxy; skipped with -short")
	}
	t.Run("abor-drops-session", func(t *testing.T) {
		_, tg := proxied(t, "ftpserverlib", faulty.WithFaults(faulty.MustLookup("abor-drops-session")))
		got := runChecks(t, tg, `\b(XFER-012|EPSV-007)\b`)
		expectVerdicts(t, got, map[string]want{
			"XFER-012": {result: report.Fail},
			"EPSV-007": {result: report.Blocked, contains: []string{"blocked by XFER-012", "ABOR during RETR", "control connection was lost"}},
		})
	})
	t.Run("reply-missing-cr", func(t *testing.T) {
		_, tg := proxied(t, "ftpserverlib", faulty.WithFaults(faulty.MustLookup("reply-missing-cr")))
		got := runChecks(t, tg, `\bLIST-005\b`)
		expectVerdicts(t, got, map[string]want{
			"REPLY-001": {result: report.Fail, contains: []string{"line ends in LF without CR", "seen in LIST-005", "RFC 959 §4.2"}},
		})
	})
}
