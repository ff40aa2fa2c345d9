package matrix_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ftpharness/ftpharness/suites/report"
	"github.com/ftpharness/ftpharness/target"
)

// The NAT/container verdicts, both ways: through each NAT fault the check
// fails (or warns) and its message names the problem and the server's
// setting; through the clean proxy the same checks pass. The suites run in
// a child process (their test binary), focused on the checks concerned,
// against ftpserverlib behind the proxy.

var (
	suitesBinOnce sync.Once
	suitesBin     string
	suitesBinErr  error
)

func suitesBinary(t *testing.T) string {
	t.Helper()
	suitesBinOnce.Do(func() {
		dir, err := os.MkdirTemp("", "matrix-suites-")
		if err != nil {
			suitesBinErr = err
			return
		}
		suitesBin = filepath.Join(dir, "suites.test")
		cmd := exec.Command("go", "test", "-c", "-o", suitesBin, "../suites")
		if out, err := cmd.CombinedOutput(); err != nil {
			suitesBinErr = fmt.Errorf("build the suites: %v\n%s", err, out)
		}
	})
	if suitesBinErr != nil {
		t.Fatal(suitesBinErr)
	}
	return suitesBin
}

// runChecks runs the checks matching focus against tg and returns their
// verdicts by ID.
func runChecks(t *testing.T, tg target.Config, focus string) map[string]report.Verdict {
	t.Helper()
	return runChecksArgs(t, tg, focus)
}

// runChecksArgs is runChecks with more ftpconform flags (a flag given
// twice takes the later value: "-ftp.timeout=30s" replaces the 5 s).
func runChecksArgs(t *testing.T, tg target.Config, focus string, args ...string) map[string]report.Verdict {
	t.Helper()
	bin := suitesBinary(t)
	dir := t.TempDir()
	profile := filepath.Join(dir, "profile.yaml")
	if err := tg.WriteProfile(profile); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append([]string{"-ftp.profile=" + profile, "-ftp.timeout=5s", "-report-dir=" + dir,
		"-ginkgo.focus=" + focus, "-ginkgo.no-color"}, args...)...)
	out, _ := cmd.CombinedOutput()
	f, err := os.Open(filepath.Join(dir, "verdicts.json"))
	if err != nil {
		t.Fatalf("no verdicts (%v):\n%s", err, out)
	}
	defer f.Close()
	run, err := report.ReadJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	vs := map[string]report.Verdict{}
	for _, v := range run.Verdicts {
		if v.Result != report.Skip || !strings.Contains(v.Reason, "not selected") {
			vs[v.ID] = v
		}
	}
	return vs
}

type want struct {
	result   report.Result
	contains []string
}

func expectVerdicts(t *testing.T, got map[string]report.Verdict, wants map[string]want) {
	t.Helper()
	for id, w := range wants {
		v, ok := got[id]
		if !ok {
			t.Errorf("%s did not run", id)
			continue
		}
		if v.Result != w.result {
			t.Errorf("%s: %s, want %s: %s", id, v.Result, w.result, v.Reason)
			continue
		}
		for _, s := range w.contains {
			if !strings.Contains(v.Reason, s) {
				t.Errorf("%s (%s): message lacks %q:\n%s", id, v.Result, s, v.Reason)
			}
		}
		if w.result != report.Pass {
			t.Logf("%s %s: %s", id, v.Result, v.Reason)
		}
	}
}

const natFocus = `\b(PASV-003|PASV-004|MASQ-001|MASQ-004|RANGE-001)\b`

func TestNATMessages(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the suites and runs them through the proxy; skipped with -short")
	}
	pass := want{result: report.Pass}

	t.Run("clean", func(t *testing.T) {
		_, tg := proxied(t, "ftpserverlib")
		tg.PasvAddress = ""
		expectVerdicts(t, runChecks(t, tg, natFocus), map[string]want{
			"PASV-003": pass, "PASV-004": pass, "MASQ-004": pass, "RANGE-001": pass,
		})
		tg.PasvAddress = "127.0.0.1"
		expectVerdicts(t, runChecks(t, tg, `\bMASQ-001\b`), map[string]want{"MASQ-001": pass})
	})

	addressFix := []string{
		"server advertised 127.77.88.99 in 227 but the control connection goes to 127.0.0.1: the server is behind NAT or in a container and advertises its own address; set the address it advertises to 127.0.0.1 — ftpserverlib: Settings.PublicHost = \"127.0.0.1\"",
		"227 Entering Passive Mode (127,77,88,99,",
	}
	t.Run("pasv-advertise-foreign", func(t *testing.T) {
		_, tg := withFault(t, "pasv-advertise-foreign")
		tg.PasvAddress = ""
		expectVerdicts(t, runChecks(t, tg, natFocus), map[string]want{
			"PASV-003": {report.Warn, addressFix},
			"MASQ-004": {report.Warn, append(addressFix, "is not reachable (connection refused)")},
			"PASV-004": pass, "RANGE-001": pass,
		})
		tg.PasvAddress = "127.0.0.1"
		expectVerdicts(t, runChecks(t, tg, `\bMASQ-001\b`), map[string]want{
			"MASQ-001": {report.Warn, append(addressFix, "advertised 127.77.88.99, not the declared 127.0.0.1")},
		})
	})

	t.Run("pasv-port-unpublished", func(t *testing.T) {
		p, tg := withFault(t, "pasv-port-unpublished")
		tg.PasvAddress = ""
		lo, hi := p.Range()
		expectVerdicts(t, runChecks(t, tg, natFocus), map[string]want{
			"PASV-004": {report.Fail, []string{
				"nothing accepted a connection at 127.0.0.1:",
				", the port the 227 advertised (connection refused); if the server runs in a container or behind NAT/a firewall, port ",
				fmt.Sprintf(" is not published/forwarded: publish the whole passive range one-to-one (e.g. docker run -p %d-%d:%d-%d) and set the same range in the server (ftpserverlib: Settings.PassiveTransferPortRange = {Start: %d, End: %d})", lo, hi, lo, hi, lo, hi),
				"the passive range is only partly published/forwarded",
			}},
			"PASV-003": pass, "MASQ-004": pass, "RANGE-001": pass,
		})
	})

	t.Run("pasv-port-shift", func(t *testing.T) {
		p, tg := withFault(t, "pasv-port-shift")
		tg.PasvAddress = ""
		lo, hi := p.Range()
		rangeFix := fmt.Sprintf("the server advertises its own (container-side) ports, so the mapping must be one-to-one (e.g. docker run -p %d-%d:%d-%d, the same range set in the server: ftpserverlib: Settings.PassiveTransferPortRange = {Start: %d, End: %d}) or the server must be told the external ports", lo, hi, lo, hi, lo, hi)
		expectVerdicts(t, runChecks(t, tg, natFocus), map[string]want{
			"PASV-004": {report.Fail, []string{
				"nothing accepted a connection at 127.0.0.1:", "the port the 227 advertised (connection refused); port ",
				fmt.Sprintf(" is outside the declared range %d-%d: ", lo, hi), rangeFix,
			}},
			"RANGE-001": {report.Warn, []string{fmt.Sprintf("are outside the declared range %d-%d: if the server runs in a container or behind NAT that maps ports, ", lo, hi),
				strings.Replace(rangeFix, "(e.g. docker", "(docker", 1)}},
			"PASV-003": pass,
		})
	})
}
