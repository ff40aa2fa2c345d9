package matrix

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/ftpharness/ftpharness/servers/faulty"
)

// TestJudgeBlocked: a check blocked by one of the fault's declared kills
// is neither a kill nor unexpected (one defect, one failure); an undeclared
// check that fails or warns, or is blocked by a check the fault does not
// declare, still fails the row.
func TestJudgeBlocked(t *testing.T) {
	f := faulty.MustLookup("pasv-port-cooldown")
	clean := map[string]string{"RANGE-007": "pass", "PASV-004": "pass", "XFER-001": "pass", "RANGE-002": "pass", "PASV-005": "pass", "XFER-002": "pass"}
	reasons := map[string]string{
		"RANGE-007": "transfer 21 of 25: PASV: 500 Can't open passive connection: bind: Address already in use.",
		"PASV-004":  "blocked by RANGE-007: PASV answered 500 Can't open passive connection: bind: Address already in use.",
		"XFER-001":  "blocked by RANGE-007: EPSV answered 500 ...",
		"PASV-005":  "blocked by SEQ-001: the greeting was 421",
		"XFER-002":  "RETR over EPSV: 500 Address already in use",
	}
	cases := []struct {
		name                string
		faulted             map[string]string
		blocked, unexpected []string
		killed              []string
		ok                  bool
	}{
		{"only blocked", map[string]string{"RANGE-007": "warn", "PASV-004": "blocked", "XFER-001": "blocked", "RANGE-002": "pass", "PASV-005": "pass", "XFER-002": "pass"},
			[]string{"PASV-004", "XFER-001"}, nil, []string{"RANGE-007"}, true},
		{"an undeclared failure", map[string]string{"RANGE-007": "warn", "PASV-004": "blocked", "XFER-001": "pass", "RANGE-002": "pass", "PASV-005": "pass", "XFER-002": "fail"},
			[]string{"PASV-004"}, []string{"XFER-002"}, []string{"RANGE-007", "XFER-002"}, false},
		{"an undeclared warning", map[string]string{"RANGE-007": "warn", "PASV-004": "pass", "XFER-001": "pass", "RANGE-002": "pass", "PASV-005": "warn", "XFER-002": "pass"},
			nil, []string{"PASV-005"}, []string{"PASV-005", "RANGE-007"}, false},
		{"blocked by a check the fault does not declare", map[string]string{"RANGE-007": "warn", "PASV-004": "pass", "XFER-001": "pass", "RANGE-002": "pass", "PASV-005": "blocked", "XFER-002": "pass"},
			nil, []string{"PASV-005"}, []string{"RANGE-007"}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var fo FaultOutcome
			judge(&fo, f, Evaluate(f, Declared(f.Name).Kills, clean, c.faulted), clean, c.faulted, reasons)
			if !reflect.DeepEqual(fo.Blocked, c.blocked) || !reflect.DeepEqual(fo.Unexpected, c.unexpected) || !reflect.DeepEqual(fo.Killed, c.killed) || fo.OK != c.ok {
				t.Errorf("blocked %v, unexpected %v, killed %v, ok %v; want blocked %v, unexpected %v, killed %v, ok %v",
					fo.Blocked, fo.Unexpected, fo.Killed, fo.OK, c.blocked, c.unexpected, c.killed, c.ok)
			}
		})
	}
}

// TestJudgeDeclaredCascade: a declared kill that the suite now reports as
// blocked by another declared kill the fault killed (PASV answered with
// five numbers: PASV-002 fails, the checks that needed a passive
// connection are blocked by it) is the cascade, not a missed kill.
func TestJudgeDeclaredCascade(t *testing.T) {
	f := faulty.MustLookup("pasv-five-numbers")
	if kills := Declared(f.Name).Kills; !contains(kills, "PASV-002") || !contains(kills, "PASV-004") {
		t.Fatalf("pasv-five-numbers declares %v", kills)
	}
	clean := map[string]string{"PASV-002": "pass", "PASV-004": "pass"}
	reasons := map[string]string{"PASV-004": "blocked by PASV-002: PASV answered 227 Entering Passive Mode (127,0,0,1,117)."}
	faulted := map[string]string{"PASV-002": "fail", "PASV-004": "blocked"}
	var fo FaultOutcome
	judge(&fo, f, Evaluate(f, Declared(f.Name).Kills, clean, faulted), clean, faulted, reasons)
	if !reflect.DeepEqual(fo.Blocked, []string{"PASV-004"}) || len(fo.Missed) != 0 || !fo.OK {
		t.Errorf("blocked %v, missed %v, ok %v; want PASV-004 blocked, nothing missed, ok", fo.Blocked, fo.Missed, fo.OK)
	}
	// blocked by a declared check the fault made worse (warn → fail): the
	// cascade too
	clean["PASV-002"] = "warn"
	fo = FaultOutcome{}
	judge(&fo, f, Evaluate(f, Declared(f.Name).Kills, clean, faulted), clean, faulted, reasons)
	if !reflect.DeepEqual(fo.Blocked, []string{"PASV-004"}) || !fo.OK {
		t.Errorf("blocked %v, missed %v, ok %v; want PASV-004 blocked by the worse PASV-002", fo.Blocked, fo.Missed, fo.OK)
	}
	// blocked by a declared check the fault did not change: still missed
	clean["PASV-002"] = "fail"
	fo = FaultOutcome{}
	judge(&fo, f, Evaluate(f, Declared(f.Name).Kills, clean, faulted), clean, faulted, reasons)
	if len(fo.Missed) != 1 || fo.OK {
		t.Errorf("missed %v, ok %v; want PASV-004 missed", fo.Missed, fo.OK)
	}
}

// A run's directory name stays short however many check IDs its focus
// lists (data-no-226 selects 33), and distinct selections stay distinct.
func TestSlugBounded(t *testing.T) {
	var ids []string
	for i := 0; i < 40; i++ {
		ids = append(ids, fmt.Sprintf("XFER-%03d", i))
	}
	a := slug(`focus \b(` + strings.Join(ids, "|") + `)\b, timeout 2s`)
	b := slug(`focus \b(` + strings.Join(ids[1:], "|") + `)\b, timeout 2s`)
	if len(a) > maxSlug || len(b) > maxSlug || a == b {
		t.Errorf("slugs %q (%d) and %q (%d): want distinct, at most %d bytes", a, len(a), b, len(b), maxSlug)
	}
	if got := slug("pasv || transfer"); got != "-pasv+transfer" {
		t.Errorf("short slug: %q", got)
	}
}

// A server's additions (servers: in mutations.yaml) count on that server
// only; a focused run selects every server's kills.
func TestDeclaredOn(t *testing.T) {
	const f = "pasv-shared-port"
	if !contains(DeclaredOn(f, "vsftpd").Kills, "RANGE-008") || contains(DeclaredOn(f, "pyftpdlib").Kills, "RANGE-008") {
		t.Errorf("%s: RANGE-008 must be a kill on vsftpd only: vsftpd %v, pyftpdlib %v", f, DeclaredOn(f, "vsftpd").Kills, DeclaredOn(f, "pyftpdlib").Kills)
	}
	if all := AllKills(f); !contains(all, "RANGE-008") || !contains(all, "RANGE-002") {
		t.Errorf("%s: AllKills %v", f, all)
	}
}

// A focused transparency comparison leaves the run-wide checks to the
// whole suite's (their verdict depends on which selected checks saw
// evidence); the whole suite compares them.
func TestTransparencyExcludesRunWideWhenFocused(t *testing.T) {
	direct := map[string]string{"REPLY-006": "fail", "PASV-010": "pass"}
	proxy := map[string]string{"PASV-010": "pass"}
	if ch := diff(direct, proxy, nil, transparencyExclude("pasv", nil)); len(ch) != 0 {
		t.Errorf("focused: %v, want no change", ch)
	}
	if ch := diff(direct, proxy, nil, transparencyExclude("", nil)); len(ch) != 1 || ch[0].ID != "REPLY-006" {
		t.Errorf("whole suite: %v, want the REPLY-006 change", ch)
	}
}
