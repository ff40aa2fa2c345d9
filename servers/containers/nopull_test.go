package containers_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/ftpharness/ftpharness/servers/containers"
)

// TestComposeServicesNeverPull: every service of compose.yaml (anchors
// merged) says pull_policy: never, so Compose v2 never fetches an image a
// registry holds under ftpharness/*.
func TestComposeServicesNeverPull(t *testing.T) {
	b, err := os.ReadFile("compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Services map[string]map[string]any `yaml:"services"`
	}
	if err := yaml.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Services) == 0 {
		t.Fatal("compose.yaml has no services")
	}
	for name, s := range f.Services {
		if s["pull_policy"] != "never" {
			t.Errorf("service %s: pull_policy is %v, want never", name, s["pull_policy"])
		}
	}
}

// TestRunNeverPulls: Docker.Run asks for --pull=never (a stand-in docker
// records its arguments).
func TestRunNeverPulls(t *testing.T) {
	dir := t.TempDir()
	argsFile := filepath.Join(dir, "args")
	bin := filepath.Join(dir, "docker")
	script := "#!/bin/sh\nprintf '%s\\n' \"$@\" > " + argsFile + "\necho 0123abcd\n"
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	d := &containers.Docker{Bin: bin}
	if _, err := d.Run(context.Background(), containers.RunSpec{Image: "ftpharness/vsftpd:nosuch"}); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(argsFile)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(got), "--pull=never\n") {
		t.Errorf("docker run without --pull=never:\n%s", got)
	}
}

// TestCIConformanceMissingImage: scripts/ci-conformance with an image tag
// nobody built exits 2 with one line naming scripts/build-images, before
// any compose command could pull.
func TestCIConformanceMissingImage(t *testing.T) {
	docker(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, shape := range []string{"runner", "container"} {
		cmd := exec.CommandContext(ctx, "../../scripts/ci-conformance", shape, "vsftpd", t.TempDir())
		cmd.Env = append(os.Environ(), "FTPH_SKIP_BUILD=1", "FTPH_IMAGE_TAG=ftph-never-built-"+shape, "COMPOSE_PROJECT_NAME=ftphtest-nopull")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 2 {
			t.Errorf("%s: exit %v, want 2; stderr:\n%s", shape, err, stderr.String())
		}
		msg := strings.TrimSpace(stderr.String())
		if !strings.Contains(msg, "scripts/build-images") || strings.Contains(msg, "\n") || strings.Contains(msg, "Pulling") {
			t.Errorf("%s: want one line naming scripts/build-images, got:\n%s", shape, msg)
		}
	}
}

// TestComposeUpMissingImage: Compose.Up of a service whose image nobody
// built fails naming scripts/build-images instead of letting
// docker-compose v1 pull it.
func TestComposeUpMissingImage(t *testing.T) {
	d := docker(t)
	c := &containers.Compose{File: "compose.yaml", Docker: d, Project: "ftphtest-nopull", Env: map[string]string{"FTPH_IMAGE_TAG": "ftph-never-built"}}
	if err := c.Available(context.Background()); err != nil {
		t.Skipf("no docker-compose: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	defer c.Down(context.WithoutCancel(ctx))
	err := c.Up(ctx, "vsftpd")
	if err == nil || !strings.Contains(err.Error(), "scripts/build-images") {
		t.Errorf("Up with a missing image: %v, want an error naming scripts/build-images", err)
	}
	if _, err := c.RunOnce(ctx, time.Minute, "harness"); err == nil || !strings.Contains(err.Error(), "scripts/build-images") {
		t.Errorf("RunOnce with a missing image: %v, want an error naming scripts/build-images", err)
	}
}
