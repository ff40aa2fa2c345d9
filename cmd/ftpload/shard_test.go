package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ftpharness/ftpharness/loadgen"
	"github.com/ftpharness/ftpharness/servers"
	"github.com/ftpharness/ftpharness/servers/sink"
)

func loadReport(t *testing.T, path string) *loadgen.Report {
	t.Helper()
	rep, err := readReport(path)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// The same work (4000 RETR cycles over 8 sessions and 8 source addresses)
// run once by one ftpload process and once by 4 ftpload processes, each
// shard I/4 of it, against the same in-process sink; the merged shard
// reports must account for the same work as the unsharded run.
//
// Totals (operations, transfers, bytes, logins, errors) must be equal:
// both runs are bounded by --count, and the shares add up to the totals.
// Latency cannot be equal: these are two different runs on a shared
// machine (the sharded one with 4 generator processes and the server's
// process competing for 2 cores), so the merged p50 and p99 are only
// required to be of the same order as the unsharded ones (within 4x, plus
// 2 ms for p50 and 10 ms for p99 of scheduling noise). That the merge
// itself is exact is TestMergeExact's business (loadgen); here the merged
// percentiles must also lie between the shards' own (a property of any
// mixture of distributions).
func TestShardedMatchesUnsharded(t *testing.T) {
	if testing.Short() {
		t.Skip("builds ftpload and runs 5 load processes")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "ftpload")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	lo, hi, lease, err := servers.ReserveRange(200)
	if err != nil {
		t.Fatal(err)
	}
	defer lease.Release()
	srv, err := sink.Start(sink.Options{PasvMin: lo, PasvMax: hi})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()

	const total, sessions = 4000, 8
	common := []string{"churn", "--target", "ftp://ftpload:ftpload@" + srv.Addr(), "--pasv-range", fmt.Sprintf("%d-%d", lo, hi),
		"--sessions", fmt.Sprint(sessions), "--count", fmt.Sprint(total), "--source", "127.0.0.2-127.0.0.9",
		"--duration", "60s", "--timeout", "10s", "--quiet"}
	runBin := func(extra ...string) *exec.Cmd {
		c := exec.CommandContext(ctx, bin, append(slices.Clone(common), extra...)...)
		c.Env = os.Environ()
		return c
	}

	// unsharded
	whole := filepath.Join(dir, "whole.json")
	if out, err := runBin("--json", whole).CombinedOutput(); err != nil {
		t.Fatalf("unsharded run: %v\n%s", err, out)
	}
	// 4 shards, concurrently; each names its file with {shard}
	var cmds []*exec.Cmd
	var outs []*strings.Builder
	for i := 0; i < 4; i++ {
		c := runBin("--shard", fmt.Sprintf("%d/4", i), "--seed", "100", "--json", filepath.Join(dir, "shard-{shard}.json"))
		var b strings.Builder
		c.Stdout, c.Stderr = &b, &b
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		cmds, outs = append(cmds, c), append(outs, &b)
	}
	for i, c := range cmds {
		if err := c.Wait(); err != nil {
			t.Fatalf("shard %d: %v\n%s", i, err, outs[i])
		}
	}
	var files []string
	var shards []*loadgen.Report
	seenSrc := map[string]int{}
	for i := 0; i < 4; i++ {
		f := filepath.Join(dir, fmt.Sprintf("shard-%d.json", i))
		r := loadReport(t, f)
		files, shards = append(files, f), append(shards, r)
		s := r.Settings
		if s.Shard == nil || *s.Shard != (loadgen.Shard{Index: i, Count: 4}) || s.Seed == nil || *s.Seed != uint64(100+i) ||
			s.Sessions != 2 || s.Count != 1000 || len(s.Sources) != 2 {
			t.Errorf("shard %d settings: %+v", i, s)
		}
		for _, ip := range s.Sources {
			if j, dup := seenSrc[ip]; dup {
				t.Errorf("source %s in shards %d and %d", ip, j, i)
			}
			seenSrc[ip] = i
		}
		if r.TimelineStart.Nanosecond() != 0 {
			t.Errorf("shard %d timeline starts at %v, not on a whole second", i, r.TimelineStart)
		}
	}

	merged := filepath.Join(dir, "merged.json")
	code, out, stderr := runCLI(t, append([]string{"merge", "-o", merged}, files...)...)
	if code != 0 || stderr != "" || !strings.Contains(out, "from 4 shards of 4") {
		t.Fatalf("merge: exit %d\n%s\n%s", code, out, stderr)
	}
	w, m := loadReport(t, whole), loadReport(t, merged)

	// the same work as the unsharded run, percentiles near it
	for _, d := range loadgen.CheckMerged(w, m, shards, loadgen.DefaultMergeTolerance) {
		t.Error(d)
	}
	if w.Ops["retr"].OK != total || w.Totals.Bytes != total*100 || w.Ops["login"].Count != sessions {
		t.Errorf("unsharded run did not do the work: %+v %+v", w.Ops, w.Totals)
	}
	if len(m.Settings.Sources) != 8 {
		t.Errorf("merged sources %v", m.Settings.Sources)
	}
	t.Logf("unsharded: %d ops (%d retr, %d bytes, %d errors) in %.2fs, p50 %.3f ms, p99 %.3f ms, %d timeline seconds",
		w.Totals.Count, w.Ops["retr"].OK, w.Totals.Bytes, w.Totals.Errors, w.Duration, w.Latency.P50, w.Latency.P99, len(w.Timeline))
	t.Logf("merged:    %d ops (%d retr, %d bytes, %d errors) in %.2fs, p50 %.3f ms, p99 %.3f ms, %d timeline seconds",
		m.Totals.Count, m.Ops["retr"].OK, m.Totals.Bytes, m.Totals.Errors, m.Duration, m.Latency.P50, m.Latency.P99, len(m.Timeline))

	// timelines: each covers its run's wall-clock seconds, every operation in it
	for name, r := range map[string]*loadgen.Report{"merged": m, "unsharded": w} {
		var ops uint64
		for i, s := range r.Timeline {
			ops += s.Ops
			if s.Second != i {
				t.Errorf("%s: timeline[%d] is second %d", name, i, s.Second)
			}
		}
		if want := int(r.End.Sub(r.TimelineStart)/time.Second) + 1; len(r.Timeline) != want || ops != r.Totals.Count {
			t.Errorf("%s: %d seconds holding %d ops; want %d seconds holding %d", name, len(r.Timeline), ops, want, r.Totals.Count)
		}
	}
	if !m.TimelineStart.Equal(shards[0].TimelineStart) && !m.TimelineStart.Before(shards[0].TimelineStart) {
		t.Errorf("merged timeline starts %v after shard 0's %v", m.TimelineStart, shards[0].TimelineStart)
	}

	// ftpload report reads the merged report (text and HTML)
	page := filepath.Join(dir, "merged.html")
	if code, out, stderr := runCLI(t, "report", merged, "--html", page, "--fail-on", "errors>0"); code != 0 || !strings.Contains(out, "Merged") {
		t.Errorf("report of the merged run: exit %d\n%s\n%s", code, out, stderr)
	}
	if b, err := os.ReadFile(page); err != nil || !strings.Contains(string(b), "<svg") {
		t.Errorf("merged HTML: %v", err)
	}

	// merging a shard twice is refused, naming both files
	code, _, stderr = runCLI(t, "merge", files[0], files[1], files[1])
	if code != exitUsage || !strings.Contains(stderr, "shard index 1 twice") {
		t.Errorf("duplicate shard: exit %d: %s", code, stderr)
	}
	// a missing shard merges with a warning
	code, _, stderr = runCLI(t, "merge", "--quiet", files[0], files[2], files[3])
	if code != 0 || !strings.Contains(stderr, "1 of 4 shards missing: indices 1") {
		t.Errorf("missing shard: exit %d: %s", code, stderr)
	}
}

// Shards of a retr run against a server that lacks the file: shard 0
// uploads it once, the others wait for it (instead of all rewriting it
// while some already read it), and every transfer moves the whole file.
func TestShardsUploadOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("4 in-process shard runs against ftpserverlib")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	run, err := servers.Start(ctx, "ftpserverlib", servers.Spec{PasvMax: 40})
	if err != nil {
		t.Fatal(err)
	}
	defer run.Stop()
	tg := run.Target()
	dir := t.TempDir()
	codes := make(chan string, 4)
	for i := 0; i < 4; i++ {
		go func() {
			code, out, stderr := runCLI(t, "retr", "--target", fmt.Sprintf("ftp://%s:%s@%s", tg.User, tg.Password, tg.Addr),
				"--pasv-range", tg.PasvRange, "--size", "4MiB", "--sessions", "4", "--count", "12", "--duration", "30s",
				"--shard", fmt.Sprintf("%d/4", i), "--json", filepath.Join(dir, "s{shard}.json"), "--quiet")
			codes <- fmt.Sprintf("%d %s%s", code, out, stderr)
		}()
	}
	for i := 0; i < 4; i++ {
		if got := <-codes; !strings.HasPrefix(got, "0 ") {
			t.Errorf("a shard: exit %s", got)
		}
	}
	var files []string
	for i := 0; i < 4; i++ {
		files = append(files, filepath.Join(dir, fmt.Sprintf("s%d.json", i)))
	}
	merged := filepath.Join(dir, "all.json")
	if code, out, stderr := runCLI(t, append([]string{"merge", "--quiet", "-o", merged}, files...)...); code != 0 {
		t.Fatalf("merge: %d %s %s", code, out, stderr)
	}
	m := loadReport(t, merged)
	if m.Ops["retr"].OK != 12 || m.Totals.Errors != 0 || m.Totals.Bytes != 12*4<<20 {
		t.Errorf("merged retr run: %+v %+v %+v", m.Ops, m.Totals, m.Errors)
	}
}
