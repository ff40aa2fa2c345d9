// Package target is the contract between ftpharness and the server under
// test: where it is, how to log in, and what the operator declares about
// it (passive range, advertised address, features). One Config is filled
// from three sources with one precedence: --ftp.* flags, then FTPH_*
// environment variables, then a profile file (YAML or JSON).
package target

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Config describes the server under test. The zero value plus Defaults()
// means "start the embedded server and test it".
type Config struct {
	// Addr is host:port of the control connection. Empty means: start the
	// embedded server (EmbeddedServer) and test that.
	Addr string `json:"addr" yaml:"addr"`
	// URL is ftp://user:pass@host:port (ftpes:// explicit FTPS, ftps://
	// implicit FTPS, port 990 by default); it fills Addr, User and Password
	// (and TLS for ftpes/ftps).
	URL string `json:"url,omitempty" yaml:"url,omitempty"`
	// User and Password log in a user with write access to ScratchDir.
	User     string `json:"user" yaml:"user"`
	Password string `json:"password" yaml:"password"`
	// PasvRange is the passive port range the operator configured, "lo-hi".
	// Empty: range checks (RANGE-*) are skipped.
	PasvRange string `json:"pasv-range,omitempty" yaml:"pasv-range,omitempty"`
	// PasvEphemeral declares a server with no passive range setting that
	// takes its passive ports from the kernel's ephemeral range (inetutils
	// ftpd): the RANGE checks still skip, but there is no small pool to
	// exhaust, so a run spread over workers may use as many as with a
	// declared range (without either, 2: the pool size is unknown).
	PasvEphemeral bool `json:"pasv-ephemeral,omitempty" yaml:"pasv-ephemeral,omitempty"`
	// PasvAddress is the address the server must advertise in 227 replies
	// (masquerade). Empty: the address the client dialled.
	PasvAddress string `json:"pasv-address,omitempty" yaml:"pasv-address,omitempty"`
	// ForeignSource is a local address the harness binds to play a foreign
	// data-connection peer (PASV-010). Default 127.0.0.2.
	ForeignSource string `json:"foreign-source,omitempty" yaml:"foreign-source,omitempty"`
	// ThirdParty is the loopback address where the harness listens to catch
	// bounce connections (ACT-003). Default 127.77.88.99.
	ThirdParty string `json:"third-party,omitempty" yaml:"third-party,omitempty"`
	// ScratchDir is a server path under which checks create their files;
	// each run makes its own subdirectory and removes it. Default "." (the
	// login directory).
	ScratchDir string `json:"scratch-dir,omitempty" yaml:"scratch-dir,omitempty"`
	// Timeout bounds each network operation. Default 10s.
	Timeout time.Duration `json:"timeout,omitempty" yaml:"timeout,omitempty"`
	// TLS is the FTPS mode: "off", "explicit" (AUTH TLS) or "implicit"
	// (TLS before the greeting).
	TLS string `json:"tls,omitempty" yaml:"tls,omitempty"`
	// TLSCA is a PEM file of CA certificates the server's certificate must
	// chain to (empty: the system pool).
	TLSCA string `json:"tls-ca,omitempty" yaml:"tls-ca,omitempty"`
	// TLSInsecure skips certificate verification (recorded in transcripts
	// and to be said in the verdicts).
	TLSInsecure bool `json:"tls-insecure,omitempty" yaml:"tls-insecure,omitempty"`
	// Features the operator declares (comma list in flags): "fxp" (foreign
	// data peers and third-party PORT allowed), "multiplex" (passive ports
	// shared across client IPs), "no-active" (PORT/EPRT disabled on purpose),
	// "tls-required" (an FTPS server configured to refuse cleartext logins
	// and PROT C transfers).
	Features []string `json:"features,omitempty" yaml:"features,omitempty"`
	// EmbeddedServer names the server started when Addr is empty.
	EmbeddedServer string `json:"embedded-server,omitempty" yaml:"embedded-server,omitempty"`
	// Server names the server software when the harness started it (ftpserve,
	// the matrix); informational, written into profiles, never read back.
	Server string `json:"server,omitempty" yaml:"server,omitempty"`
	// Profile is the path the values were loaded from (informational).
	Profile string `json:"-" yaml:"-"`
}

// Defaults for unset fields.
const (
	DefaultUser           = "ftpuser"
	DefaultPassword       = "ftppass"
	DefaultForeignSource  = "127.0.0.2"
	DefaultThirdParty     = "127.77.88.99"
	DefaultScratchDir     = "."
	DefaultTimeout        = 10 * time.Second
	DefaultEmbeddedServer = "ftpserverlib"
)

// KnownFeatures are the operator declarations the suites understand.
var KnownFeatures = []string{"fxp", "multiplex", "no-active", "tls-required"}

// Defaults returns a Config with every default filled in.
func Defaults() Config {
	return Config{
		ForeignSource:  DefaultForeignSource,
		ThirdParty:     DefaultThirdParty,
		ScratchDir:     DefaultScratchDir,
		Timeout:        DefaultTimeout,
		TLS:            "off",
		EmbeddedServer: DefaultEmbeddedServer,
	}
}

// Embedded reports whether no target was given.
func (c Config) Embedded() bool { return c.Addr == "" }

// Has reports whether the operator declared feature f.
func (c Config) Has(f string) bool {
	for _, x := range c.Features {
		if strings.EqualFold(strings.TrimSpace(x), f) {
			return true
		}
	}
	return false
}

// Range is an inclusive port range; the zero Range is "none declared".
type Range struct{ Lo, Hi int }

// Set reports whether the range was declared.
func (r Range) Set() bool { return r.Lo > 0 && r.Hi >= r.Lo }

// Size is the number of ports in r (0 when none is declared).
func (r Range) Size() int {
	if !r.Set() {
		return 0
	}
	return r.Hi - r.Lo + 1
}

// Contains reports lo <= p <= hi; every port is inside an undeclared range.
func (r Range) Contains(p int) bool { return !r.Set() || (p >= r.Lo && p <= r.Hi) }

// String is "lo-hi", or "" when none is declared.
func (r Range) String() string {
	if !r.Set() {
		return ""
	}
	return fmt.Sprintf("%d-%d", r.Lo, r.Hi)
}

// ParseRange reads "lo-hi" (or a single port).
func ParseRange(s string) (Range, error) {
	lo, hi, ok := strings.Cut(strings.TrimSpace(s), "-")
	if !ok {
		hi = lo
	}
	l, err1 := strconv.Atoi(strings.TrimSpace(lo))
	h, err2 := strconv.Atoi(strings.TrimSpace(hi))
	if err1 != nil || err2 != nil {
		return Range{}, fmt.Errorf("%q is not lo-hi (e.g. 30000-30099)", s)
	}
	if l < 1 || h > 65535 || l > h {
		return Range{}, fmt.Errorf("%q: need 1 <= lo <= hi <= 65535", s)
	}
	return Range{l, h}, nil
}

// PasvPorts returns the declared range and whether one was declared.
func (c Config) PasvPorts() (Range, bool) {
	if c.PasvRange == "" {
		return Range{}, false
	}
	r, err := ParseRange(c.PasvRange)
	return r, err == nil
}

// Host is the host part of Addr.
func (c Config) Host() string {
	h, _, _ := net.SplitHostPort(c.Addr)
	return h
}

// ExpectedPasvIP is the address 227 replies must carry: PasvAddress when
// declared, else the host dialled (when it is an IP).
func (c Config) ExpectedPasvIP() net.IP {
	if c.PasvAddress != "" {
		return net.ParseIP(c.PasvAddress)
	}
	return net.ParseIP(c.Host())
}

// applyURL fills Addr/User/Password from URL.
func (c *Config) applyURL() error {
	if c.URL == "" {
		return nil
	}
	u, err := ParseURL(c.URL)
	if err != nil {
		return fmt.Errorf("--ftp.url: %q is not ftp://user:pass@host:port (%v)", redactURL(c.URL), err)
	}
	c.Addr = u.Addr
	if u.TLS != "off" {
		if c.TLS != "" && c.TLS != "off" && c.TLS != u.TLS {
			return fmt.Errorf("--ftp.url: %s:// is %s FTPS but --ftp.tls is %s", u.Scheme, u.TLS, c.TLS)
		}
		c.TLS = u.TLS
	}
	if u.HasUser {
		c.User = u.User
		if u.HasPassword {
			c.Password = u.Password
		}
	}
	return nil
}

// FTPURL is what an ftp://user:pass@host:port URL names.
type FTPURL struct {
	Scheme               string // ftp, ftpes or ftps (lower case)
	TLS                  string // off (ftp), explicit (ftpes) or implicit (ftps)
	Addr                 string // host:port (port 21 when the URL has none, 990 for ftps)
	User, Password       string
	HasUser, HasPassword bool
}

// schemes maps URL schemes to TLS modes, as FileZilla and lftp name them.
var schemes = map[string]string{"ftp": "off", "ftpes": "explicit", "ftps": "implicit"}

// ParseURL reads ftp://[user[:pass]@]host[:port] (or ftpes://, ftps://),
// the one URL syntax of the project (ftpconform --ftp.url, ftpload
// --target). Its error says what is wrong and never holds the password.
func ParseURL(s string) (FTPURL, error) {
	scheme, _, ok := strings.Cut(s, "://")
	mode, known := schemes[strings.ToLower(scheme)]
	if !ok || !known {
		return FTPURL{}, errors.New("not an ftp:// URL (nor ftpes:// or ftps://)")
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.Hostname() == "" {
		return FTPURL{}, errors.New("not a URL with a host")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return FTPURL{}, fmt.Errorf("port %s out of range 1-65535", p)
		}
	}
	f := FTPURL{Scheme: strings.ToLower(scheme), TLS: mode, Addr: u.Host}
	if u.Port() == "" {
		port := "21"
		if mode == "implicit" {
			port = "990"
		}
		f.Addr = net.JoinHostPort(u.Hostname(), port)
	}
	if u.User != nil {
		f.User, f.HasUser = u.User.Username(), true
		f.Password, f.HasPassword = u.User.Password()
	}
	return f, nil
}

// checkHostPort accepts host:port with a host and a port in 1-65535, so a
// typo stops the run here instead of as a dial error blamed on the server.
func checkHostPort(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || host == "" {
		return fmt.Errorf("%q is not host:port (e.g. 127.0.0.1:2121)", addr)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("%q: port %q is not a number in 1-65535", addr, port)
	}
	return nil
}

// Validate checks every value and names the flag of the first bad one.
func (c *Config) Validate() error {
	if err := c.applyURL(); err != nil {
		return err
	}
	if c.Addr != "" {
		if err := checkHostPort(c.Addr); err != nil {
			flag := "--ftp.addr"
			if c.URL != "" {
				flag = "--ftp.url"
			}
			return fmt.Errorf("%s: %v", flag, err)
		}
		if c.User == "" {
			return fmt.Errorf("--ftp.user: a user is required when --ftp.addr is given (or use --ftp.url=ftp://user:pass@host:port)")
		}
	}
	if c.PasvRange != "" {
		if _, err := ParseRange(c.PasvRange); err != nil {
			return fmt.Errorf("--ftp.pasv-range: %v", err)
		}
		if c.PasvEphemeral {
			return fmt.Errorf("--ftp.pasv-ephemeral: the server's passive ports cannot be both the declared range %s and the kernel's ephemeral ones; declare one", c.PasvRange)
		}
	}
	if c.PasvAddress != "" && net.ParseIP(c.PasvAddress).To4() == nil {
		return fmt.Errorf("--ftp.pasv-address: %q is not an IPv4 address (227 replies carry IPv4 only)", c.PasvAddress)
	}
	for name, v := range map[string]string{"--ftp.foreign-source": c.ForeignSource, "--ftp.third-party": c.ThirdParty} {
		ip := net.ParseIP(v)
		if ip == nil || !(ip.IsLoopback() || PrivateLoopbackULA(ip)) {
			return fmt.Errorf("%s: %q must be a loopback address (127.0.0.0/8, ::1; or a ULA on lo of a private network namespace); ftpharness sends no traffic elsewhere", name, v)
		}
	}
	if c.Timeout <= 0 {
		return fmt.Errorf("--ftp.timeout: must be positive, got %v", c.Timeout)
	}
	if err := c.validateTLS(); err != nil {
		return err
	}
	for _, f := range c.Features {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		i := sort.SearchStrings(KnownFeatures, f)
		if i >= len(KnownFeatures) || KnownFeatures[i] != f {
			return fmt.Errorf("--ftp.features: unknown feature %q (known: %s)", f, strings.Join(KnownFeatures, ", "))
		}
	}
	return nil
}

// redactURL is s with the password of its user information masked, for
// error messages: s need not parse.
func redactURL(s string) string {
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		return s
	}
	at := strings.LastIndex(rest, "@")
	if at < 0 {
		return s
	}
	user, _, hasPass := strings.Cut(rest[:at], ":")
	if !hasPass {
		return s
	}
	return scheme + "://" + user + ":****" + rest[at:]
}
