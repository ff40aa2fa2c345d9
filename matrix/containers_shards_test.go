package matrix_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ftpharness/ftpharness/loadgen"
	"github.com/ftpharness/ftpharness/servers/containers"
)

// The work of the sharded container run: the whole run's totals, which
// the unsharded container does alone and the 4 shard containers share.
const (
	shardsTotal    = 4000 // churn operations (RETR cycles)
	shardsSessions = 8
	shardsCount    = 4
	shardsSeed     = 100
	// shardsPasv is the server's passive range inside its container
	// (nothing is published, so no host port is taken): 200 ports, as
	// TestShardedMatchesUnsharded gives the sink.
	shardsPasv = "30000-30199"
	// shardsTagPrefix starts the image tags of this test:
	// test-shards-<RunID>.
	shardsTagPrefix = containers.TagPrefix + "shards-"
)

// TestContainersShards is TestShardedMatchesUnsharded (cmd/ftpload) with
// containers: the ftpserverlib image on a network of this run (no
// published ports, advertising its own address), one harness container
// doing the whole work unsharded, then 4 harness containers at once, each
// one shard of the same work the way the Kubernetes Indexed Job
// (scripts/k8s) runs them: the settings in FTPH_LOAD_* variables (the
// ConfigMap), FTPH_SHARDS=4 and JOB_COMPLETION_INDEX=i, the target from
// FTPH_ADDR (ftpharness-entry's --target --allow-remote), each writing
// /reports/shard-{shard}.json into a bind-mounted directory. The 4 reports
// merged with loadgen.Merge must account for the same work as the
// unsharded one: equal totals (operations, bytes, errors), percentiles
// within TestShardedMatchesUnsharded's tolerance, 4 shards of 4.
//
// Skipped when no Docker daemon answers (FTPH_REQUIRE_DOCKER=1: failed).
// The images are built with scripts/build-images --tag test-shards-<RunID>
// harness ftpserverlib and untagged at the end; FTPH_CONTAINERS_IMAGES=TAG
// uses existing images instead (kept). Everything it creates carries the
// run's labels and is removed at the end, also on failure.
func TestContainersShards(t *testing.T) {
	if testing.Short() {
		t.Skip("builds 2 images and runs 6 containers; skipped with -short")
	}
	start := time.Now()
	// bounds, not targets: on a loaded machine (CI's two cores beside the
	// other lanes of make test) building the Go binaries of the images alone
	// took over two minutes
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	d := &containers.Docker{Log: func(f string, a ...any) {
		t.Logf("[%5.1fs] "+f, append([]any{time.Since(start).Seconds()}, a...)...)
	}}
	requireDocker(t, d.Available(ctx))

	run := containers.RunID()
	labels := containers.RunLabels(run)
	t.Logf("run %s (labels %s=%s)", run, containers.LabelRun, run)
	if removed, err := d.Sweep(ctx, []string{"ftpharness/*"}); err != nil {
		t.Logf("sweep of stale runs: %v", err)
	} else if len(removed) > 0 {
		t.Logf("swept objects of dead runs: %s", strings.Join(removed, ", "))
	}
	sweepShardTags(ctx, t, d)

	// Images.
	tag := os.Getenv("FTPH_CONTAINERS_IMAGES")
	if tag == "" {
		tag = shardsTagPrefix + run
		t.Cleanup(func() {
			if err := d.RemoveImages(context.Background(), "ftpharness/harness:"+tag, "ftpharness/ftpserverlib:"+tag); err != nil {
				t.Errorf("remove image tags: %v", err)
			}
		})
		b := time.Now()
		bctx, bcancel := context.WithTimeout(ctx, 5*time.Minute)
		cmd := exec.CommandContext(bctx, "../scripts/build-images", "--tag", tag, "harness", "ftpserverlib")
		cmd.WaitDelay = 5 * time.Second
		out, err := cmd.CombinedOutput()
		bcancel()
		if err != nil {
			t.Fatalf("scripts/build-images --tag %s harness ftpserverlib: %v\n%s", tag, err, out)
		}
		t.Logf("images built in %.1fs (tag %s)", time.Since(b).Seconds(), tag)
	}
	harness, server := "ftpharness/harness:"+tag, "ftpharness/ftpserverlib:"+tag

	// A network of this run.
	network := containers.ProjectPrefix + "shards-" + run
	if err := d.NetworkCreate(ctx, network, labels); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := d.NetworkRemove(context.Background(), network); err != nil {
			t.Errorf("remove network: %v", err)
		}
	})
	// remove registers a container for removal at the end (after its
	// logs, when the test failed, have been shown).
	remove := func(name, id string) {
		t.Cleanup(func() {
			if t.Failed() {
				if logs, err := d.Logs(context.Background(), id, 40); err == nil {
					t.Logf("%s logs:\n%s", name, logs)
				}
			}
			if err := d.Remove(context.Background(), id); err != nil {
				t.Errorf("remove container %s: %v", name, err)
			}
		})
	}

	// The server: no published ports; it advertises its own address on
	// the network (FTPH_PASV_ADDRESS empty), reached as ftp-target like
	// the Service of scripts/k8s/ftp-target.yaml.
	srvID, err := d.Run(ctx, containers.RunSpec{
		Name:   network + "-server",
		Image:  server,
		Labels: labels,
		Env: map[string]string{
			"FTPH_USER": "ftpuser", "FTPH_PASSWORD": "ftppass", "FTPH_PORT": "21",
			"FTPH_PASV_RANGE": shardsPasv, "FTPH_PASV_ADDRESS": "",
		},
		Network:        network,
		Aliases:        []string{"ftp-target"},
		HealthInterval: time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	remove("server", srvID)
	info, err := d.WaitHealthy(ctx, srvID, 60*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("server %.12s healthy at %s on %s (passive %s)", srvID, info.IP(network), network, shardsPasv)

	reports := t.TempDir()
	_ = os.Chmod(reports, 0o777) // written by the containers' user
	// The environment of every load container: what the ConfigMap of
	// scripts/k8s carries (whole-run sessions and count), the target from
	// FTPH_ADDR.
	env := func(extra ...string) map[string]string {
		m := map[string]string{
			"FTPH_ADDR": "ftp-target:21", "FTPH_USER": "ftpuser", "FTPH_PASSWORD": "ftppass",
			"FTPH_PASV_RANGE":    shardsPasv,
			"FTPH_LOAD_SESSIONS": strconv.Itoa(shardsSessions),
			"FTPH_LOAD_COUNT":    strconv.Itoa(shardsTotal),
			"FTPH_LOAD_DURATION": "30s",
			"FTPH_LOAD_TIMEOUT":  "10s",
			"FTPH_LOAD_SEED":     strconv.Itoa(shardsSeed),
		}
		for i := 0; i+1 < len(extra); i += 2 {
			m[extra[i]] = extra[i+1]
		}
		return m
	}
	// load runs one harness container to its end.
	load := func(name string, e map[string]string, args ...string) (time.Duration, error) {
		b := time.Now()
		id, err := d.Run(ctx, containers.RunSpec{
			Name:    network + "-" + name,
			Image:   harness,
			Cmd:     append([]string{"load", "churn"}, args...),
			Env:     e,
			Labels:  labels,
			Network: network,
			Mounts:  []string{reports + ":/reports"},
		})
		if err != nil {
			return 0, err
		}
		remove(name, id)
		info, err := waitExit(ctx, d, id, 2*time.Minute)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", name, err)
		}
		if info.ExitCode != 0 {
			logs, _ := d.Logs(context.Background(), id, 60)
			return 0, fmt.Errorf("%s exited %d:\n%s", name, info.ExitCode, logs)
		}
		return time.Since(b), nil
	}

	// Unsharded: the whole work in one container.
	took, err := load("whole", env(), "--json", "/reports/whole.json")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("unsharded container: %.1fs", took.Seconds())

	// 4 shards at once, as the Indexed Job's pods.
	b := time.Now()
	errs := make([]error, shardsCount)
	var wg sync.WaitGroup
	for i := 0; i < shardsCount; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = load(fmt.Sprintf("shard-%d", i),
				env("FTPH_SHARDS", strconv.Itoa(shardsCount), "JOB_COMPLETION_INDEX", strconv.Itoa(i)),
				"--json", "/reports/shard-{shard}.json")
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	t.Logf("4 shard containers: %.1fs", time.Since(b).Seconds())

	whole := readLoadReport(t, filepath.Join(reports, "whole.json"))
	var shards []*loadgen.Report
	var names []string
	for i := 0; i < shardsCount; i++ {
		f := filepath.Join(reports, fmt.Sprintf("shard-%d.json", i))
		shards, names = append(shards, readLoadReport(t, f)), append(names, filepath.Base(f))
	}
	merged, warns, err := loadgen.Merge(shards, names)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range warns {
		t.Errorf("merge warning: %s", w)
	}
	checkShardedRun(t, whole, merged, shards, shardsTotal, shardsSessions)
	for i, r := range shards {
		t.Logf("shard %d:   %d ops, p50 %.3f ms, p99 %.3f ms in %.2fs", i, r.Totals.Count, r.Latency.P50, r.Latency.P99, r.Duration)
	}
	t.Logf("TestContainersShards: %.1fs before cleanup", time.Since(start).Seconds())
}

// checkShardedRun compares the merged report of a sharded run with the
// unsharded run of the same total work (total operations over sessions
// sessions), as TestShardedMatchesUnsharded does: equal totals, per
// operation and by error class; the merged percentiles of the same order
// as the unsharded ones (within 4x, plus 2 ms for p50 and 10 ms for p99:
// two different runs on a shared machine) and between the shards' own;
// the merge marked as all of the shards.
func checkShardedRun(t *testing.T, w, m *loadgen.Report, shards []*loadgen.Report, total, sessions int) {
	t.Helper()
	n := len(shards)
	for i, r := range shards {
		s := r.Settings
		if s.Shard == nil || *s.Shard != (loadgen.Shard{Index: i, Count: n}) || s.Seed == nil || *s.Seed != uint64(shardsSeed+i) ||
			s.Sessions != (loadgen.Shard{Index: i, Count: n}).Share(sessions) || s.Count != (loadgen.Shard{Index: i, Count: n}).Share(total) {
			t.Errorf("shard %d settings: %+v", i, s)
		}
		if r.TimelineStart.Nanosecond() != 0 {
			t.Errorf("shard %d timeline starts at %v, not on a whole second", i, r.TimelineStart)
		}
	}

	// the same work as the unsharded run, percentiles near it
	for _, d := range loadgen.CheckMerged(w, m, shards, loadgen.DefaultMergeTolerance) {
		t.Error(d)
	}
	if w.Ops["retr"].OK != uint64(total) || w.Totals.Bytes != int64(total)*100 || w.Ops["login"].Count != uint64(sessions) {
		t.Errorf("unsharded run did not do the work: %+v %+v", w.Ops, w.Totals)
	}
	// the server advertised its own address, in its range, to every client
	for name, r := range map[string]*loadgen.Report{"merged": m, "unsharded": w} {
		if r.Ports.OutOfRange != 0 || r.Ports.AddrMismatch != 0 {
			t.Errorf("%s: %d ports out of range, %d address mismatches", name, r.Ports.OutOfRange, r.Ports.AddrMismatch)
		}
	}
	t.Logf("unsharded: %d ops (%d retr, %d bytes, %d errors) in %.2fs, p50 %.3f ms, p99 %.3f ms",
		w.Totals.Count, w.Ops["retr"].OK, w.Totals.Bytes, w.Totals.Errors, w.Duration, w.Latency.P50, w.Latency.P99)
	t.Logf("merged:    %d ops (%d retr, %d bytes, %d errors) in %.2fs, p50 %.3f ms, p99 %.3f ms (%d shards of %d)",
		m.Totals.Count, m.Ops["retr"].OK, m.Totals.Bytes, m.Totals.Errors, m.Duration, m.Latency.P50, m.Latency.P99, n, n)
}

func readLoadReport(t *testing.T, path string) *loadgen.Report {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("no report in the bind-mounted directory: %v", err)
	}
	defer f.Close()
	r, err := loadgen.ReadReport(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return r
}

// waitExit polls a container until it has exited (it has no health
// check: WaitHealthy would return as soon as it runs).
func waitExit(ctx context.Context, d *containers.Docker, id string, timeout time.Duration) (containers.Info, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last containers.Info
	for {
		info, err := d.Inspect(ctx, id)
		if err == nil {
			last = info
			if info.Status == "exited" || info.Status == "dead" {
				return info, nil
			}
		}
		select {
		case <-ctx.Done():
			logs, _ := d.Logs(context.Background(), id, 40)
			return last, fmt.Errorf("container %s still %s after %v; logs:\n%s", last.Name, last.Status, timeout, logs)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// sweepShardTags removes the image tags test-shards-<RunID> of runs whose
// process is gone (containers.Sweep only knows test-<RunID>); the
// containers and networks of such runs carry the run labels and Sweep
// removes them.
func sweepShardTags(ctx context.Context, t *testing.T, d *containers.Docker) {
	refs, err := d.Images(ctx, "ftpharness/*")
	if err != nil {
		t.Logf("list images: %v", err)
		return
	}
	for _, r := range refs {
		i := strings.LastIndex(r, ":")
		run, ok := strings.CutPrefix(r[i+1:], shardsTagPrefix)
		if i < 0 || !ok {
			continue
		}
		p, _, _ := strings.Cut(run, "-")
		pid, err := strconv.Atoi(p)
		if err != nil || pid <= 0 {
			continue
		}
		if err := syscall.Kill(pid, 0); err == nil || err == syscall.EPERM {
			continue // its run is alive
		}
		if err := d.RemoveImages(ctx, r); err != nil {
			t.Logf("remove stale tag %s: %v", r, err)
		} else {
			t.Logf("removed the tag of a dead run: %s", r)
		}
	}
}
