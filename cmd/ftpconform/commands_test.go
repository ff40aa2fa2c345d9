package main

import (
	"bytes"
	"os/exec"
	"reflect"
	"strings"
	"testing"
)

// Each subcommand is the flag it stands for; flags alone pass unchanged.
func TestCommandArgs(t *testing.T) {
	for in, want := range map[string]string{
		"":                                       "",
		"--ftp.addr=h:21":                        "--ftp.addr=h:21",
		"run --ftp.addr=h:21":                    "--ftp.addr=h:21",
		"list":                                   "--list-checks",
		"labels":                                 "--list-labels",
		"expect a.yaml,b.yaml --verdicts=v.json": "--expect=a.yaml,b.yaml --verdicts=v.json",
		"matrix all --matrix-out=d -- --ginkgo.focus=X": "--matrix=all --matrix-out=d -- --ginkgo.focus=X",
		"mutation pyftpdlib":                            "--mutation=pyftpdlib",
	} {
		got, err := commandArgs(strings.Fields(in))
		if err != nil || !reflect.DeepEqual(got, strings.Fields(want)) {
			t.Errorf("%q: got %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"bogus", "matrix", "expect --ftp.addr=h:21"} {
		if _, err := commandArgs(strings.Fields(bad)); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// Into a pipe (a file, a CI log) the output has no ANSI colour codes.
func TestNoColourIntoAPipe(t *testing.T) {
	cmd := exec.Command(binary(t), "--ginkgo.focus=PASV-001")
	cmd.Env = cleanEnv()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if bytes.Contains(out, []byte("\x1b[")) {
		t.Errorf("ANSI codes in piped output:\n%q", out)
	}
}
