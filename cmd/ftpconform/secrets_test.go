package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/ftpharness/ftpharness/servers"
)

// secretPW is distinctive so a grep finds any leak, and long enough that
// the framework masks it wherever it occurs.
const secretPW = "Zq7-secret-pw-9Xk"

// secretChecks send the password raw (SEC-005: after a bare CR, LF or NUL;
// SEQ-020: pipelined), in labels (REPLY-001/003) and in failing
// sequences (SEQ-003..005), with verbose output so GinkgoWriter shows too.
const secretChecks = "SEC-005|SEQ-00[2-5]|SEQ-008|SEQ-020|REPLY-00[1-3]"

// buildTool builds ../<name> into dir once per test binary.
func buildTool(t *testing.T, dir, name string) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go toolchain on PATH to build " + name)
	}
	out := filepath.Join(dir, name)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, goBin, "build", "-o", out, "../"+name)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ../%s: %v\n%s", name, err, b)
	}
	return out
}

// runTool runs bin with args under a deadline and returns stdout+stderr.
func runTool(t *testing.T, d time.Duration, bin string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("%s %v did not finish within %v:\n%s", filepath.Base(bin), args, d, out.Bytes())
	}
	t.Logf("%s exit: %v", filepath.Base(bin), err)
	return out.Bytes()
}

// grepTree fails for every file under dir whose bytes contain secret.
func grepTree(t *testing.T, dir, secret string) {
	t.Helper()
	n := 0
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() {
			return err
		}
		n++
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if i := bytes.Index(b, []byte(secret)); i >= 0 {
			t.Errorf("%s holds the password: …%s…", p, b[max(0, i-120):min(len(b), i+len(secret)+40)])
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Errorf("no files written under %s", dir)
	}
}

// TestPasswordNeverWritten runs ftpconform (checks that send the password
// raw, in labels and in failing sequences) and ftpload against a server
// whose password is distinctive, then greps everything they wrote and
// printed for it.
func TestPasswordNeverWritten(t *testing.T) {
	bins := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	root := t.TempDir()
	srv, err := servers.Start(ctx, "ftpserverlib", servers.Spec{Root: root, StateDir: filepath.Join(root, ".state"), Password: secretPW})
	if err != nil {
		t.Fatalf("start ftpserverlib: %v", err)
	}
	defer srv.Stop()
	tg := srv.Target()
	url := fmt.Sprintf("ftp://%s:%s@%s", tg.User, secretPW, tg.Addr)

	t.Run("ftpconform", func(t *testing.T) {
		conform := buildTool(t, bins, "ftpconform")
		out := t.TempDir()
		rep := filepath.Join(out, "reports")
		stdout := runTool(t, 2*time.Minute, conform, "--ftp.url="+url, "--ftp.pasv-range="+tg.PasvRange,
			"--report-dir="+rep, "--ginkgo.v", "--ginkgo.focus="+secretChecks,
			"--ginkgo.json-report="+filepath.Join(out, "ginkgo-own.json"), "--ginkgo.junit-report="+filepath.Join(out, "junit-own.xml"))
		if !bytes.Contains(stdout, []byte("SEC-005")) {
			t.Fatalf("SEC-005 did not run:\n%s", stdout)
		}
		if err := os.WriteFile(filepath.Join(out, "stdout.txt"), stdout, 0o644); err != nil {
			t.Fatal(err)
		}
		grepTree(t, out, secretPW)
	})
	// settings.command of ftpload's JSON report holds the URL until the
	// ftpload branch masks it.
	t.Run("ftpload", func(t *testing.T) {
		load := buildTool(t, bins, "ftpload")
		out := t.TempDir()
		j := filepath.Join(out, "churn.json")
		stdout := runTool(t, time.Minute, load, "churn", "--target", url, "--pasv-range", tg.PasvRange,
			"--duration", "2s", "--sessions", "2", "--json", j, "--csv", filepath.Join(out, "churn.csv"))
		stdout = append(stdout, runTool(t, time.Minute, load, "report", j, "--html", filepath.Join(out, "churn.html"))...)
		if err := os.WriteFile(filepath.Join(out, "stdout.txt"), stdout, 0o644); err != nil {
			t.Fatal(err)
		}
		grepTree(t, out, secretPW)
	})
}

// hostileText carries what a server could use to drive a terminal: SGR
// colour, an OSC 8 hyperlink, an OSC 52 clipboard write, a raw C1 CSI
// byte, a C1 CSI rune, a bare CR and invalid UTF-8.
const hostileText = "\x1b[31mred\x1b[0m \x1b]8;;http://x/\x07link\x1b]8;;\x07 \x1b]52;c;ZXZpbA==\x07 \x9b2J \u009b1m \rover \xff\xfe"

// hostileServer answers every command with hostileText in its replies
// (USER 331, PASS 230, everything else 500) and a greeting made of it.
func hostileServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				c.SetDeadline(time.Now().Add(time.Minute))
				fmt.Fprintf(c, "220-%s\r\n %s\r\n220 %s\r\n", hostileText, hostileText, hostileText)
				br := bufio.NewReaderSize(c, 4096)
				for i := 0; i < 500; i++ {
					l, err := br.ReadString('\n')
					if err != nil {
						return
					}
					code := 500
					switch strings.ToUpper(strings.Fields(l + " x")[0]) {
					case "USER":
						code = 331
					case "PASS":
						code = 230
					case "QUIT":
						fmt.Fprintf(c, "221 %s\r\n", hostileText)
						return
					}
					fmt.Fprintf(c, "%d %s\r\n", code, hostileText)
				}
			}()
		}
	}()
	return ln.Addr().String()
}

// TestServerBytesEscaped runs checks against a server whose banner and
// replies carry terminal control sequences: ftpconform's output (without
// Ginkgo's own colours) and its reports hold none of them raw, and the
// HTML page is valid UTF-8.
func TestServerBytesEscaped(t *testing.T) {
	conform := buildTool(t, t.TempDir(), "ftpconform")
	addr := hostileServer(t)
	rep := t.TempDir()
	stdout := runTool(t, 2*time.Minute, conform, "--ftp.url=ftp://u:"+secretPW+"@"+addr, "--ftp.timeout=3s",
		"--report-dir="+rep, "--ginkgo.v", "--ginkgo.no-color", "--ginkgo.focus=REPLY-00[1-3]|SEQ-00[12]|FEAT-001")
	if !bytes.Contains(stdout, []byte("REPLY-001")) {
		t.Fatalf("REPLY-001 did not run:\n%s", stdout)
	}
	for name, b := range map[string][]byte{"output": stdout} {
		assertNoControls(t, name, b)
	}
	for _, f := range []string{"report.html"} {
		b, err := os.ReadFile(filepath.Join(rep, f))
		if err != nil {
			t.Fatal(err)
		}
		assertNoControls(t, f, b)
	}
}

// assertNoControls fails when b is invalid UTF-8 or holds a control byte a
// terminal acts on (tab and newline excepted).
func assertNoControls(t *testing.T, what string, b []byte) {
	t.Helper()
	if !utf8.Valid(b) {
		t.Errorf("%s is not valid UTF-8", what)
	}
	for i, r := range string(b) {
		if (r < 0x20 && r != '\t' && r != '\n') || (r >= 0x7f && r <= 0x9f) {
			t.Errorf("%s holds control %U at %d: …%q…", what, r, i, b[max(0, i-80):min(len(b), i+40)])
			return
		}
	}
}
