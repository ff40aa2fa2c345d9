package matrix_test

import (
	"testing"

	"github.com/ftpharness/ftpharness/servers/faulty"
	"github.com/ftpharness/ftpharness/suites/report"
)

// The checks of a transfer in progress (ABOR, STAT, QUIT, a closed data
// connection, a stall) hold a RETR of a 16 MiB file after reading 64 KiB.
// Through a relay that reads the whole file ahead of the client
// (docker-proxy where Linux autotunes its buffers: vsftpd in a container
// answered 226 first in CI), vsftpd has sent everything and replied 226
// during the hold: no transfer is in progress, so no check may judge
// vsftpd on one (XFER-014 failed it, XFER-012/024 warned that it deferred
// ABOR): each skips, naming the path. Through the transparent proxy the
// same server passes XFER-014.
func TestHeldTransfersOnADeepBufferedPath(t *testing.T) {
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
		_, tg := proxied(t, "vsftpd", faulty.ReadAhead(128<<20))
		path := []string{"226", "docker-proxy", "XFER-018"}
		// the relay sends the first byte only once vsftpd has sent the
		// whole 64 MiB and its 226 is through: on a loaded machine that
		// took more than the 5 s the checks give the first data here
		got := runChecksArgs(t, tg, `\b(XFER-012|XFER-013|XFER-014|XFER-015|XFER-017|XFER-024)\b`, "-ftp.timeout=30s")
		expectVerdicts(t, got, map[string]want{
			"XFER-012": {result: report.Skip, contains: path},
			"XFER-013": {result: report.Skip, contains: append([]string{"idle case passed"}, path...)},
			"XFER-014": {result: report.Skip, contains: path},
			"XFER-015": {result: report.Skip, contains: path},
			"XFER-017": {result: report.Skip, contains: append([]string{"QUIT during a STOR passed"}, path...)},
			"XFER-024": {result: report.Skip, contains: path},
		})
	})
}
