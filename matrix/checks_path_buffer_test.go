package matrix_test

import (
	"testing"

	"github.com/ftpharness/ftpharness/servers/faulty"
	"github.com/ftpharness/ftpharness/suites/report"
)

// XFER-014 cuts a download short by closing the data connection after the
// first 64 KiB. Through a relay that reads the whole 16 MiB file ahead of
// the client (docker-proxy where Linux autotunes its buffers: vsftpd and
// proftpd in containers answered 226 in CI), vsftpd has sent everything
// and replied 226 before the client closes: nothing was cut short from the
// server's side, so the check must not fail vsftpd (it skips, naming the
// path); through the transparent proxy the same server passes.
func TestXFER014OnADeepBufferedPath(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the suites and runs them against vsftpd; skipped with -short")
	}
	t.Run("transparent", func(t *testing.T) {
		t.Parallel()
		_, tg := proxied(t, "vsftpd")
		expectVerdicts(t, runChecks(t, tg, `\bXFER-014\b`), map[string]want{
			"XFER-014": {result: report.Pass},
		})
	})
	t.Run("read-ahead", func(t *testing.T) {
		t.Parallel()
		_, tg := proxied(t, "vsftpd", faulty.ReadAhead(64<<20))
		expectVerdicts(t, runChecks(t, tg, `\bXFER-014\b`), map[string]want{
			"XFER-014": {result: report.Skip, contains: []string{"226", "docker-proxy", "XFER-018"}},
		})
	})
}
