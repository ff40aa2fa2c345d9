package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/ftpharness/ftpharness/matrix"
	"github.com/ftpharness/ftpharness/servers"
)

var (
	matrixServers = flag.String("matrix", "", "run the suites against local real servers (comma list, or \"all\") and write matrix.md and matrix.json")
	matrixOut     = flag.String("matrix-out", "docs", "directory for matrix.md, matrix.json and per-server runs (with --matrix)")
	matrixExpect  = flag.String("matrix-expect", "", "compare each server's verdicts with DIR/<server>.yaml and exit 1 on any difference (with --matrix)")
	matrixPar     = flag.Int("matrix-parallel", 2, "servers tested at once (with --matrix); runs at once (with --mutation)")
	matrixListen  = flag.String("matrix-listen", "", "address the servers listen on (with --matrix; default 127.0.0.1): ::1 is the IPv6 column, compared with --matrix-expect's ipv6/ layers")
)

// runMatrix re-executes this binary once per server (fresh Ginkgo state per
// run) against a server it starts itself.
func runMatrix(extra []string) int {
	names := servers.Names()
	if *matrixServers != "all" {
		names = strings.Split(*matrixServers, ",")
	}
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintf(os.Stderr, "ftpconform: %v\n", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	start := time.Now()
	m := matrix.Run(ctx, matrix.Options{
		Binary: self, Servers: names, Dir: filepath.Join(*matrixOut, "runs"), Parallel: *matrixPar, Args: extra, Listen: *matrixListen,
		Progress: func(s, ev string) { fmt.Fprintf(os.Stderr, "[%5.1fs] %s: %s\n", time.Since(start).Seconds(), s, ev) },
	})
	if err := writeFile(filepath.Join(*matrixOut, "matrix.md"), m.WriteMarkdown); err != nil {
		fmt.Fprintf(os.Stderr, "ftpconform: %v\n", err)
		return 2
	}
	if err := writeFile(filepath.Join(*matrixOut, "matrix.json"), m.WriteJSON); err != nil {
		fmt.Fprintf(os.Stderr, "ftpconform: %v\n", err)
		return 2
	}
	if err := writeFile(filepath.Join(*matrixOut, "matrix.html"), m.WriteHTML); err != nil {
		fmt.Fprintf(os.Stderr, "ftpconform: %v\n", err)
		return 2
	}
	fmt.Printf("wrote %s, matrix.json and matrix.html\n", filepath.Join(*matrixOut, "matrix.md"))
	code := 0
	for _, s := range m.Servers {
		if e, ok := m.Errors[s]; ok {
			fmt.Printf("%-13s ERROR %s\n", s, e)
			code = 1
			continue
		}
		run := m.Runs[s]
		n := run.Counts()
		fmt.Printf("%-13s %3d pass %3d fail %3d warn %3d skip %3d observe (%.1fs)\n", s, n["pass"], n["fail"], n["warn"], n["skip"], n["observe"], run.Seconds)
		if *matrixExpect == "" {
			continue
		}
		load := matrix.LoadExpectations
		if ip := net.ParseIP(*matrixListen); ip != nil && ip.To4() == nil {
			load = matrix.LoadIPv6
		}
		exp, err := load(*matrixExpect, s)
		if err != nil {
			fmt.Printf("  no usable expectations: %v\n", err)
			os.WriteFile(filepath.Join(*matrixOut, "runs", s, "expectations.skeleton.yaml"), []byte(matrix.Skeleton(run)), 0o644)
			code = 1
			continue
		}
		for _, mm := range matrix.Compare(run, exp) {
			fmt.Printf("  UNEXPECTED %s\n", mm)
			code = 1
		}
	}
	return code
}

func writeFile(path string, render func(io.Writer) error) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return render(f)
}
