package containers

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/ftpharness/ftpharness/servers"
	"github.com/ftpharness/ftpharness/target"
)

// Caps are the capabilities beyond Docker's defaults a server image needs
// (servers/containers/README.md): Debian's pure-ftpd is built with libcap
// and keeps DAC_READ_SEARCH and SYS_NICE, which it cannot do without them.
var Caps = map[string][]string{"pure-ftpd": {"DAC_READ_SEARCH", "SYS_NICE"}}

// ServerSpec is one server container with its ports published on
// 127.0.0.1. Host ports come from the servers allocator (servers.Lease),
// so containers, local servers and fault proxies started at the same time
// never clash.
type ServerSpec struct {
	// Name is the server kind (vsftpd, ...): Target().Server.
	Name string
	// Image is the image reference (ftpharness/<name>:<tag>).
	Image string
	// RangeSize is the passive range's size (default 10).
	RangeSize int
	// PasvAddress is what the server advertises (FTPH_PASV_ADDRESS); ""
	// lets it advertise its own container address (no masquerade).
	PasvAddress string
	// Publish is how many ports of the range are published, from its
	// start (0: all).
	Publish int
	// Shift publishes the range on host ports different from the
	// container's: both ranges are reserved from the allocator, so nothing
	// else on the host listens on the container-side numbers either.
	Shift bool
	// User and Password (default servers.DefaultUser/DefaultPassword).
	User, Password string
	// Network to attach (default bridge).
	Network string
	// Labels of the container (RunLabels of the test run).
	Labels map[string]string
	// Healthy bounds the wait for the health check (default 60 s).
	Healthy time.Duration
	// TLS is the server's FTPS mode (FTPH_TLS): "" for cleartext,
	// "explicit" or "implicit". The container's state dir is then a host
	// directory, so the test CA made at start is readable here
	// (Target().TLSCA).
	TLS string
	// IPv6: the server listens on :: (FTPH_LISTEN) and nothing is
	// published: the client reaches it at its IPv6 address on Network (a
	// network of NetworkCreateIPv6, a ULA the host routes to over the
	// bridge), on port 21 and the container-side passive range.
	IPv6 bool
}

// Server is a running server container.
type Server struct {
	Spec ServerSpec
	ID   string
	Info Info
	// ControlPort is the host port published for the container's 21.
	ControlPort int
	// HostLo..HostHi are the published passive host ports (all of the
	// range's host side, also the unpublished part when Publish < size);
	// ContainerLo..ContainerHi the range the server uses inside.
	HostLo, HostHi           int
	ContainerLo, ContainerHi int
	// Started is how long the container took from `docker run` to healthy.
	Started time.Duration

	d        *Docker
	lease    *servers.Lease
	stateDir string // host side of the container's state dir (TLS only)
}

// StartServer reserves host ports, runs the container, and waits for it to
// be healthy. On error nothing is left running.
func (d *Docker) StartServer(ctx context.Context, s ServerSpec) (*Server, error) {
	if s.RangeSize <= 0 {
		s.RangeSize = 10
	}
	if s.User == "" {
		s.User = servers.DefaultUser
	}
	if s.Password == "" {
		s.Password = servers.DefaultPassword
	}
	if s.Healthy == 0 {
		s.Healthy = 60 * time.Second
	}
	srv := &Server{Spec: s, d: d, lease: servers.NewLease()}
	fail := func(err error) (*Server, error) {
		srv.Stop(context.WithoutCancel(ctx))
		return nil, err
	}
	run, err := srv.tlsRun()
	if err != nil {
		return fail(err)
	}
	if srv.ControlPort, err = srv.lease.ControlPort(); err != nil {
		return fail(err)
	}
	if srv.ContainerLo, srv.ContainerHi, err = srv.lease.Range(s.RangeSize); err != nil {
		return fail(err)
	}
	srv.HostLo, srv.HostHi = srv.ContainerLo, srv.ContainerHi
	if s.Shift {
		if srv.HostLo, srv.HostHi, err = srv.lease.Range(s.RangeSize); err != nil {
			return fail(err)
		}
	}
	pub := s.RangeSize
	if s.Publish > 0 && s.Publish < pub {
		pub = s.Publish
	}
	run.Env["FTPH_USER"], run.Env["FTPH_PASSWORD"], run.Env["FTPH_PORT"] = s.User, s.Password, "21"
	run.Env["FTPH_PASV_RANGE"] = fmt.Sprintf("%d-%d", srv.ContainerLo, srv.ContainerHi)
	run.Env["FTPH_PASV_ADDRESS"] = s.PasvAddress
	run.Image, run.Labels, run.Network, run.CapAdd, run.HealthInterval = s.Image, s.Labels, s.Network, Caps[s.Name], time.Second
	// The served directory in memory: the suites upload a 64 MiB file per
	// worker, and written through the container's file system (fuse-
	// overlayfs here, one FUSE daemon per container) it starved vsftpd's
	// logins for over 10 s on a loaded machine.
	run.Tmpfs = []string{ServedDir}
	run.Ports = []Port{
		{Host: srv.ControlPort, Container: 21},
		{Host: srv.HostLo, Container: srv.ContainerLo, Count: pub},
	}
	if s.IPv6 {
		// :: takes IPv4 too (the health check dials 127.0.0.1 inside)
		run.Env["FTPH_LISTEN"], run.Ports = "::", nil
	}
	start := time.Now()
	srv.ID, err = d.Run(ctx, run)
	if err != nil {
		return fail(fmt.Errorf("start %s: %w", s.Name, err))
	}
	if srv.Info, err = d.WaitHealthy(ctx, srv.ID, s.Healthy); err != nil {
		return fail(fmt.Errorf("start %s: %w", s.Name, err))
	}
	if s.IPv6 && srv.Info.IPv6[s.Network] == "" {
		return fail(fmt.Errorf("start %s: the container has no IPv6 address on %q (does the network have IPv6?)", s.Name, s.Network))
	}
	// Healthy inside is not yet reachable through the published port on
	// every daemon: wait for the greeting through it too.
	probe, err := srv.greetingTLS()
	if err != nil {
		return fail(fmt.Errorf("start %s: %w", s.Name, err))
	}
	if err := waitGreeting(ctx, srv.Addr(), 20*time.Second, probe); err != nil {
		logs, _ := d.Logs(context.WithoutCancel(ctx), srv.ID, 40)
		return fail(fmt.Errorf("start %s: healthy, but no 220 greeting through the published port %s: %v; logs:\n%s", s.Name, srv.Addr(), err, logs))
	}
	srv.Started = time.Since(start)
	return srv, nil
}

// Addr is the published control address on the host (with Spec.IPv6,
// the container's own [address]:21).
func (s *Server) Addr() string {
	if s.Spec.IPv6 {
		return net.JoinHostPort(s.Info.IPv6[s.Spec.Network], "21")
	}
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.ControlPort))
}

// IP is the container's own address (what it advertises with no
// PasvAddress).
func (s *Server) IP() string { return s.Info.IP(s.Spec.Network) }

// Target is the server as a host client is told about it: the published
// control port, the host side of the passive range, and the masquerade
// address the server was given.
func (s *Server) Target() target.Config {
	t := target.Config{
		Server: s.Spec.Name, Addr: s.Addr(), User: s.Spec.User, Password: s.Spec.Password,
		PasvRange:   fmt.Sprintf("%d-%d", s.HostLo, s.HostHi),
		PasvAddress: s.Spec.PasvAddress,
	}
	if s.Spec.IPv6 { // nothing published: the server's own ports
		t.PasvRange = fmt.Sprintf("%d-%d", s.ContainerLo, s.ContainerHi)
	}
	if s.stateDir != "" { // the CA ftpserve wrote to STATE-DIR/tls (servers.Spec.TLS)
		t.TLS, t.TLSCA = s.Spec.TLS, filepath.Join(s.stateDir, "tls", "ca.pem")
	}
	return t
}

// Logs is the container's output.
func (s *Server) Logs(ctx context.Context) string {
	if s.ID == "" {
		return ""
	}
	out, _ := s.d.Logs(ctx, s.ID, 200)
	return out
}

// Stop removes the container and releases its host ports.
func (s *Server) Stop(ctx context.Context) error {
	var err error
	if s.ID != "" {
		err = s.d.Remove(ctx, s.ID)
		s.ID = ""
	}
	s.lease.Release()
	if s.stateDir != "" {
		_ = os.RemoveAll(s.stateDir)
		s.stateDir = ""
	}
	return err
}

// waitGreeting dials addr until a 220 greeting comes, inside TLS when
// probe is not nil (implicit FTPS).
func waitGreeting(ctx context.Context, addr string, timeout time.Duration, probe *tls.Config) error {
	deadline := time.Now().Add(timeout)
	var last error
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", addr, 2*time.Second)
		if err == nil && probe != nil {
			tc := tls.Client(c, probe)
			_ = tc.SetDeadline(time.Now().Add(5 * time.Second))
			if err = tc.Handshake(); err != nil {
				c.Close()
			}
			c = tc
		}
		if err == nil {
			_ = c.SetDeadline(time.Now().Add(5 * time.Second))
			b := make([]byte, 4)
			_, err = io.ReadFull(c, b)
			c.Close()
			if err == nil && string(b[:3]) == "220" {
				return nil
			}
			if err == nil {
				err = fmt.Errorf("greeting starts %q", b)
			}
		}
		last = err
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(300 * time.Millisecond):
		}
	}
	return last
}

// stateInContainer is where a TLS server container keeps its state (the
// host directory Server.stateDir is mounted there).
const stateInContainer = "/ftph-state"

// ServedDir is the directory the images serve (ftpserve --container's
// default FTPH_ROOT); the servers chown it to the login account at start.
const ServedDir = "/srv/ftp"

// tlsRun is the RunSpec part FTPS needs: FTPH_TLS, and a host directory
// mounted as the container's state dir, so that the CA made at start can
// be handed to the client. Empty for a cleartext server.
func (s *Server) tlsRun() (RunSpec, error) {
	run := RunSpec{Env: map[string]string{}}
	switch s.Spec.TLS {
	case "", "off":
		return run, nil
	case "explicit", "implicit":
	default:
		return run, fmt.Errorf("containers: FTPS mode %q: want explicit or implicit", s.Spec.TLS)
	}
	dir, err := os.MkdirTemp("", "ftpharness-container-state-")
	if err != nil {
		return run, err
	}
	s.stateDir = dir
	run.Env["FTPH_TLS"] = s.Spec.TLS
	run.Mounts = []string{dir + ":" + stateInContainer}
	run.Cmd = []string{"--state-dir", stateInContainer}
	return run, nil
}

// greetingTLS is how the readiness probe reaches the greeting: nil
// (cleartext) unless the server is implicit FTPS, then a handshake that
// trusts the test CA the container wrote (it exists once healthy).
func (s *Server) greetingTLS() (*tls.Config, error) {
	if s.Spec.TLS != "implicit" {
		return nil, nil
	}
	ca := s.Target().TLSCA
	pem, err := os.ReadFile(ca)
	if err != nil {
		return nil, fmt.Errorf("the test CA of the container: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s: no certificate", ca)
	}
	host, _, _ := net.SplitHostPort(s.Addr())
	return &tls.Config{RootCAs: pool, ServerName: host, MinVersion: tls.VersionTLS12}, nil
}
