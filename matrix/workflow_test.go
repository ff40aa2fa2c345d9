package matrix_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/ftpharness/ftpharness/servers"
	"github.com/ftpharness/ftpharness/servers/containers"
	"github.com/ftpharness/ftpharness/suites/report"
)

const workflowFile = "../.github/workflows/conformance.yml"

// workflow is the part of a GitHub Actions workflow this test reads.
type workflow struct {
	Jobs map[string]struct {
		Strategy struct {
			Matrix map[string][]string `yaml:"matrix"`
		} `yaml:"strategy"`
		Steps []struct {
			Name string `yaml:"name"`
			Run  string `yaml:"run"`
		} `yaml:"steps"`
	} `yaml:"jobs"`
}

// ciCall is one scripts/ci-conformance invocation of the workflow.
type ciCall struct {
	job     string
	shape   string   // runner | container
	servers []string // matrix.server expanded
	reports string   // the report directory argument (with ${{ }} left in)
}

// workflowCalls lists the scripts/ci-conformance calls of the workflow.
func workflowCalls(t *testing.T) []ciCall {
	t.Helper()
	b, err := os.ReadFile(workflowFile)
	if err != nil {
		t.Fatal(err)
	}
	var w workflow
	if err := yaml.Unmarshal(b, &w); err != nil {
		t.Fatalf("%s: %v", workflowFile, err)
	}
	var calls []ciCall
	for name, job := range w.Jobs {
		for _, st := range job.Steps {
			f := strings.Fields(strings.ReplaceAll(st.Run, "${{ matrix.server }}", "@SERVER@"))
			i := slices.IndexFunc(f, func(s string) bool { return strings.HasSuffix(s, "scripts/ci-conformance") })
			if i < 0 {
				continue
			}
			args := f[i+1:]
			if len(args) < 3 {
				t.Fatalf("%s: job %s step %q: scripts/ci-conformance needs SHAPE SERVER REPORT_DIR, got %q", workflowFile, name, st.Name, args)
			}
			c := ciCall{job: name, shape: args[0], reports: args[2]}
			if args[1] == "@SERVER@" {
				c.servers = job.Strategy.Matrix["server"]
			} else {
				c.servers = []string{args[1]}
			}
			calls = append(calls, c)
		}
	}
	slices.SortFunc(calls, func(a, b ciCall) int { return strings.Compare(a.job, b.job) })
	return calls
}

// TestContainersWorkflow checks that .github/workflows/conformance.yml is
// what this repository tests: its steps call scripts/ci-conformance in both
// CI shapes, its runner-job matrix covers every server image
// TestContainers tests, and each call it makes runs here, through the same
// script and compose file, with the verdicts matching the expectations
// (the passive-mode areas; TestContainers runs the full suites). The only
// differences from GitHub: the images are built once here under this run's
// tag (FTPH_SKIP_BUILD) from the debootstrapped base (no registry), and the
// host ports come from the project's allocator instead of compose.yaml's
// defaults.
func TestContainersWorkflow(t *testing.T) {
	calls := workflowCalls(t)
	shapes := map[string]bool{}
	for _, c := range calls {
		if c.shape != "runner" && c.shape != "container" {
			t.Fatalf("job %s: unknown shape %q", c.job, c.shape)
		}
		shapes[c.shape] = true
		if c.shape == "runner" {
			got := slices.Sorted(slices.Values(c.servers))
			want := slices.Sorted(slices.Values(containerServers))
			if !slices.Equal(got, want) {
				t.Errorf("job %s runs servers %v; the images tested here are %v", c.job, got, want)
			}
		}
	}
	if !shapes["runner"] || !shapes["container"] {
		t.Fatalf("the workflow must run both CI shapes through scripts/ci-conformance; found %v", shapes)
	}
	if testing.Short() {
		t.Skip("the rest runs containers; skipped with -short")
	}

	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	d := &containers.Docker{Log: t.Logf}
	err := d.Available(ctx)
	if err == nil {
		err = (&containers.Compose{File: composeFile, Docker: d}).Available(ctx)
	}
	requireDocker(t, err)
	run := containers.RunID()

	// One server of the runner matrix (the quickest suite) and the
	// container job's server, with the images they need.
	var jobs []ciCall
	need := map[string]bool{}
	for _, c := range calls {
		server := c.servers[0]
		if c.shape == "runner" && slices.Contains(c.servers, "ftpserverlib") {
			server = "ftpserverlib"
		}
		c.servers = []string{server}
		jobs = append(jobs, c)
		need[server] = true
		if c.shape == "container" {
			need["harness"] = true
		}
	}
	tag := os.Getenv("FTPH_CONTAINERS_IMAGES")
	if tag == "" {
		tag = containers.TagPrefix + run
		var names, refs []string
		for n := range need {
			names = append(names, n)
			refs = append(refs, "ftpharness/"+n+":"+tag)
		}
		t.Cleanup(func() {
			if err := d.RemoveImages(context.Background(), refs...); err != nil {
				t.Errorf("remove image tags: %v", err)
			}
		})
		out, err := exec.CommandContext(ctx, "../scripts/build-images", append([]string{"--tag", tag}, names...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("scripts/build-images: %v\n%s", err, out)
		}
	}

	for _, c := range jobs {
		server := c.servers[0]
		t.Run(c.shape+"/"+server, func(t *testing.T) {
			reports := filepath.Join(t.TempDir(), "reports")
			env := append(os.Environ(),
				"FTPH_SKIP_BUILD=1", "FTPH_IMAGE_TAG="+tag,
				"COMPOSE_PROJECT_NAME="+containers.ProjectPrefix+run+"-"+c.shape)
			if c.shape == "runner" {
				ports, lease, err := servers.ReservePorts(1)
				if err != nil {
					t.Fatal(err)
				}
				defer lease.Release()
				lo, hi, rl, err := servers.ReserveRange(10)
				if err != nil {
					t.Fatal(err)
				}
				defer rl.Release()
				v := strings.ToUpper(strings.ReplaceAll(server, "-", ""))
				env = append(env, fmt.Sprintf("%s_PORT=%d", v, ports[0]), fmt.Sprintf("%s_PASV=%d-%d", v, lo, hi))
			}
			call := func() ([]byte, error) {
				start := time.Now()
				cmd := exec.CommandContext(ctx, "../scripts/ci-conformance", c.shape, server, reports,
					"--", "--ginkgo.label-filter="+natAreas)
				cmd.Env = env
				cmd.WaitDelay = 10 * time.Second
				out, err := cmd.CombinedOutput()
				t.Logf("scripts/ci-conformance %s %s: %.0fs, %v", c.shape, server, time.Since(start).Seconds(), err)
				return out, err
			}
			out, err := call()
			var ee *exec.ExitError
			if errors.As(err, &ee) && ee.ExitCode() == 4 {
				// verdicts differed from the expectations: as in
				// TestContainers, only a difference that repeats counts
				// (a loaded machine flips a timing verdict now and then)
				t.Logf("FLAKY unless repeated: the first call's verdicts differed:\n%s", tail(out, 12))
				os.RemoveAll(reports)
				out, err = call()
			}
			if err != nil {
				t.Fatalf("the workflow's call failed: %v\n%s", err, tail(out, 60))
			}
			if !strings.Contains(string(out), "every verdict matches the expectations") {
				t.Fatalf("no comparison with the expectations in the output:\n%s", tail(out, 40))
			}
			f, err := os.Open(filepath.Join(reports, "verdicts.json"))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			r, err := report.ReadJSON(f)
			if err != nil {
				t.Fatal(err)
			}
			ran := 0
			for _, v := range r.Verdicts {
				if v.Result != report.Skip {
					ran++
				}
			}
			if ran < 10 {
				t.Fatalf("only %d checks ran", ran)
			}
			if _, err := os.Stat(filepath.Join(reports, "junit.xml")); err != nil {
				t.Fatalf("no JUnit report for the CI to upload: %v", err)
			}
		})
	}
}

func tail(b []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
