package matrix_test

import (
	"regexp"
	"testing"

	"github.com/ftpharness/ftpharness/matrix"
	"github.com/ftpharness/ftpharness/suites/report"
)

// judgeFaultRun compares a focused fault run's verdicts with the clean ones
// (the TLS and IPv6 fault tests, which run on ftpserverlib alone).
// Declared kills outside focus (MASQ-001 of pasv-wrong-address) are the
// mutation matrix's.
func judgeFaultRun(t *testing.T, d matrix.Declaration, clean, got map[string]report.Verdict, focus *regexp.Regexp) {
	t.Helper()
	kills := map[string]bool{}
	for _, id := range d.Kills {
		kills[id] = true
	}
	for _, id := range sortedIDs(got) {
		c, ok := clean[id]
		if !ok {
			continue
		}
		g := got[id]
		switch {
		case kills[id] && c.Result != report.Pass:
			t.Logf("%s: declared kill, untestable here (clean %s)", id, c.Result)
		case kills[id] && g.Result != report.Fail && g.Result != report.Warn:
			t.Errorf("%s: declared kill survived: %s (%s)", id, g.Result, g.Reason)
		case kills[id]:
			t.Logf("%s killed: %s: %s", id, g.Result, firstLine(g.Reason))
		case g.Result != c.Result:
			if why, ok := d.Tolerated[id]; ok {
				t.Logf("%s: %s -> %s tolerated: %s", id, c.Result, g.Result, why)
				continue
			}
			t.Errorf("%s changed %s -> %s, not declared: %s", id, c.Result, g.Result, firstLine(g.Reason))
		}
	}
	for id := range kills {
		if _, ran := got[id]; !ran && focus.MatchString(id) {
			t.Errorf("%s: declared kill did not run", id)
		}
	}
}
