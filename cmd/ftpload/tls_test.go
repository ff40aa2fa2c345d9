package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ftpharness/ftpharness/loadgen"
	"github.com/ftpharness/ftpharness/servers"
	"github.com/ftpharness/ftpharness/servers/servertest"
)

// ftpload over FTPS against ftpserverlib v0.32.3 with TLS, explicit
// (ftpes://) and implicit (ftps://): the run's report has the TLS
// settings, both handshake phases and the resumption count; the text
// summary says so; a wrong --tls-ca is exit 3 with the certificate
// problem in one line.
func TestFTPSRuns(t *testing.T) {
	for _, mode := range []string{"explicit", "implicit"} {
		t.Run(mode, func(t *testing.T) {
			tg, pr := servertest.Start(t, "ftpserverlib", servers.Spec{PasvMax: 10, TLS: mode})
			scheme := map[string]string{"explicit": "ftpes", "implicit": "ftps"}[mode]
			url := scheme + "://" + tg.User + ":" + tg.Password + "@" + tg.Addr
			out := filepath.Join(t.TempDir(), "run.json")
			code, stdout, stderr := runCLI(t, "churn", "--target", url, "--tls-ca", tg.TLSCA, "--pasv-range", pr.String(),
				"--sessions", "2", "--count", "20", "--duration", "20s", "--json", out, "--tls-resume=false")
			if code != 0 {
				t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
			}
			if !strings.Contains(stdout, "TLS ") || !strings.Contains(stdout, "data-tls-handshake") {
				t.Errorf("text summary without TLS:\n%s", stdout)
			}
			b, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			var rep loadgen.Report
			if err := json.Unmarshal(b, &rep); err != nil {
				t.Fatal(err)
			}
			if rep.Settings.TLS == nil || rep.Settings.TLS.Mode != mode || rep.Settings.TLS.Resume {
				t.Errorf("settings.tls %+v", rep.Settings.TLS)
			}
			if rep.TLS == nil || rep.TLS.DataHandshakes != 20 || rep.TLS.Resumed != 0 || rep.Phases["tls-handshake"].Count == 0 {
				t.Errorf("tls %+v, phases %v", rep.TLS, rep.Phases)
			}
			code, _, stderr = runCLI(t, "churn", "--target", url, "--tls-ca", filepath.Join(t.TempDir(), "none.pem"), "--count", "2")
			if code != exitUsage || !strings.Contains(stderr, "--tls-ca") {
				t.Errorf("missing CA file: exit %d %s", code, stderr)
			}
			code, _, stderr = runCLI(t, "churn", "--target", url, "--count", "2", "--timeout", "3s") // the system pool
			if code != exitUnreachable || !strings.Contains(stderr, "certificate") || strings.Count(stderr, "\n") != 1 {
				t.Errorf("untrusted certificate: exit %d %q", code, stderr)
			}
		})
	}
}

// --tls without --target: the embedded server starts with FTPS and its
// test CA, which the run trusts.
func TestFTPSEmbedded(t *testing.T) {
	out := filepath.Join(t.TempDir(), "run.json")
	code, stdout, stderr := runCLI(t, "churn", "--tls", "implicit", "--count", "10", "--sessions", "2", "--quiet", "--json", out)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var rep loadgen.Report
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Settings.TLS == nil || rep.Settings.TLS.Mode != "implicit" || rep.TLS == nil || rep.TLS.DataHandshakes != 10 || rep.Totals.Errors != 0 {
		t.Errorf("settings.tls %+v, tls %+v, errors %+v", rep.Settings.TLS, rep.TLS, rep.Errors)
	}
}
