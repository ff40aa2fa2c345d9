package matrix_test

import (
	"testing"

	"github.com/ftpharness/ftpharness/matrix"
	"github.com/ftpharness/ftpharness/servers/faulty"
	"github.com/ftpharness/ftpharness/suites/report"
)

const hostFocus = `\bHOST-00[1-5]\b`

// The HOST faults proven where HOST exists: proftpd is the only server on
// tap that implements RFC 7151, so the mutation matrix (pyftpdlib, vsftpd)
// can only report their kills untestable. Here each fault of
// fixtures/mutations.yaml named host-* runs through the proxy in front of
// proftpd: the clean proxy passes HOST-001..005, and each fault fails
// exactly the checks it declares, leaving the other HOST checks passing.
func TestHostFaultsOnProftpd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the suites and runs them through the proxy against proftpd; skipped with -short")
	}
	all := []string{"HOST-001", "HOST-002", "HOST-003", "HOST-004", "HOST-005"}
	t.Run("clean", func(t *testing.T) {
		_, tg := proxied(t, "proftpd")
		wants := map[string]want{}
		for _, id := range all {
			wants[id] = want{result: report.Pass}
		}
		expectVerdicts(t, runChecks(t, tg, hostFocus), wants)
	})
	for _, name := range []string{"host-ok-200", "host-after-login-accepted", "host-port-accepted", "host-unknown-accepted", "host-repeat-refused"} {
		t.Run(name, func(t *testing.T) {
			kills := map[string]bool{}
			for _, id := range matrix.Declared(name).Kills {
				kills[id] = true
			}
			if len(kills) == 0 {
				t.Fatalf("fixtures/mutations.yaml declares no kills for %s", name)
			}
			_, tg := proxied(t, "proftpd", faulty.WithFaults(faulty.MustLookup(name)))
			wants := map[string]want{}
			for _, id := range all {
				wants[id] = want{result: report.Pass}
				if kills[id] {
					wants[id] = want{result: report.Fail}
				}
			}
			expectVerdicts(t, runChecks(t, tg, hostFocus), wants)
		})
	}
}
