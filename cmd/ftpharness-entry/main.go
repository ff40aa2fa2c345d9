// Command ftpharness-entry is the entrypoint of the ftpharness/harness
// container image. The first argument picks the tool:
//
//	conform [ftpconform flags]         (default; also when the first argument is a flag)
//	load [SCENARIO] [ftpload flags]    (SCENARIO default $FTPH_LOAD_SCENARIO, else exhaust)
//	PROGRAM [args]                     anything else runs as is (e.g. ftpconform --list-checks)
//
// It maps FTPH_* variables onto flags the tools do not read themselves
// (ftpconform already reads FTPH_ADDR, FTPH_USER, FTPH_PASSWORD,
// FTPH_PASV_RANGE, FTPH_PASV_ADDRESS, FTPH_TIMEOUT, FTPH_FEATURES, ...):
//
//	FTPH_REPORT_DIR    reports directory (default /reports): ftpconform
//	                   --report-dir; ftpload --json DIR/ftpload.json
//	                   (empty string: no reports)
//	FTPH_LABEL_FILTER  ftpconform --ginkgo.label-filter
//	FTPH_FOCUS         ftpconform --ginkgo.focus
//	FTPH_EXPECT        ftpconform --expect (expectation files)
//	FTPH_ADDR, FTPH_USER, FTPH_PASSWORD (or FTPH_URL)   ftpload --target
//	FTPH_PASV_RANGE, FTPH_PASV_ADDRESS                  ftpload --pasv-range, --pasv-address
//	FTPH_LOAD_SCENARIO ftpload scenario when none is given
//
// A target from FTPH_ADDR/FTPH_URL also gets ftpload --allow-remote (in a
// container the server is another container, not loopback).
//
// A flag given on the command line wins over its variable. SIGTERM and
// SIGINT are forwarded to the tool; the exit status is the tool's (128+N
// when a signal N ended it).
package main

import (
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
)

func main() { os.Exit(run(os.Args[1:])) }

func run(args []string) int {
	tool := "conform"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		tool, args = args[0], args[1:]
	}
	var argv []string
	switch tool {
	case "conform", "ftpconform":
		argv = append([]string{"ftpconform"}, conformArgs(args)...)
	case "load", "ftpload":
		argv = append([]string{"ftpload"}, loadArgs(args)...)
	case "help", "-h", "--help":
		fmt.Print(help)
		return 0
	default:
		argv = append([]string{tool}, args...)
	}
	return execute(argv)
}

const help = `ftpharness-entry — entrypoint of the ftpharness/harness image

  conform [ftpconform flags]        run the conformance suites (default)
  load [SCENARIO] [ftpload flags]   run the load generator (default scenario exhaust)
  PROGRAM [args]                    run ftpconform, ftpload, ... as is

Environment: FTPH_ADDR FTPH_USER FTPH_PASSWORD FTPH_PASV_RANGE FTPH_PASV_ADDRESS
FTPH_TIMEOUT FTPH_FEATURES (read by ftpconform), FTPH_REPORT_DIR (default
/reports), FTPH_LABEL_FILTER, FTPH_FOCUS, FTPH_EXPECT, FTPH_URL,
FTPH_LOAD_SCENARIO.
`

// has reports whether args set flag name (-name, --name, -name=v, --name=v).
func has(args []string, name string) bool {
	for _, a := range args {
		if a == "--" {
			return false
		}
		a = strings.TrimLeft(a, "-")
		if a == name || strings.HasPrefix(a, name+"=") {
			return true
		}
	}
	return false
}

// reportDir returns the reports directory ("" for none), created.
func reportDir() string {
	dir, ok := os.LookupEnv("FTPH_REPORT_DIR")
	if !ok {
		dir = "/reports"
	}
	if dir == "" {
		return ""
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		fmt.Fprintf(os.Stderr, "ftpharness-entry: reports dir %s: %v (no reports written)\n", dir, err)
		return ""
	}
	return dir
}

func conformArgs(args []string) []string {
	var pre []string
	add := func(flag, env string) {
		if v := os.Getenv(env); v != "" && !has(args, flag) {
			pre = append(pre, "--"+flag+"="+v)
		}
	}
	if !has(args, "report-dir") && !has(args, "list-checks") && !has(args, "list-labels") {
		if dir := reportDir(); dir != "" {
			pre = append(pre, "--report-dir="+dir)
		}
	}
	add("ginkgo.label-filter", "FTPH_LABEL_FILTER")
	add("ginkgo.focus", "FTPH_FOCUS")
	add("expect", "FTPH_EXPECT")
	return append(pre, args...)
}

func loadArgs(args []string) []string {
	scenario := os.Getenv("FTPH_LOAD_SCENARIO")
	if scenario == "" {
		scenario = "exhaust"
	}
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		scenario, args = args[0], args[1:]
	}
	out := []string{scenario}
	if scenario == "report" || scenario == "sink" {
		return append(out, args...)
	}
	if !has(args, "target") {
		if t := loadTarget(); t != "" {
			out = append(out, "--target="+t)
			// in a container the target is another container, never
			// loopback: FTPH_ADDR/FTPH_URL is the operator's consent
			if !has(args, "allow-remote") {
				out = append(out, "--allow-remote")
			}
		}
	}
	if v := os.Getenv("FTPH_PASV_RANGE"); v != "" && !has(args, "pasv-range") {
		out = append(out, "--pasv-range="+v)
	}
	if v := os.Getenv("FTPH_PASV_ADDRESS"); v != "" && !has(args, "pasv-address") {
		out = append(out, "--pasv-address="+v)
	}
	if !has(args, "json") {
		if dir := reportDir(); dir != "" {
			out = append(out, "--json="+filepath.Join(dir, "ftpload-"+scenario+".json"))
		}
	}
	return append(out, args...)
}

// loadTarget is ftpload's --target from FTPH_URL or FTPH_ADDR + FTPH_USER +
// FTPH_PASSWORD ("" when neither is set).
func loadTarget() string {
	if u := os.Getenv("FTPH_URL"); u != "" {
		return u
	}
	addr := os.Getenv("FTPH_ADDR")
	if addr == "" {
		return ""
	}
	u := url.URL{Scheme: "ftp", Host: addr}
	user, pass := os.Getenv("FTPH_USER"), os.Getenv("FTPH_PASSWORD")
	if user == "" {
		user = "ftpuser"
	}
	if pass == "" {
		pass = "ftppass"
	}
	u.User = url.UserPassword(user, pass)
	return u.String()
}

// execute runs argv with this process's stdio, forwards SIGTERM/SIGINT and
// returns its exit status.
func execute(argv []string) int {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "ftpharness-entry: %v\n", err)
		if errors.Is(err, exec.ErrNotFound) || errors.Is(err, fs.ErrNotExist) {
			return 127
		}
		return 126
	}
	done := make(chan struct{})
	go func() {
		for {
			select {
			case s := <-sigs:
				_ = cmd.Process.Signal(s)
			case <-done:
				return
			}
		}
	}()
	err := cmd.Wait()
	close(done)
	if err == nil {
		return 0
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal())
		}
		return ee.ExitCode()
	}
	fmt.Fprintf(os.Stderr, "ftpharness-entry: %v\n", err)
	return 1
}
