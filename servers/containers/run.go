package containers

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"gopkg.in/yaml.v3"
)

// RunID names one test run's objects: "<pid>-<random>". Image tags are
// "test-<RunID>", compose projects "ftphtest-<RunID>".
func RunID() string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%d-%s", os.Getpid(), hex.EncodeToString(b))
}

// RunLabels are the labels of run id's objects.
func RunLabels(id string) map[string]string {
	return map[string]string{LabelRun: id, LabelPID: strconv.Itoa(os.Getpid())}
}

// TagPrefix and ProjectPrefix start the image tags and compose project
// names of test runs (followed by the RunID).
const (
	TagPrefix     = "test-"
	ProjectPrefix = "ftphtest-"
)

// pidOf reads the pid at the start of a RunID ("" or garbage: 0).
func pidOf(runID string) int {
	p, _, _ := strings.Cut(runID, "-")
	n, err := strconv.Atoi(p)
	if err != nil || n <= 0 {
		return 0
	}
	return n
}

// pidAlive reports whether a process with this pid exists.
func pidAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// stale reports whether a run id belongs to a process that is gone.
func stale(runID string) bool {
	pid := pidOf(runID)
	return pid > 0 && !pidAlive(pid)
}

// Sweep removes the containers, compose projects' networks, networks and
// image tags left by test runs whose process is gone (a run killed before
// its cleanup). Objects of live runs are left alone, so parallel test
// processes do not remove each other's containers. It returns what it
// removed.
func (d *Docker) Sweep(ctx context.Context, images []string) ([]string, error) {
	var removed []string
	var errs []error
	// Containers labelled by this package.
	ids, err := d.ListContainers(ctx, "label="+LabelRun)
	errs = append(errs, err)
	for _, id := range ids {
		l, err := d.Labels(ctx, "container", id)
		if err != nil {
			continue
		}
		if run := l[LabelRun]; run != "" && stale(run) {
			if err := d.Remove(ctx, id); err != nil {
				errs = append(errs, err)
			} else {
				removed = append(removed, "container "+id[:12]+" (run "+run+")")
			}
		}
	}
	// Compose projects of test runs: their containers, then networks.
	ids, err = d.ListContainers(ctx, "label=com.docker.compose.project")
	errs = append(errs, err)
	for _, id := range ids {
		l, err := d.Labels(ctx, "container", id)
		if err != nil {
			continue
		}
		p := l["com.docker.compose.project"]
		if run, ok := strings.CutPrefix(p, ProjectPrefix); ok && stale(run) {
			if err := d.Remove(ctx, id); err != nil {
				errs = append(errs, err)
			} else {
				removed = append(removed, "container "+id[:12]+" (project "+p+")")
			}
		}
	}
	nets, err := d.ListNetworks(ctx, "label="+LabelRun)
	errs = append(errs, err)
	cnets, err := d.ListNetworks(ctx, "label=com.docker.compose.project")
	errs = append(errs, err)
	for _, n := range append(nets, cnets...) {
		l, err := d.Labels(ctx, "network", n)
		if err != nil {
			continue
		}
		run := l[LabelRun]
		if p, ok := strings.CutPrefix(l["com.docker.compose.project"], ProjectPrefix); ok {
			run = p
		}
		if run != "" && stale(run) {
			if err := d.NetworkRemove(ctx, n); err != nil {
				errs = append(errs, err)
			} else {
				removed = append(removed, "network "+n)
			}
		}
	}
	// Image tags test-<RunID> of the given repositories (e.g. "ftpharness/*").
	for _, repo := range images {
		refs, err := d.Images(ctx, repo)
		errs = append(errs, err)
		for _, r := range refs {
			i := strings.LastIndex(r, ":")
			if i < 0 {
				continue
			}
			if run, ok := strings.CutPrefix(r[i+1:], TagPrefix); ok && stale(run) {
				if err := d.RemoveImages(ctx, r); err != nil {
					errs = append(errs, err)
				} else {
					removed = append(removed, "image "+r)
				}
			}
		}
	}
	return removed, errors.Join(errs...)
}

// Compose is one docker-compose project (compose v1 CLI).
type Compose struct {
	// Bin is the compose executable (default "docker-compose").
	Bin string
	// File is the compose file (-f).
	File string
	// Project is the project name (-p); ProjectPrefix+RunID for tests.
	Project string
	// Env is added to the environment of every compose command (variables
	// the compose file interpolates; COMPOSE_PROFILES).
	Env map[string]string
	// Docker logs the commands (optional).
	Docker *Docker
}

func (c *Compose) run(ctx context.Context, timeout time.Duration, args ...string) (string, error) {
	bin := c.Bin
	if bin == "" {
		bin = "docker-compose"
	}
	var env []string
	for _, k := range sortedKeys(c.Env) {
		env = append(env, k+"="+c.Env[k])
	}
	env = append(env, "COMPOSE_INTERACTIVE_NO_CLI=1", "COMPOSE_DOCKER_CLI_BUILD=0")
	return c.Docker.exec(ctx, timeout, bin, append([]string{"--no-ansi", "-p", c.Project, "-f", c.File}, args...), env)
}

// Available reports whether the compose CLI runs.
func (c *Compose) Available(ctx context.Context) error {
	bin := c.Bin
	if bin == "" {
		bin = "docker-compose"
	}
	// docker-compose 1.x is a Python program: on a loaded machine (make
	// test's lanes on two cores) its start alone took over 30 s once
	_, err := c.Docker.exec(ctx, 90*time.Second, bin, []string{"version", "--short"}, nil)
	return err
}

// Up starts services detached (all of the active profiles when none are
// named) without building.
func (c *Compose) Up(ctx context.Context, services ...string) error {
	if err := c.ensureImages(ctx, services...); err != nil {
		return err
	}
	_, err := c.run(ctx, RunTimeout, append([]string{"up", "-d", "--no-build", "--no-color"}, services...)...)
	return err
}

// RunOnce runs a one-shot service (`run --rm -T`) and returns its output;
// the error is non-nil when it exits non-zero.
func (c *Compose) RunOnce(ctx context.Context, timeout time.Duration, service string, args ...string) (string, error) {
	if err := c.ensureImages(ctx, service); err != nil {
		return "", err
	}
	return c.run(ctx, timeout, append([]string{"run", "--rm", "-T", service}, args...)...)
}

// ensureImages fails, naming scripts/build-images, when the image of one of
// services is not on this machine: docker-compose v1 ignores the file's
// pull_policy: never and would pull whatever a registry holds by that name.
func (c *Compose) ensureImages(ctx context.Context, services ...string) error {
	if len(services) == 0 {
		return nil
	}
	out, err := c.run(ctx, CallTimeout, "config")
	if err != nil {
		return err
	}
	var f struct {
		Services map[string]struct {
			Image string `yaml:"image"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal([]byte(out), &f); err != nil {
		return fmt.Errorf("compose config of %s: %v", c.File, err)
	}
	for _, s := range services {
		img := f.Services[s].Image
		if img != "" && !c.Docker.ImageExists(ctx, img) {
			return fmt.Errorf("image %s of service %s not found: build it with scripts/build-images (nothing is pulled)", img, s)
		}
	}
	return nil
}

// ContainerID is the id of a service's (first) container.
func (c *Compose) ContainerID(ctx context.Context, service string) (string, error) {
	out, err := c.run(ctx, CallTimeout, "ps", "-q", service)
	if err != nil {
		return "", err
	}
	l := lines(out)
	if len(l) == 0 {
		return "", fmt.Errorf("compose project %s: no container for service %s", c.Project, service)
	}
	return l[0], nil
}

// Logs returns the services' output.
func (c *Compose) Logs(ctx context.Context, services ...string) (string, error) {
	return c.run(ctx, CallTimeout, append([]string{"logs", "--no-color", "--tail", "60"}, services...)...)
}

// Down stops and removes the project's containers (of every profile),
// networks and anonymous volumes; it never removes images.
func (c *Compose) Down(ctx context.Context) error {
	_, err := c.run(ctx, RunTimeout, "down", "-v", "--remove-orphans", "-t", "2")
	return err
}
