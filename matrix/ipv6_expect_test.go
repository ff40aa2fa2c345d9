package matrix_test

import (
	"testing"

	"github.com/ftpharness/ftpharness/matrix"
	"github.com/ftpharness/ftpharness/suites/report"
)

// TestLoadIPv6 lays ipv6/common.yaml, then ipv6/<server>.yaml, over the
// server's expectations: a row of the server's layer wins over common's,
// common's over the IPv4 file's.
func TestLoadIPv6(t *testing.T) {
	for _, s := range []string{"ftpserverlib", "goftp", "inetutils", "proftpd", "pure-ftpd", "pyftpdlib", "twisted", "vsftpd"} {
		e, err := matrix.LoadIPv6("../fixtures/expectations", s)
		if err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		if got := e.Expected("PASV-001"); got != report.Skip {
			t.Errorf("%s: PASV-001 over IPv6 expected %s, want skip (common.yaml)", s, got)
		}
		if got := e.Expected("PASV-016"); got != report.Observe {
			t.Errorf("%s: PASV-016 over IPv6 expected %s, want observe (common.yaml over the IPv4 skip)", s, got)
		}
		if got := e.Expected("PASV-019"); got == report.Skip {
			t.Errorf("%s: PASV-019 over IPv6 expected skip: ipv6/%s.yaml must judge it", s, s)
		}
	}
}
