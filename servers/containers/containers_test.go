package containers_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ftpharness/ftpharness/servers"
	"github.com/ftpharness/ftpharness/servers/containers"
)

// docker returns the CLI, skipping the test when no daemon answers (a
// failure with FTPH_REQUIRE_DOCKER=1).
func docker(t *testing.T) *containers.Docker {
	t.Helper()
	if testing.Short() {
		t.Skip("needs a Docker daemon; skipped with -short")
	}
	d := &containers.Docker{Log: t.Logf}
	if err := d.Available(context.Background()); err != nil {
		if os.Getenv("FTPH_REQUIRE_DOCKER") == "1" {
			t.Fatalf("FTPH_REQUIRE_DOCKER=1 but %v", err)
		}
		t.Skipf("no Docker: %v", err)
	}
	return d
}

// standin builds the stand-in server image (ftpserverlib in a FROM-scratch
// image, configured like the real images) as ref and removes it at the end.
func standin(t *testing.T, d *containers.Docker, ref string) {
	t.Helper()
	dir := t.TempDir()
	build := exec.Command("go", "build", "-o", filepath.Join(dir, "ftpserve"), "./testdata/standin")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build stand-in: %v\n%s", err, out)
	}
	df := "FROM scratch\nCOPY ftpserve /usr/local/bin/ftpserve\nENV PATH=/usr/local/bin\n" +
		"HEALTHCHECK --interval=30s CMD [\"ftpserve\", \"health\"]\nENTRYPOINT [\"ftpserve\"]\n"
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(df), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := d.Build(ctx, dir, ref, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.RemoveImages(context.Background(), ref) })
}

// pasv logs in at addr and returns the address and port of a 227 reply.
func pasv(t *testing.T, addr string) (string, int) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 4096)
	read := func() string {
		n, err := c.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		return string(buf[:n])
	}
	read()
	for _, cmd := range []string{"USER ftpuser", "PASS ftppass"} {
		fmt.Fprintf(c, "%s\r\n", cmd)
		read()
	}
	fmt.Fprintf(c, "PASV\r\n")
	r := read()
	i, j := strings.Index(r, "("), strings.Index(r, ")")
	if !strings.HasPrefix(r, "227") || i < 0 || j < i {
		t.Fatalf("PASV: %q", r)
	}
	var h [4]int
	var p1, p2 int
	if _, err := fmt.Sscanf(r[i+1:j], "%d,%d,%d,%d,%d,%d", &h[0], &h[1], &h[2], &h[3], &p1, &p2); err != nil {
		t.Fatalf("PASV: %q: %v", r, err)
	}
	return fmt.Sprintf("%d.%d.%d.%d", h[0], h[1], h[2], h[3]), p1*256 + p2
}

func TestServerLifecycle(t *testing.T) {
	d := docker(t)
	ctx := context.Background()
	run := containers.RunID()
	ref := "ftpharness/standin:" + containers.TagPrefix + run
	standin(t, d, ref)
	net := containers.ProjectPrefix + run
	if err := d.NetworkCreate(ctx, net, containers.RunLabels(run)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.NetworkRemove(context.Background(), net) })

	for _, tc := range []struct {
		name  string
		spec  containers.ServerSpec
		check func(t *testing.T, s *containers.Server, ip string, port int)
	}{
		{"masquerade", containers.ServerSpec{PasvAddress: "127.0.0.1"}, func(t *testing.T, s *containers.Server, ip string, port int) {
			if ip != "127.0.0.1" || port < s.HostLo || port > s.HostHi {
				t.Errorf("227 %s:%d, want 127.0.0.1 in %d-%d", ip, port, s.HostLo, s.HostHi)
			}
		}},
		{"own-address", containers.ServerSpec{}, func(t *testing.T, s *containers.Server, ip string, port int) {
			if ip != s.IP() || ip == "" {
				t.Errorf("227 advertises %s, want the container's %s", ip, s.IP())
			}
		}},
		{"shifted", containers.ServerSpec{PasvAddress: "127.0.0.1", Shift: true, Publish: 5}, func(t *testing.T, s *containers.Server, ip string, port int) {
			if s.HostLo == s.ContainerLo {
				t.Errorf("shifted range not shifted: host %d, container %d", s.HostLo, s.ContainerLo)
			}
			if port < s.ContainerLo || port > s.ContainerHi {
				t.Errorf("227 port %d not in the container range %d-%d", port, s.ContainerLo, s.ContainerHi)
			}
			tg := s.Target()
			if tg.PasvRange != fmt.Sprintf("%d-%d", s.HostLo, s.HostHi) {
				t.Errorf("target range %s", tg.PasvRange)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec := tc.spec
			spec.Name, spec.Image, spec.Network, spec.Labels = "standin", ref, net, containers.RunLabels(run)
			s, err := d.StartServer(ctx, spec)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Stop(ctx)
			if s.Info.Health != "healthy" {
				t.Errorf("health %q", s.Info.Health)
			}
			if s.Info.Labels[containers.LabelRun] != run {
				t.Errorf("labels %v", s.Info.Labels)
			}
			ip, port := pasv(t, s.Addr())
			tc.check(t, s, ip, port)
			if logs := s.Logs(ctx); !strings.Contains(logs, "standin: listening") {
				t.Errorf("logs: %q", logs)
			}
			id := s.ID
			if err := s.Stop(ctx); err != nil {
				t.Fatal(err)
			}
			if left, _ := d.ListContainers(ctx, "id="+id); len(left) != 0 {
				t.Errorf("container %s still there after Stop", id)
			}
		})
	}
}

// TestSweep: objects of a run whose process is gone are removed, those of
// a live run are not.
func TestSweep(t *testing.T) {
	d := docker(t)
	ctx := context.Background()
	dead := "999999999-dead" + containers.RunID()[len(fmt.Sprint(os.Getpid())):]
	live := containers.RunID()
	for _, run := range []string{dead, live} {
		if err := d.NetworkCreate(ctx, "ftph-sweep-"+run, map[string]string{containers.LabelRun: run}); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { _ = d.NetworkRemove(context.Background(), "ftph-sweep-"+dead, "ftph-sweep-"+live) })
	removed, err := d.Sweep(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("swept: %v", removed)
	left, _ := d.ListNetworks(ctx, "label="+containers.LabelRun)
	got := strings.Join(left, " ")
	if strings.Contains(got, "ftph-sweep-"+dead) {
		t.Errorf("stale network not swept: %s", got)
	}
	if !strings.Contains(got, "ftph-sweep-"+live) {
		t.Errorf("live run's network swept: %s", got)
	}
}

// TestCompose brings compose.yaml's vsftpd service up with the stand-in
// image under its name, on allocated ports, and down again.
func TestCompose(t *testing.T) {
	d := docker(t)
	ctx := context.Background()
	c := &containers.Compose{File: "compose.yaml", Docker: d}
	if err := c.Available(ctx); err != nil {
		if os.Getenv("FTPH_REQUIRE_DOCKER") == "1" {
			t.Fatalf("FTPH_REQUIRE_DOCKER=1 but docker-compose does not run: %v", err)
		}
		t.Skipf("no docker-compose: %v", err)
	}
	run := containers.RunID()
	tag := containers.TagPrefix + run
	standin(t, d, "ftpharness/vsftpd:"+tag)
	ports, l, err := servers.ReservePorts(1)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	lo, hi, rl, err := servers.ReserveRange(10)
	if err != nil {
		t.Fatal(err)
	}
	defer rl.Release()
	c.Project = containers.ProjectPrefix + run
	c.Env = map[string]string{"FTPH_IMAGE_TAG": tag, "VSFTPD_PORT": fmt.Sprint(ports[0]), "VSFTPD_PASV": fmt.Sprintf("%d-%d", lo, hi)}
	t.Cleanup(func() {
		if err := c.Down(context.Background()); err != nil {
			t.Errorf("down: %v", err)
		}
	})
	if err := c.Up(ctx, "vsftpd"); err != nil {
		t.Fatal(err)
	}
	id, err := c.ContainerID(ctx, "vsftpd")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.WaitHealthy(ctx, id, time.Minute); err != nil {
		t.Fatal(err)
	}
	ip, port := pasv(t, fmt.Sprintf("127.0.0.1:%d", ports[0]))
	if ip != "127.0.0.1" || port < lo || port > hi {
		t.Errorf("227 %s:%d, want 127.0.0.1 in %d-%d", ip, port, lo, hi)
	}
}

// TestNetworkCreateIPv6ULAOnly: an IPv6 network of the tests gets a unique
// local prefix (fd00::/8, routed nowhere outside the machine) and nothing
// else; the check comes before any docker call.
func TestNetworkCreateIPv6ULAOnly(t *testing.T) {
	d := &containers.Docker{}
	for _, subnet := range []string{"2001:db8::/64", "fe80::/64", "10.0.0.0/24", "fd00:f7b:c0::", "fc00::/64"} {
		if err := d.NetworkCreateIPv6(context.Background(), "ftphtest-never-created", subnet, nil); err == nil || !strings.Contains(err.Error(), "not a ULA prefix") {
			t.Errorf("NetworkCreateIPv6 on %s: %v, want refused as not a ULA prefix", subnet, err)
		}
	}
}
