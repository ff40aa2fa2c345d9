// Package containers drives the docker CLI for the container tests: build
// and run the server images of servers/containers/<name>, wait for their
// health checks, publish their ports on 127.0.0.1, read their logs, and
// remove everything again. Every call runs `docker` (or `docker-compose`)
// as a child process under a deadline, so a hung daemon fails a test
// instead of hanging it.
//
// Objects created through this package carry the label LabelRun (the run
// id) and LabelPID (the creating process); Sweep removes the objects of
// runs whose process is gone, so a test killed half-way leaves nothing
// behind for longer than the next run.
package containers

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Labels put on every object this package creates.
const (
	LabelRun = "ftpharness.test"     // run id (RunID)
	LabelPID = "ftpharness.test.pid" // pid of the process that created it
)

// Default deadlines of docker calls.
var (
	// CallTimeout bounds quick calls (inspect, rm, network, logs).
	CallTimeout = 60 * time.Second
	// RunTimeout bounds `docker run -d` and `docker-compose up -d`.
	RunTimeout = 2 * time.Minute
	// BuildTimeout bounds an image build.
	BuildTimeout = 20 * time.Minute
)

// Docker is the docker CLI. The zero value runs "docker" from PATH.
type Docker struct {
	// Bin is the docker executable (default "docker").
	Bin string
	// Log, if set, is told every command line and its duration.
	Log func(format string, args ...any)
}

func (d *Docker) bin() string {
	if d != nil && d.Bin != "" {
		return d.Bin
	}
	return "docker"
}

func (d *Docker) logf(format string, args ...any) {
	if d != nil && d.Log != nil {
		d.Log(format, args...)
	}
}

// Error is a failed docker command with its output.
type Error struct {
	Args   []string
	Err    error
	Stderr string
}

func (e *Error) Error() string {
	msg := strings.TrimSpace(e.Stderr)
	if len(msg) > 2000 {
		msg = msg[:2000] + "…"
	}
	return fmt.Sprintf("%s: %v: %s", strings.Join(e.Args, " "), e.Err, msg)
}

func (e *Error) Unwrap() error { return e.Err }

// run executes bin args under timeout and returns stdout.
func (d *Docker) exec(ctx context.Context, timeout time.Duration, bin string, args []string, env []string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = 5 * time.Second
	start := time.Now()
	err := cmd.Run()
	if err != nil || !polling(args) {
		d.logf("[%5.1fs] %s %s", time.Since(start).Seconds(), bin, strings.Join(args, " "))
	}
	if err != nil {
		if ctx.Err() == context.DeadlineExceeded {
			err = fmt.Errorf("no answer within %v: %w", timeout, ctx.Err())
		}
		return stdout.String(), &Error{Args: append([]string{bin}, args...), Err: err, Stderr: stderr.String() + stdout.String()}
	}
	return stdout.String(), nil
}

// polling reports whether args is a read-only query repeated while waiting
// (not worth a log line unless it fails).
func polling(args []string) bool {
	for _, a := range args {
		switch a {
		case "inspect", "ps", "ls", "images":
			return true
		}
	}
	return false
}

func (d *Docker) docker(ctx context.Context, timeout time.Duration, args ...string) (string, error) {
	return d.exec(ctx, timeout, d.bin(), args, nil)
}

// Available reports whether the docker CLI is installed and its daemon
// answers; the error says why not.
func (d *Docker) Available(ctx context.Context) error {
	if _, err := exec.LookPath(d.bin()); err != nil {
		return fmt.Errorf("no docker CLI: %v", err)
	}
	out, err := d.docker(ctx, 20*time.Second, "version", "--format", "{{.Server.Version}}")
	if err != nil {
		return fmt.Errorf("docker daemon not reachable: %v", err)
	}
	if strings.TrimSpace(out) == "" {
		return errors.New("docker daemon not reachable: `docker version` printed no server version")
	}
	return nil
}

// Build builds the image of the Dockerfile in dir as tag.
func (d *Docker) Build(ctx context.Context, dir, tag string, labels map[string]string) error {
	args := []string{"build", "-t", tag}
	for _, k := range sortedKeys(labels) {
		args = append(args, "--label", k+"="+labels[k])
	}
	_, err := d.docker(ctx, BuildTimeout, append(args, dir)...)
	return err
}

// ImageExists reports whether ref names a local image.
func (d *Docker) ImageExists(ctx context.Context, ref string) bool {
	_, err := d.docker(ctx, CallTimeout, "image", "inspect", "--format", "{{.Id}}", ref)
	return err == nil
}

// Images lists local image references (repo:tag) matching repository
// pattern repo (e.g. "ftpharness/*").
func (d *Docker) Images(ctx context.Context, repo string) ([]string, error) {
	out, err := d.docker(ctx, CallTimeout, "images", "--format", "{{.Repository}}:{{.Tag}}", repo)
	if err != nil {
		return nil, err
	}
	return lines(out), nil
}

// RemoveImages untags (and deletes when no tag is left) the images.
// Missing ones are ignored.
func (d *Docker) RemoveImages(ctx context.Context, refs ...string) error {
	var errs []error
	for _, r := range refs {
		if _, err := d.docker(ctx, CallTimeout, "rmi", r); err != nil && !isNoSuch(err) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Port publishes container ports Container..Container+Count-1 on
// HostIP:Host..Host+Count-1 (Count 0 means 1).
type Port struct {
	HostIP    string // default 127.0.0.1
	Host      int
	Container int
	Count     int
}

func (p Port) flag() string {
	ip := p.HostIP
	if ip == "" {
		ip = "127.0.0.1"
	}
	if p.Count <= 1 {
		return fmt.Sprintf("%s:%d:%d", ip, p.Host, p.Container)
	}
	return fmt.Sprintf("%s:%d-%d:%d-%d", ip, p.Host, p.Host+p.Count-1, p.Container, p.Container+p.Count-1)
}

// RunSpec is a detached container.
type RunSpec struct {
	Name    string // container name (optional)
	Image   string
	Cmd     []string
	Env     map[string]string
	Ports   []Port
	Labels  map[string]string
	Network string   // network to attach (default: the daemon's bridge)
	Aliases []string // network aliases (with Network)
	Mounts  []string // -v host:container[:opts]
	Tmpfs   []string // --tmpfs path (memory, not the container's file system)
	CapAdd  []string // --cap-add
	// HealthInterval overrides the image's HEALTHCHECK interval (and
	// start interval) so a test does not wait out a long default.
	HealthInterval time.Duration
}

// Run starts a detached container and returns its id.
func (d *Docker) Run(ctx context.Context, s RunSpec) (string, error) {
	// --pull=never: images come from scripts/build-images (or the test's
	// own build), never from whatever a registry holds under the name.
	args := []string{"run", "-d", "--pull=never"}
	if s.Name != "" {
		args = append(args, "--name", s.Name)
	}
	for _, k := range sortedKeys(s.Labels) {
		args = append(args, "--label", k+"="+s.Labels[k])
	}
	for _, k := range sortedKeys(s.Env) {
		args = append(args, "-e", k+"="+s.Env[k])
	}
	for _, p := range s.Ports {
		args = append(args, "-p", p.flag())
	}
	if s.Network != "" {
		args = append(args, "--network", s.Network)
		for _, a := range s.Aliases {
			args = append(args, "--network-alias", a)
		}
	}
	for _, m := range s.Mounts {
		args = append(args, "-v", m)
	}
	for _, t := range s.Tmpfs {
		args = append(args, "--tmpfs", t)
	}
	for _, c := range s.CapAdd {
		args = append(args, "--cap-add", c)
	}
	if s.HealthInterval > 0 {
		args = append(args, "--health-interval", s.HealthInterval.String(), "--health-timeout", "5s", "--health-retries", "60")
	}
	args = append(args, s.Image)
	args = append(args, s.Cmd...)
	out, err := d.docker(ctx, RunTimeout, args...)
	id := strings.TrimSpace(out)
	if err != nil {
		if id != "" { // created but not started: do not leak it
			_ = d.Remove(context.WithoutCancel(ctx), id)
		}
		return "", err
	}
	return id, nil
}

// Info is what Inspect tells about a container.
type Info struct {
	ID       string
	Name     string
	Status   string // created, running, exited, ...
	ExitCode int
	Health   string // "" (no health check), starting, healthy, unhealthy
	// HealthLog is the output of the last health probes.
	HealthLog []string
	// Networks maps network name to the container's IPv4 address there.
	Networks map[string]string
	// Gateways maps network name to its gateway address.
	Gateways map[string]string
	// IPv6 maps network name to the container's IPv6 address there (""
	// on a network without IPv6).
	IPv6   map[string]string
	Labels map[string]string
}

// IP is the container's address on network (any network when "").
func (i Info) IP(network string) string {
	if network != "" {
		return i.Networks[network]
	}
	for _, n := range sortedKeys(i.Networks) {
		if i.Networks[n] != "" {
			return i.Networks[n]
		}
	}
	return ""
}

// Inspect reads a container's state.
func (d *Docker) Inspect(ctx context.Context, id string) (Info, error) {
	out, err := d.docker(ctx, CallTimeout, "inspect", "--type", "container", id)
	if err != nil {
		return Info{}, err
	}
	var raw []struct {
		ID    string `json:"Id"`
		Name  string
		State struct {
			Status   string
			ExitCode int
			Health   *struct {
				Status string
				Log    []struct {
					ExitCode int
					Output   string
				}
			}
		}
		Config struct {
			Labels map[string]string
		}
		NetworkSettings struct {
			Networks map[string]struct {
				IPAddress         string
				Gateway           string
				GlobalIPv6Address string
			}
		}
	}
	if err := json.Unmarshal([]byte(out), &raw); err != nil || len(raw) != 1 {
		return Info{}, fmt.Errorf("docker inspect %s: unexpected output (%v)", id, err)
	}
	r := raw[0]
	info := Info{ID: r.ID, Name: strings.TrimPrefix(r.Name, "/"), Status: r.State.Status, ExitCode: r.State.ExitCode,
		Networks: map[string]string{}, Gateways: map[string]string{}, IPv6: map[string]string{}, Labels: r.Config.Labels}
	if h := r.State.Health; h != nil {
		info.Health = h.Status
		for _, l := range h.Log {
			info.HealthLog = append(info.HealthLog, fmt.Sprintf("exit %d: %s", l.ExitCode, strings.TrimSpace(l.Output)))
		}
	}
	for n, s := range r.NetworkSettings.Networks {
		info.Networks[n], info.Gateways[n], info.IPv6[n] = s.IPAddress, s.Gateway, s.GlobalIPv6Address
	}
	return info, nil
}

// WaitHealthy polls the container until its health check says healthy (or,
// for an image without a health check, until it runs), and fails early
// when it exits or turns unhealthy, with the last probe output and logs.
func (d *Docker) WaitHealthy(ctx context.Context, id string, timeout time.Duration) (Info, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last Info
	for {
		info, err := d.Inspect(ctx, id)
		if err == nil {
			last = info
			switch {
			case info.Status == "exited" || info.Status == "dead":
				logs, _ := d.Logs(context.WithoutCancel(ctx), id, 40)
				return info, fmt.Errorf("container %s exited (%d) before it was healthy; logs:\n%s", info.Name, info.ExitCode, logs)
			case info.Health == "unhealthy":
				logs, _ := d.Logs(context.WithoutCancel(ctx), id, 40)
				return info, fmt.Errorf("container %s is unhealthy: %s; logs:\n%s", info.Name, strings.Join(info.HealthLog, " | "), logs)
			case info.Health == "healthy", info.Health == "" && info.Status == "running":
				return info, nil
			}
		}
		select {
		case <-ctx.Done():
			logs, _ := d.Logs(context.WithoutCancel(ctx), id, 40)
			return last, fmt.Errorf("container %s not healthy within %v (status %s, health %q: %s); logs:\n%s",
				last.Name, timeout, last.Status, last.Health, strings.Join(last.HealthLog, " | "), logs)
		case <-time.After(300 * time.Millisecond):
		}
	}
}

// Logs returns the container's output (last tail lines; all when tail <= 0).
func (d *Docker) Logs(ctx context.Context, id string, tail int) (string, error) {
	args := []string{"logs"}
	if tail > 0 {
		args = append(args, "--tail", strconv.Itoa(tail))
	}
	ctx, cancel := context.WithTimeout(ctx, CallTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, d.bin(), append(args, id)...)
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput() // the container's stdout and stderr
	return string(out), err
}

// Remove force-removes containers with their anonymous volumes. Missing
// ones are ignored.
func (d *Docker) Remove(ctx context.Context, ids ...string) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := d.docker(ctx, CallTimeout, append([]string{"rm", "-f", "-v"}, ids...)...)
	if err != nil && isNoSuch(err) {
		return nil
	}
	return err
}

// NetworkCreate creates a bridge network.
func (d *Docker) NetworkCreate(ctx context.Context, name string, labels map[string]string) error {
	args := []string{"network", "create", "--driver", "bridge"}
	for _, k := range sortedKeys(labels) {
		args = append(args, "--label", k+"="+labels[k])
	}
	_, err := d.docker(ctx, CallTimeout, append(args, name)...)
	return err
}

// NetworkCreateIPv6 creates a bridge network with IPv6 on subnet (a ULA
// /64, fd00::/8: reachable only inside this machine) besides the IPv4
// subnet the daemon picks. A daemon that cannot do IPv6 fails here (or
// gives its containers no IPv6 address: see Info.IPv6).
func (d *Docker) NetworkCreateIPv6(ctx context.Context, name, subnet string, labels map[string]string) error {
	_, n, err := net.ParseCIDR(subnet)
	if err != nil || n.IP.To4() != nil || n.IP[0] != 0xfd {
		return fmt.Errorf("containers: IPv6 subnet %q is not a ULA prefix (fd00::/8)", subnet)
	}
	args := []string{"network", "create", "--driver", "bridge", "--ipv6", "--subnet", subnet}
	for _, k := range sortedKeys(labels) {
		args = append(args, "--label", k+"="+labels[k])
	}
	_, err = d.docker(ctx, CallTimeout, append(args, name)...)
	return err
}

// NetworkRemove removes networks; missing ones are ignored.
func (d *Docker) NetworkRemove(ctx context.Context, names ...string) error {
	var errs []error
	for _, n := range names {
		if _, err := d.docker(ctx, CallTimeout, "network", "rm", n); err != nil && !isNoSuch(err) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// ListContainers lists the ids of all containers (running or not) matching
// the filters (e.g. "label=ftpharness.test").
func (d *Docker) ListContainers(ctx context.Context, filters ...string) ([]string, error) {
	args := []string{"ps", "-a", "-q", "--no-trunc"}
	for _, f := range filters {
		args = append(args, "--filter", f)
	}
	out, err := d.docker(ctx, CallTimeout, args...)
	return lines(out), err
}

// ListNetworks lists the names of networks matching the filters.
func (d *Docker) ListNetworks(ctx context.Context, filters ...string) ([]string, error) {
	args := []string{"network", "ls", "--format", "{{.Name}}"}
	for _, f := range filters {
		args = append(args, "--filter", f)
	}
	out, err := d.docker(ctx, CallTimeout, args...)
	return lines(out), err
}

// Labels of a container or network (by id or name).
func (d *Docker) Labels(ctx context.Context, kind, ref string) (map[string]string, error) {
	out, err := d.docker(ctx, CallTimeout, kind, "inspect", "--format", "{{json .Labels}}", ref)
	if kind == "container" {
		out, err = d.docker(ctx, CallTimeout, "container", "inspect", "--format", "{{json .Config.Labels}}", ref)
	}
	if err != nil {
		return nil, err
	}
	var m map[string]string
	if err := json.Unmarshal([]byte(strings.TrimSpace(out)), &m); err != nil {
		return nil, err
	}
	return m, nil
}

func isNoSuch(err error) bool {
	var e *Error
	if !errors.As(err, &e) {
		return false
	}
	s := strings.ToLower(e.Stderr)
	return strings.Contains(s, "no such") || strings.Contains(s, "not found")
}

func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
