package framework

// Dual stack (RFC 2428). RFC 2428 §1: "The File Transfer Protocol only
// provides the ability to communicate information about IPv4 data
// connections": PASV's 227 and PORT's argument carry an IPv4 address, so
// over an IPv6 control connection a data connection is set up with EPSV
// and EPRT. A check that only needs *a* data connection uses them there;
// a check about PASV or PORT themselves runs over IPv4 and is skipped over
// IPv6, where PASV-016 records PASV and PORT and PASV-019 judges PASV.

import (
	"fmt"
	"net"

	. "github.com/onsi/ginkgo/v2"

	"github.com/ftpharness/ftpharness/ftp"
)

// IPv6 reports whether this session's control connection runs over IPv6.
func (s *Session) IPv6() bool { return s.RemoteIP().To4() == nil }

// OverIPv6 reports whether the server under test is dialled at an IPv6
// address (--ftp.addr=[::1]:port).
func OverIPv6() bool {
	ip := net.ParseIP(Config().Host())
	return ip != nil && ip.To4() == nil
}

// passiveEPSV is the passive command a data connection of s uses: EPSV
// when asked for, and always over IPv6 (a 227 has no room for an IPv6
// address).
func (s *Session) passiveEPSV(epsv bool) bool { return epsv || s.IPv6() }

// skipWithoutEPSVOverIPv6 skips the check when, over IPv6, the server
// answered EPSV as unimplemented (skipWithoutEPSV).
func skipWithoutEPSVOverIPv6(s *Session, r ftp.Reply) {
	if s.IPv6() {
		skipWithoutEPSV(r)
	}
}

// skipWithoutEPSV skips the check, run over IPv6, when r says EPSV is not
// implemented: no passive data connection is possible there (PASV-019
// judges the server's PASV, EPSV-001 records the missing EPSV), and
// nothing the check is about was tested.
func skipWithoutEPSV(r ftp.Reply) {
	if r.Is(500, 502) && !Recovers(r) {
		Skip(fmt.Sprintf("needs a passive data connection, and over IPv6 that takes EPSV (a 227 carries IPv4 only, RFC 2428 §1), which the server does not implement: EPSV answered %q", r.Raw))
	}
}

// RequireIPv4 skips a check about PASV or PORT themselves (their IPv4
// address fields, 227 formatting, masquerading) over an IPv6 control
// connection: RFC 2428 §1 leaves those commands no IPv6 meaning; PASV-016
// records what the server does with them there, PASV-019 judges PASV. what
// names the commands the check is about.
func RequireIPv4(what string) {
	if OverIPv6() {
		Skip(fmt.Sprintf("about %s, IPv4 address fields only (RFC 2428 §1): judged over IPv4; over IPv6 PASV-016 records PASV and PORT, PASV-019 judges PASV", what))
	}
}

// RequireSecondAddress skips a check that needs addr, a second local
// address (--ftp.foreign-source, --ftp.third-party), when addr is not of
// the control connection's family: over IPv6 the default 127.0.0.2 and
// 127.77.88.99 cannot play a peer, and IPv6 loopback is ::1 alone; a ULA
// on lo of a private network namespace can (target.PrivateLoopbackULA,
// scripts/ipv6-netns). what names the address's role.
func RequireSecondAddress(what, addr string) {
	ip := net.ParseIP(addr)
	if ip != nil && (ip.To4() == nil) != OverIPv6() {
		Skip(fmt.Sprintf("needs %s of the control connection's family, and %s is not: over IPv6 the only loopback address is ::1; give a ULA on lo of a private network namespace (scripts/ipv6-netns), or run over IPv4", what, addr))
	}
}

// ActiveCmd is the active-mode command naming c: PORT over IPv4, EPRT
// |2|addr|port| over IPv6 (RFC 2428 §2), for checks that only need the
// server to connect to the harness.
func (s *Session) ActiveCmd(c *Catcher) (verb, arg string) {
	if s.IPv6() || c.IP().To4() == nil {
		return "EPRT", c.EprtArg()
	}
	return "PORT", c.PortArg()
}
