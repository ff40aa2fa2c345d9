// Package servers starts real FTP servers on loopback with a known passive
// port range, so the suites and the load generator have something true to
// test against. Debian-packaged daemons run as child processes; the Go
// libraries (ftpserverlib, goftp) run in-process.
package servers

import (
	"context"
	"crypto/tls"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/ftpharness/ftpharness/target"
)

// Spec says how to start a server. Zero values get defaults from Defaults.
type Spec struct {
	// Port is the control port. 0 picks a free one.
	Port int
	// ListenAddress is the address the control (and, where the server
	// allows, passive) sockets bind. Default 127.0.0.1; "0.0.0.0" binds
	// every interface (containers). Target.Addr dials 127.0.0.1 then.
	// "::1" listens on IPv6 loopback (every server here can); then the
	// default PasvAddress is NoMasquerade (a 227 carries IPv4 only).
	ListenAddress string
	// PasvMin and PasvMax bound the passive range (inclusive). PasvMin 0
	// picks a free block of DefaultRangeSize ports (of PasvMax ports when
	// only PasvMax is set); PasvMax 0 with PasvMin set means
	// PasvMin..PasvMin+DefaultRangeSize-1.
	PasvMin, PasvMax int
	// PasvAddress is the address the server advertises in 227 replies
	// (masquerade). Default 127.0.0.1. NoMasquerade leaves the server's
	// masquerade setting out of its configuration entirely, so it
	// advertises the local address of each control connection (the NAT
	// case: a server in a container advertising its container address).
	PasvAddress string
	// User and Password of the writable account. Default ftpuser/ftppass.
	User, Password string
	// Root is the directory served. Default: a fresh directory under StateDir.
	Root string
	// StateDir holds config, pid and logs. Default: a fresh temp directory.
	StateDir string
	// Anonymous enables read-only anonymous access where the server can.
	Anonymous bool
	// TLS is the FTPS mode: "" or "off", "explicit" (AUTH TLS) or
	// "implicit" (TLS before the greeting). A test CA and a server
	// certificate for 127.0.0.1, ::1 and localhost are made at start;
	// Target carries the mode and the CA file. Each server runs its own
	// TLS support (TLSModes says which modes it has); the others refuse.
	TLS string
	// TLSRequired (with TLS) has the server refuse login and data
	// transfers without TLS, by its own setting (vsftpd
	// force_local_logins_ssl/force_local_data_ssl, proftpd TLSRequired,
	// pure-ftpd -Y 3, pyftpdlib tls_control_required/tls_data_required,
	// ftpserverlib MandatoryEncryption, goftp ForceTLS). Without it TLS is offered and
	// cleartext still accepted, whatever the server's own default.
	TLSRequired bool
	// Tweak lets a caller adjust an in-process server's settings (for tests
	// that need a deliberately different configuration). Ignored by daemons.
	// ftpserverlib passes *ftpserver.Settings, goftp passes *server.Options.
	Tweak func(any)
}

// Defaults used when a Spec leaves a field empty.
var (
	DefaultUser          = "ftpuser"
	DefaultPassword      = "ftppass"
	DefaultPasvAddress   = "127.0.0.1"
	DefaultListenAddress = "127.0.0.1"
	DefaultRangeSize     = 20
)

// NoMasquerade as Spec.PasvAddress renders no masquerade setting at all
// (vsftpd pasv_address, proftpd MasqueradeAddress, pure-ftpd -P, pyftpdlib
// masquerade_address, ftpserverlib PublicHost, goftp PublicIP): the server
// advertises the address the client reached it on, as an unconfigured
// server does. Target.PasvAddress is empty then.
const NoMasquerade = "none"

// Greeting connects to addr, reads the server's greeting within timeout,
// sends QUIT and returns the greeting; an error unless it is a 220 reply
// (the container HEALTHCHECK, `ftpserve health`).
func Greeting(addr string, timeout time.Duration) (string, error) {
	return readGreeting(addr, timeout, nil)
}

// GreetingTLS is Greeting for implicit FTPS: a TLS handshake with cfg
// first, then the greeting inside TLS.
func GreetingTLS(addr string, timeout time.Duration, cfg *tls.Config) (string, error) {
	return readGreeting(addr, timeout, cfg)
}

// Running is a started server.
type Running interface {
	Name() string
	// Target is where to connect and what to expect: address, credentials,
	// passive range and advertised address, Server set to the kind.
	Target() target.Config
	// PID is the daemon's process id, or 0 for an in-process server.
	PID() int
	// LogPath is where the server's log goes ("" if none).
	LogPath() string
	// Stop ends the server (and its per-session children) and waits.
	Stop() error
}

// Starter starts one kind of server.
type Starter func(ctx context.Context, spec Spec) (Running, error)

var (
	mu       sync.Mutex
	registry = map[string]Starter{}
)

// Register adds a server kind. Called from init() in each launcher file.
func Register(name string, s Starter) {
	mu.Lock()
	defer mu.Unlock()
	registry[name] = s
}

// Names lists the registered server kinds, sorted.
func Names() []string {
	mu.Lock()
	defer mu.Unlock()
	var out []string
	for n := range registry {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Start starts the named server ("embedded" is an alias of "ftpserverlib").
func Start(ctx context.Context, name string, spec Spec) (Running, error) {
	if name == "embedded" {
		name = "ftpserverlib"
	}
	mu.Lock()
	s, ok := registry[name]
	mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("servers: unknown server %q (known: %s)", name, strings.Join(Names(), ", "))
	}
	if err := checkTLS(name, spec); err != nil {
		return nil, err
	}
	return s(ctx, spec)
}
