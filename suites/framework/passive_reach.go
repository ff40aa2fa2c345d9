package framework

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"

	"github.com/ftpharness/ftpharness/ftp"
)

// Helpers that tell whether the ports a server advertises can be reached,
// the way a client behind the operator's NAT/port publishing reaches them.

// DialFailure renders why a data connection failed in a few words.
func DialFailure(err error) string {
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case IsTimeout(err):
		return "no answer: timed out"
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return "no route"
	case err == nil:
		return "no error"
	}
	return err.Error()
}

// Unreachable reports whether a data connection error means nothing
// accepted the connection (refused, timed out, no route) rather than a
// failure of the harness itself.
func Unreachable(err error) bool {
	return err != nil && (errors.Is(err, syscall.ECONNREFUSED) || IsTimeout(err) ||
		errors.Is(err, syscall.EHOSTUNREACH) || errors.Is(err, syscall.ENETUNREACH))
}

// passiveCode is "227" or "229" for the last passive reply of s.
func (s *Session) passiveCode() string {
	if s.lastPassive.Code == 229 {
		return "229"
	}
	return "227"
}

// portAdvice is PortAdvice for a failed data connection of s to target,
// with the passive reply it came from.
func (s *Session) portAdvice(ctx context.Context, target string, err error) string {
	msg := PortAdvice(ServerSoftware(ctx, s), target, s.passiveCode(), err)
	if len(s.lastPassive.Raw) > 0 {
		msg += fmt.Sprintf(" (reply %q)", s.lastPassive.Raw)
	}
	return msg
}

// UnreachableAdvice is the message for a data connection of s to target
// (host:port) that failed with err: the NAT/publishing advice when nothing
// accepted it, else the error.
func (s *Session) UnreachableAdvice(ctx context.Context, target string, err error) string {
	if Unreachable(err) {
		return s.portAdvice(ctx, target, err)
	}
	return fmt.Sprintf("data connection to %s: %v", target, err)
}

// ProbeDialTimeout bounds each connection attempt of ProbePassivePorts.
var ProbeDialTimeout = 3 * time.Second

// PortProbe is what ProbePassivePorts found.
type PortProbe struct {
	Tried    int
	Accepted []int
	Refused  []int  // ports nothing accepted a connection on
	FirstErr error  // the first dial error
	FirstRaw string // the 227 that advertised the first refused port
	Target   string // the first refused host:port dialled
	Stopped  string // why probing ended early ("" if it did not)
}

// ProbePassivePorts sends up to n PASVs on s and connects to every
// advertised port at the control connection's host (each attempt bounded by
// ProbeDialTimeout, a refusal retried three times within a second), closing each connection at
// once. It stops at a reply that is not a parseable 227 (a server out of
// ports is another check's business) or after three timeouts.
func ProbePassivePorts(ctx context.Context, s *Session, n int) PortProbe {
	var p PortProbe
	timeouts := 0
	for i := 0; i < n; i++ {
		pr := TryPassive(ctx, s, false)
		if !pr.OK() {
			p.Stopped = fmt.Sprintf("PASV #%d: %s", i+1, pr)
			break
		}
		p.Tried++
		target := s.DataTarget(pr.EP, ftp.ControlHost)
		err := dialOnce(ctx, target)
		// a refusal is retried after 0.1, 0.3 and 0.6 s: a port that is
		// really unpublished refuses every time, while a listener being
		// replaced (a server or proxy rebinding a reused port) comes back
		for _, wait := range []time.Duration{100, 300, 600} {
			if !errors.Is(err, syscall.ECONNREFUSED) {
				break
			}
			time.Sleep(wait * time.Millisecond)
			err = dialOnce(ctx, target)
		}
		if err == nil {
			p.Accepted = append(p.Accepted, pr.EP.Port)
			continue
		}
		p.Refused = append(p.Refused, pr.EP.Port)
		if p.FirstErr == nil {
			p.FirstErr, p.FirstRaw, p.Target = err, string(pr.Reply.Raw), target
		}
		if IsTimeout(err) {
			if timeouts++; timeouts >= 3 {
				p.Stopped = "three connection attempts timed out"
				break
			}
		}
	}
	return p
}

func dialOnce(ctx context.Context, target string) error {
	octx, cancel := context.WithTimeout(ctx, min(ProbeDialTimeout, Config().Timeout))
	defer cancel()
	nc, err := ftp.DialTCP(octx, target, nil)
	if err == nil {
		nc.Close()
	}
	return err
}

// ProbeSize is how many PASVs a reachability probe takes: the declared
// range's size up to 16, or 8 when no range is declared.
func ProbeSize() int {
	if r, ok := Config().PasvPorts(); ok {
		return min(r.Size(), 16)
	}
	return 8
}

// Summary renders the probe for a failure message ("" when every port
// accepted).
func (p PortProbe) Summary(ctx context.Context, s *Session) string {
	if len(p.Refused) == 0 {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s; %d of %d ports advertised accepted no connection (%s)", PortAdvice(ServerSoftware(ctx, s), p.Target, "227", p.FirstErr), len(p.Refused), p.Tried, ShortPortList(UniqPorts(p.Refused), 8))
	if len(p.Accepted) > 0 {
		fmt.Fprintf(&b, " while %s did: the passive range is only partly published/forwarded", ShortPortList(UniqPorts(p.Accepted), 8))
	}
	fmt.Fprintf(&b, " (reply %q)", p.FirstRaw)
	if p.Stopped != "" {
		fmt.Fprintf(&b, "; probing stopped: %s", p.Stopped)
	}
	return b.String()
}

// PassiveConn sends PASV on s and connects to the advertised port at the
// control host. When nothing accepts the connection the spec fails with
// the advice and a probe of further advertised ports (which of them are
// published), instead of the bare dial error.
func (s *Session) PassiveConn(ctx context.Context) net.Conn {
	GinkgoHelper()
	ep := s.Pasv(ctx, false)
	raw := s.lastPassive.Raw
	octx, cancel := Ctx(ctx)
	defer cancel()
	target := s.DataTarget(ep, ftp.ControlHost)
	nc, err := s.DialData(octx, ep, ftp.DataOptions{})
	if err == nil {
		DeferCleanup(func() { nc.Close() })
		return nc
	}
	if !Unreachable(err) {
		Problem(fmt.Sprintf("data connection to %s: %v (reply %q)", target, err, raw))
	}
	msg := PortAdvice(ServerSoftware(ctx, s), target, "227", err)
	p := ProbePassivePorts(ctx, s, ProbeSize())
	switch {
	case len(p.Refused) > 0 && len(p.Accepted) > 0:
		// the conclusion first: verdict reasons are cut at 600 characters
		msg += fmt.Sprintf("; the passive range is only partly published/forwarded: of %d more PASVs, ports %s accepted no connection while %s did",
			p.Tried, ShortPortList(UniqPorts(p.Refused), 8), ShortPortList(UniqPorts(p.Accepted), 8))
	case len(p.Refused) > 0:
		msg += fmt.Sprintf("; no port of %d more PASVs accepted a connection (%s)", p.Tried, ShortPortList(UniqPorts(p.Refused), 8))
	case p.Tried > 0:
		msg += fmt.Sprintf("; the ports of %d more PASVs did accept (%s)", p.Tried, ShortPortList(UniqPorts(p.Accepted), 8))
	}
	if ep.IP != nil && !ep.IP.Equal(s.RemoteIP()) {
		msg += fmt.Sprintf("; the 227 also carries %s, not the dialled %s (PASV-003/MASQ-001 say how to fix that)", ep.IP, s.RemoteIP())
	}
	// PASV-004 judges this; any other check using it is blocked by it
	Blocked("PASV-004", msg+fmt.Sprintf(" (reply %q)", raw))
	return nil
}
