package faulty

import (
	"regexp"
	"strings"

	"github.com/ftpharness/ftpharness/ftp"
)

// hostFault is the set of HOST (RFC 7151) rules a fault breaks.
type hostFault uint8

const (
	hostOK200      hostFault = 1 << iota // the server's 220 to HOST is passed on as 200
	hostAfterLogin                       // HOST after login is answered 220 by the proxy
	hostPortOK                           // HOST naming a port is answered 220 by the proxy
	hostUnknownOK                        // the server's 504 to HOST is passed on as 220
	hostRepeat503                        // a second HOST before login is answered 503 by the proxy
)

// HOST faults: one RFC 7151 rule each, made by rewriting or answering the
// HOST command (what each must kill is in fixtures/mutations.yaml).
func init() {
	register(Fault{Name: "host-ok-200",
		Doc: "an accepted HOST is answered 200 instead of the server's 220 (RFC 7151 §3.1 host-ok is 220)",
		b:   behaviour{host: hostOK200}})
	register(Fault{Name: "host-after-login-accepted",
		Doc: "HOST after login is answered 220 by the proxy instead of 503",
		b:   behaviour{host: hostAfterLogin}})
	register(Fault{Name: "host-port-accepted",
		Doc: "HOST naming a port (HOST 192.0.2.1:21) is answered 220 by the proxy instead of 501",
		b:   behaviour{host: hostPortOK}})
	register(Fault{Name: "host-unknown-accepted",
		Doc: "HOST naming a host the server refused with 504 (unknown name, another address) is passed on as 220",
		b:   behaviour{host: hostUnknownOK}})
	register(Fault{Name: "host-repeat-refused",
		Doc: "a second HOST before login is answered 503 by the proxy instead of being treated as the only one",
		b:   behaviour{host: hostRepeat503}})
}

// hostWithPort matches a HOST argument that carries a port: host:port or
// [v6]:port (a bare IPv6 literal has no brackets and more than one colon).
var hostWithPort = regexp.MustCompile(`^(\[[^\]]*\]|[^:\[\]]+):\d+$`)

// hostLocal is the proxy's own reply to HOST arg (nil: forward it); seen is
// how many HOST commands came before it in the session before login.
func hostLocal(f hostFault, arg string, loggedIn bool, seen int) []byte {
	switch {
	case f&hostAfterLogin != 0 && loggedIn:
		return []byte("220 Host accepted.\r\n")
	case f&hostPortOK != 0 && hostWithPort.MatchString(strings.TrimSpace(arg)):
		return []byte("220 Host accepted.\r\n")
	case f&hostRepeat503 != 0 && !loggedIn && seen > 0:
		return []byte("503 HOST already given.\r\n")
	}
	return nil
}

// hostReply rewrites the server's reply to HOST (nil: unchanged).
func hostReply(f hostFault, r ftp.Reply) []byte {
	switch {
	case f&hostOK200 != 0 && r.Code == 220:
		return recode(r, 200)
	case f&hostUnknownOK != 0 && r.Code == 504:
		return recode(r, 220)
	}
	return nil
}

// hostCommand answers or counts one HOST command of the session (nil:
// forward it to the server).
func (s *session) hostCommand(arg string) []byte {
	s.mu.Lock()
	loggedIn, seen := s.loggedIn, s.hosts
	if !loggedIn {
		s.hosts++
	}
	s.mu.Unlock()
	return hostLocal(s.p.b.host, arg, loggedIn, seen)
}
