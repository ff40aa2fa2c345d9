package matrix_test

import (
	"regexp"
	"testing"

	"github.com/ftpharness/ftpharness/matrix"
	"github.com/ftpharness/ftpharness/servers"
	"github.com/ftpharness/ftpharness/servers/faulty"
	"github.com/ftpharness/ftpharness/suites/report"
)

// ipv6FaultFocus is a small selection around PASV-019: the other passive
// checks that run over IPv6 (EPSV, PASV-016's record) must not change.
const ipv6FaultFocus = `\b(PASV-01[6-9]|EPSV-00[1-7])\b`

// pasv-v6-malformed-227 proven where it acts: the mutation matrix reaches
// its servers over 127.0.0.1, where PASV-019 skips. Here the proxy stands
// on [::1] in front of ftpserverlib v0.32.3 on ::1: clean, PASV-019 passes
// (the library refuses PASV over IPv6); with the fault PASV-019 fails and
// no other check of the selection changes its verdict.
func TestIPv6FaultOnFtpserverlib(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the suites and runs them through the proxy against ftpserverlib on ::1; skipped with -short")
	}
	const name = "pasv-v6-malformed-227"
	spec := servers.Spec{ListenAddress: "::1"}
	_, tg := proxiedSpec(t, "ftpserverlib", spec)
	clean := runChecks(t, tg, ipv6FaultFocus)
	if v := clean["PASV-019"]; v.Result != report.Pass {
		t.Fatalf("clean PASV-019 over IPv6: %s (%s), want pass", v.Result, v.Reason)
	}
	for _, id := range sortedIDs(clean) {
		t.Logf("clean %s: %s", id, clean[id].Result)
	}
	d := matrix.DeclaredOn(name, "ftpserverlib")
	if len(d.Kills) == 0 {
		t.Fatalf("fixtures/mutations.yaml declares no kills for %s", name)
	}
	_, ftg := proxiedSpec(t, "ftpserverlib", spec, faulty.WithFaults(faulty.MustLookup(name)))
	got := runChecks(t, ftg, ipv6FaultFocus)
	judgeFaultRun(t, d, clean, got, regexp.MustCompile(ipv6FaultFocus))
}
