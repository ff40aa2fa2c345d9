package framework

// NAT and container advice: when a passive reply cannot work because the
// server sits behind NAT or in a container (it advertises its own address,
// or ports that are not published one-to-one), the verdict says so in the
// operator's terms and names the server setting that fixes it. The server
// software is recognised from its greeting, SYST and FEAT replies. On an
// FTPS target the advice adds that no NAT/firewall helper can see inside
// TLS, and the firewall rule that opens the passive range.

import (
	"context"
	"fmt"
	"net"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/ftpharness/ftpharness/ftp"
)

// Software is an FTP server implementation the advice knows the settings of.
type Software string

// Servers the advice knows; UnknownSoftware lists the settings of them all.
const (
	UnknownSoftware Software = ""
	Vsftpd          Software = "vsftpd"
	ProFTPD         Software = "proftpd"
	PureFTPd        Software = "pure-ftpd"
	Pyftpdlib       Software = "pyftpdlib"
	Ftpserverlib    Software = "ftpserverlib"
	Goftp           Software = "goftp"
	Twisted         Software = "twisted"
	Inetutils       Software = "inetutils"
)

// Greeting patterns (checked first: servers name themselves there unless the
// operator replaced the banner), then FEAT fingerprints of the default
// replies (wording and feature lists only that server uses).
var (
	greetingPatterns = []struct {
		sw Software
		re *regexp.Regexp
	}{
		{Vsftpd, regexp.MustCompile(`(?i)\bvsftpd\b`)},
		{ProFTPD, regexp.MustCompile(`(?i)\bproftpd\b`)},
		{PureFTPd, regexp.MustCompile(`(?i)\bpure-?ftpd\b`)},
		{Pyftpdlib, regexp.MustCompile(`(?i)\bpyftpdlib\b`)},
		{Twisted, regexp.MustCompile(`(?i)\btwisted\b`)},
		{Inetutils, regexp.MustCompile(`(?i)\binetutils\b`)},
		{Ftpserverlib, regexp.MustCompile(`(?i)\bftpserverlib\b`)},
		{Goftp, regexp.MustCompile(`(?i)\bgoftp\b|Go FTP Server`)},
	}
	featPatterns = []struct {
		sw Software
		re *regexp.Regexp
	}{
		{Ftpserverlib, regexp.MustCompile(`^211- These are my features`)},
		{Goftp, regexp.MustCompile(`^211-Extensions supported:\n`)}, // bare LF
		{PureFTPd, regexp.MustCompile(`(?m)^ (ESTA|PRET)\r?$`)},
		{Pyftpdlib, regexp.MustCompile(`211 End FEAT\.`)},
		{ProFTPD, regexp.MustCompile(`(?m)^ (RANG STREAM|MFF modify;UNIX\.group;UNIX\.mode;)\r?$`)},
		{Twisted, regexp.MustCompile(`(?m)^ TYPE A;I\r?$`)},
		{Inetutils, regexp.MustCompile(`^211- Supported extensions:`)},
		{Vsftpd, regexp.MustCompile(`^211-Features:\r\n EPRT\r\n EPSV\r\n MDTM\r\n PASV\r\n`)},
	}
)

// IdentifySoftware recognises the server from the raw greeting, SYST and
// FEAT replies (any may be empty); UnknownSoftware when nothing matches.
func IdentifySoftware(greeting, syst, feat string) Software {
	for _, p := range greetingPatterns {
		if p.re.MatchString(greeting) {
			return p.sw
		}
	}
	for _, p := range featPatterns {
		if p.re.MatchString(feat) {
			return p.sw
		}
	}
	// SYST is "215 UNIX Type: L8" almost everywhere; a product name there
	// is as good as one in the greeting.
	for _, p := range greetingPatterns {
		if p.re.MatchString(syst) {
			return p.sw
		}
	}
	return UnknownSoftware
}

// natSetting is how one server is told its public address and its passive
// range. %s is the address; %d %d the range. Empty: no such setting.
type natSetting struct {
	sw      Software
	address string
	ports   string
	none    string // what to do when a setting does not exist
	// short forms, for the list given when the server is not recognised
	shortAddress, shortPorts string
}

var natSettings = []natSetting{
	{sw: Vsftpd, address: "vsftpd: pasv_address=%s", ports: "vsftpd: pasv_min_port=%d, pasv_max_port=%d",
		shortAddress: "vsftpd pasv_address", shortPorts: "vsftpd pasv_min_port/pasv_max_port"},
	{sw: ProFTPD, address: "proftpd: MasqueradeAddress %s", ports: "proftpd: PassivePorts %d %d",
		shortAddress: "proftpd MasqueradeAddress", shortPorts: "proftpd PassivePorts"},
	{sw: PureFTPd, address: "pure-ftpd: -P %s (ForcePassiveIP)", ports: "pure-ftpd: -p %d:%d (PassivePortRange)",
		shortAddress: "pure-ftpd -P (ForcePassiveIP)", shortPorts: "pure-ftpd -p lo:hi (PassivePortRange)"},
	{sw: Pyftpdlib, address: "pyftpdlib: handler.masquerade_address = %q", ports: "pyftpdlib: handler.passive_ports = range(%d, %d+1)",
		shortAddress: "pyftpdlib masquerade_address", shortPorts: "pyftpdlib passive_ports"},
	{sw: Ftpserverlib, address: "ftpserverlib: Settings.PublicHost = %q", ports: "ftpserverlib: Settings.PassiveTransferPortRange = {Start: %d, End: %d}",
		shortAddress: "ftpserverlib PublicHost", shortPorts: "ftpserverlib PassiveTransferPortRange"},
	{sw: Goftp, address: "goftp: Options.PublicIP = %q", ports: "goftp: Options.PassivePorts = \"%d-%d\"",
		shortAddress: "goftp PublicIP", shortPorts: "goftp PassivePorts"},
	{sw: Twisted, ports: "twisted: FTPFactory.passivePortRange = range(%d, %d+1)",
		none: "twisted has no setting for the address it advertises (always its end of the control connection): run it with host networking (docker run --network host)"},
	{sw: Inetutils,
		none: "inetutils ftpd has no setting for the advertised address or the passive range: run it with host networking (docker run --network host)"},
}

func settingOf(sw Software) (natSetting, bool) {
	for _, s := range natSettings {
		if s.sw == sw {
			return s, true
		}
	}
	return natSetting{}, false
}

// AddressSetting names the setting that makes sw advertise ip; for an
// unknown server, the setting of every server that has one.
func AddressSetting(sw Software, ip string) string {
	if s, ok := settingOf(sw); ok {
		if s.address == "" {
			return s.none
		}
		return fmt.Sprintf(s.address, ip)
	}
	var all []string
	for _, s := range natSettings {
		if s.shortAddress != "" {
			all = append(all, s.shortAddress)
		}
	}
	return "server not recognised: " + strings.Join(all, ", ")
}

// RangeSetting names the setting that gives sw the passive range lo-hi;
// for an unknown server, the setting of every server that has one.
func RangeSetting(sw Software, lo, hi int) string {
	if s, ok := settingOf(sw); ok {
		if s.ports == "" {
			return s.none
		}
		return fmt.Sprintf(s.ports, lo, hi)
	}
	var all []string
	for _, s := range natSettings {
		if s.shortPorts != "" {
			all = append(all, s.shortPorts)
		}
	}
	return "server not recognised: " + strings.Join(all, ", ")
}

// AddressAdvice explains a 227 whose address (adv) is not the one the
// client dialled (dialed), and how to make the server advertise want (the
// dialled address, or the declared --ftp.pasv-address). verb is the reply
// code ("227").
func AddressAdvice(sw Software, adv, dialed, want net.IP) string {
	fix := fmt.Sprintf("set the address it advertises to %s — %s", want, AddressSetting(sw, want.String()))
	if !want.Equal(dialed) {
		fix = fmt.Sprintf("set the address it advertises to %s (the declared --ftp.pasv-address) — %s", want, AddressSetting(sw, want.String()))
	}
	if adv.IsUnspecified() {
		return fmt.Sprintf("server advertised %s in 227 (its wildcard listening address, which no client can connect to) but the control connection goes to %s: %s%s", adv, dialed, fix, tlsNote())
	}
	return fmt.Sprintf("server advertised %s in 227 but the control connection goes to %s: the server is behind NAT or in a container and advertises its own address; %s%s", adv, dialed, fix, tlsNote())
}

// tlsNote is, on an FTPS target, why no middlebox can repair a passive
// reply ("" in plaintext): NAT helpers and FTP ALGs parse the cleartext
// 227/229 to rewrite its address or open its port, and under TLS they see
// only ciphertext.
func tlsNote() string {
	if !Config().FTPS() {
		return ""
	}
	return "; under TLS no NAT or firewall helper (nf_conntrack_ftp, router FTP ALGs) can read the encrypted 227/229 (RFC 4217), so only the server setting fixes it"
}

// firewallNote is, on an FTPS target, the rule that opens the passive
// range lo-hi in a stateful firewall in front of the server ("" in
// plaintext, where nf_conntrack_ftp can open each advertised port as a
// RELATED connection).
func firewallNote(lo, hi int) string {
	if !Config().FTPS() {
		return ""
	}
	return fmt.Sprintf("; open the range in the firewall too: nft add rule inet filter input tcp dport %d-%d accept (iptables -A INPUT -p tcp --dport %d:%d -j ACCEPT)", lo, hi, lo, hi)
}

// rangeExample is the declared passive range, or an example one.
func rangeExample() (lo, hi int, declared bool) {
	if r, ok := Config().PasvPorts(); ok {
		return r.Lo, r.Hi, true
	}
	return 30000, 30009, false
}

// PortAdvice explains a data connection to the advertised port that
// nothing accepted: target is the address dialled (host:port), reply the
// passive reply code ("227"/"229"), err the dial error.
func PortAdvice(sw Software, target string, reply string, err error) string {
	host, ps, _ := net.SplitHostPort(target)
	var port int
	fmt.Sscan(ps, &port)
	lo, hi, declared := rangeExample()
	head := fmt.Sprintf("nothing accepted a connection at %s, the port the %s advertised (%s)", net.JoinHostPort(host, ps), reply, DialFailure(err))
	if declared && (port < lo || port > hi) {
		return fmt.Sprintf("%s; port %d is outside the declared range %d-%d: %s (e.g. docker run -p %d-%d:%d-%d, the same range set in the server: %s) or the server must be told the external ports%s%s",
			head, port, lo, hi, shiftedPorts, lo, hi, lo, hi, RangeSetting(sw, lo, hi), tlsNote(), firewallNote(lo, hi))
	}
	return fmt.Sprintf("%s; if the server runs in a container or behind NAT/a firewall, port %d is not published/forwarded: publish the whole passive range one-to-one (e.g. docker run -p %d-%d:%d-%d) and set the same range in the server (%s)%s%s",
		head, port, lo, hi, lo, hi, RangeSetting(sw, lo, hi), tlsNote(), firewallNote(lo, hi))
}

const shiftedPorts = "the server advertises its own (container-side) ports, so the mapping must be one-to-one"

// RangeAdvice explains advertised ports outside the declared range lo-hi.
func RangeAdvice(sw Software, lo, hi int, outside []int) string {
	return fmt.Sprintf("ports %s are outside the declared range %d-%d: if the server runs in a container or behind NAT that maps ports, %s (docker run -p %d-%d:%d-%d, the same range set in the server: %s) or the server must be told the external ports%s%s",
		ShortPortList(outside, 8), lo, hi, shiftedPorts, lo, hi, lo, hi, RangeSetting(sw, lo, hi), tlsNote(), firewallNote(lo, hi))
}

var (
	swMu     sync.Mutex
	swDone   bool
	swCached Software
)

// ServerSoftware identifies the server under test: from s's greeting when
// that names it, else from a probe (greeting, SYST, FEAT on a fresh
// session), done once per process and only when advice is needed.
func ServerSoftware(ctx context.Context, s *Session) Software {
	if s != nil {
		if sw := IdentifySoftware(string(s.Greeting().Raw), "", ""); sw != UnknownSoftware {
			return sw
		}
	}
	swMu.Lock()
	defer swMu.Unlock()
	if swDone {
		return swCached
	}
	swDone = true
	c := Config()
	d := min(c.Timeout, 3*time.Second)
	octx, cancel := context.WithTimeout(ctx, 2*d)
	defer cancel()
	conn, err := dialTarget(octx, ftp.WithTimeout(d))
	if err != nil {
		return UnknownSoftware
	}
	defer conn.Close()
	greeting := string(conn.Greeting().Raw)
	var syst, feat string
	if err := conn.Login(octx, c.User, c.Password); err == nil {
		if r, err := conn.Cmd(octx, "SYST"); err == nil {
			syst = string(r.Raw)
		}
		if r, err := conn.Cmd(octx, "FEAT"); err == nil {
			feat = string(r.Raw)
		}
	}
	swCached = IdentifySoftware(greeting, syst, feat)
	return swCached
}
