package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ftpharness/ftpharness/loadgen"
	"github.com/ftpharness/ftpharness/loadgen/fakeftp"
)

func startFake(t *testing.T, opts fakeftp.Options) *fakeftp.Server {
	t.Helper()
	s, err := fakeftp.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// oneLineErr checks stderr is a single line starting "ftpload: ".
func oneLineErr(t *testing.T, args []string, stderr string) {
	t.Helper()
	if !strings.HasPrefix(stderr, "ftpload: ") || strings.Count(stderr, "\n") != 1 || !strings.HasSuffix(stderr, "\n") {
		t.Errorf("%v: stderr is not one line \"ftpload: …\":\n%s", args, stderr)
	}
}

// Usage errors: exit 2, one line naming the problem and --help, before
// any network work or server start.
func TestUsageErrorsOneLine(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, "no scenario"},
		{[]string{"churn", "--bogus"}, "-bogus"},
		{[]string{"churn", "--target", "ftp://u:pw123@127.0.0.1:99999"}, "port 99999"},
		{[]string{"churn", "--server", "bogus"}, `--server "bogus"`},
		{[]string{"churn", "--server", "sink", "--sessions", "0"}, "--sessions 0"},
		{[]string{"churn", "--target", "127.0.0.1:2121"}, "not an ftp:// URL"},
		{[]string{"churn", "--target", "u:pw123@127.0.0.1:2121"}, "not an ftp:// URL"},
		{[]string{"churn", "--target", "ftp://u:pw123@127.0.0.1:2121", "--tls-insecure"}, "the target is plain FTP"},
		{[]string{"churn", "--server", "sink", "--tls-resume=false"}, "the target is plain FTP"},
		{[]string{"churn", "--target", "ftpes://u:pw123@127.0.0.1:2121", "--tls-ca", filepath.Join(dir, "nope.pem")}, "--tls-ca"},
		{[]string{"churn", "--target", "ftps://u:pw123@127.0.0.1:2121", "--tls-ca", "x.pem", "--tls-insecure"}, "give one of them"},
		{[]string{"churn", "--tls", "bogus"}, `--tls "bogus"`},
		{[]string{"churn", "--tls", "explicit", "--target", "ftp://u:pw123@127.0.0.1:2121"}, "the URL's scheme"},
		{[]string{"churn", "--tls", "explicit", "--server", "sink"}, "the sink speaks no TLS"},
		{[]string{"churn", "--tls", "implicit", "--tls-insecure"}, "test CA"},
		{[]string{"churn", "--server", "sink", "--count", "5", "--json", filepath.Join(dir, "missing", "run.json")}, "--json"},
		{[]string{"churn", "--server", "sink", "--count", "5", "--csv", dir}, "--csv"},
		{[]string{"churn", "--server", "sink", "--allow-remote-data"}, "--strict-address"},
		{[]string{"sink", "--addr", "127.0.0.1:99999"}, "--addr"},
		{[]string{"report", "run.json", "--html", filepath.Join(dir, "missing", "run.html")}, "report: --html"},
		{[]string{"merge", "-o", filepath.Join(dir, "missing", "all.json"), "shard-0.json"}, "merge: -o"},
	} {
		t0 := time.Now()
		code, stdout, stderr := runCLI(t, c.args...)
		if el := time.Since(t0); el > 2*time.Second {
			t.Errorf("%v: took %v", c.args, el)
		}
		if code != exitUsage || !strings.Contains(stderr, c.want) || !strings.Contains(stderr, "(see --help)") || stdout != "" {
			t.Errorf("%v: exit %d, want 2 with %q and (see --help):\nstdout %q\nstderr %q", c.args, code, c.want, stdout, stderr)
		}
		oneLineErr(t, c.args, stderr)
		if strings.Contains(stderr, "pw123") {
			t.Errorf("%v: the password is on stderr: %s", c.args, stderr)
		}
	}
	// the probe leaves no file behind
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("files left in %s: %v", dir, ents)
	}
}

// A refused login is one line and exit 3 within seconds, not a report of
// login errors; the password stays hidden even when the server echoes it.
func TestWrongPassword(t *testing.T) {
	s := startFake(t, fakeftp.Options{Password: "right", LoginRefused: "530 Password wrongpass9 \x1b[31mrejected"})
	for _, sc := range []string{"churn", "exhaust"} {
		args := []string{sc, "--target", "ftp://u:wrongpass9@" + s.Addr(), "--count", "5", "--timeout", "2s"}
		t0 := time.Now()
		code, stdout, stderr := runCLI(t, args...)
		if el := time.Since(t0); el > 5*time.Second {
			t.Errorf("%v: took %v", args, el)
		}
		if code != exitUnreachable || !strings.Contains(stderr, "login refused") || !strings.Contains(stderr, "530") || stdout != "" {
			t.Errorf("%v: exit %d, want 3 and one line with the 530:\nstdout %q\nstderr %q", args, code, stdout, stderr)
		}
		oneLineErr(t, args, stderr)
		if strings.Contains(stderr, "wrongpass9") || strings.Contains(stderr, "\x1b") {
			t.Errorf("%v: stderr shows the password or an escape sequence: %q", args, stderr)
		}
	}
}

// The password appears in no output: terminal, JSON, CSV, HTML.
func TestPasswordNeverInOutput(t *testing.T) {
	s := startFake(t, fakeftp.Options{Password: "s3cr3tpw", Banner: "\x1b]0;pwned\x07 evil banner"})
	dir := t.TempDir()
	js, csv, html := filepath.Join(dir, "run.json"), filepath.Join(dir, "run.csv"), filepath.Join(dir, "run.html")
	code, stdout, stderr := runCLI(t, "churn", "--target", "ftp://u:s3cr3tpw@"+s.Addr(), "--list", "--sessions", "1", "--count", "3", "--json", js, "--csv", csv)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	code2, stdout2, stderr2 := runCLI(t, "report", js, "--html", html)
	if code2 != 0 {
		t.Fatalf("report: exit %d\n%s\n%s", code2, stdout2, stderr2)
	}
	outputs := map[string]string{"stdout": stdout + stdout2, "stderr": stderr + stderr2}
	for _, f := range []string{js, csv, html} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		outputs[filepath.Base(f)] = string(b)
	}
	for name, out := range outputs {
		if strings.Contains(out, "s3cr3tpw") {
			t.Errorf("%s shows the password", name)
		}
	}
	if !strings.Contains(outputs["run.json"], "ftp://u:****@") {
		t.Errorf("the JSON report should keep the command with the password masked:\n%s", outputs["run.json"])
	}
	// the banner reaches the terminal escaped
	if strings.Contains(stdout, "\x1b") || !strings.Contains(stdout, `\x1b]0;pwned\x07`) {
		t.Errorf("banner on the terminal: %q", stdout)
	}
}

// --strict-address against a server that advertises another host: the
// cycles are address-mismatch, nothing connects to that host; also for
// RETR, whose file cannot be uploaded first (before: exit 2 "uploading
// ... for RETR" and a cleanup line about a file never created).
func TestStrictAddressCLI(t *testing.T) {
	for _, mode := range []string{"--list", "--retr"} {
		t.Run(mode, func(t *testing.T) { strictAddressRun(t, mode == "--list") })
	}
}

func strictAddressRun(t *testing.T, list bool) {
	s := startFake(t, fakeftp.Options{PasvHost: "127.77.88.99"})
	js := filepath.Join(t.TempDir(), "run.json")
	args := []string{"churn", "--target", "ftp://u:p@" + s.Addr(), "--sessions", "1", "--count", "20", "--strict-address", "--json", js, "--quiet"}
	if list {
		args = append(args, "--list")
	}
	code, stdout, stderr := runCLI(t, args...)
	if code != 0 || stderr != "" {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	if n := s.Strays(); n != 0 {
		t.Errorf("%d connections to the advertised 127.77.88.99", n)
	}
	f, err := os.Open(js)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rep, err := loadgen.ReadReport(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Errors) != 1 || rep.Errors[0].Class != loadgen.ClassAddrMismatch || rep.Errors[0].Count != 20 {
		t.Errorf("errors %+v, want 20 address-mismatch", rep.Errors)
	}
}
