package suites

import (
	"context"
	"fmt"
	"net"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/ftpharness/ftpharness/ftp"
	. "github.com/ftpharness/ftpharness/suites/framework"
	. "github.com/ftpharness/ftpharness/suites/matchers"
)

// The HOST checks (RFC 7151). The name sent is the host the harness was
// given (--ftp.addr): RFC 7151 §3.1 wants "the same hostname that was used
// to obtain the IP address" or the literal address the user was given. The
// harness resolves no name itself; unknown names end in .invalid (RFC 6761),
// which never resolves.
var _ = Describe("HOST", Label("host"), func() {

	// RFC 7151 §3.1: "host-ok = "220" [ SP *TCHAR ] CRLF"; §3.2: "The 220
	// reply code for the HOST command is the same as the code that is used
	// in the initial "welcome" message", a name the server will not serve
	// SHOULD get 504 and a temporarily unavailable one 421; §3.3: "The
	// server-PI SHOULD return a 500 or 502 reply if the HOST command is
	// unrecognized or unimplemented".
	Check("HOST-001", func(ctx SpecContext) {
		p := probeHost(ctx)
		p.skipUnimplemented()
		r := p.before
		if r.Is(504, 421) {
			Skip(fmt.Sprintf("HOST %s answered %s: the server will not serve the name the harness was given (RFC 7151 §3.2 allows 504/421 for that; behind NAT or port publishing the dialled address is not the server's own); give the server's virtual host name in --ftp.addr to test the 220", hostName(), r))
		}
		Expect(r).To(HaveCode(220), "sent `HOST %s` (the host the harness dialled) before USER%s; RFC 7151 §3.1/§3.2: a HOST the server accepts is answered 220 (host-ok), one it will not serve 504, and a server without HOST answers 500 or 502 (§3.3); fix: answer an accepted HOST with 220", hostName(), p.afterNote())
	})

	// RFC 7151 §3: "Server-FTP processes MUST treat a situation in which the
	// HOST command is issued after the user has been authenticated as an
	// erroneous sequence of commands and return a 503 reply"; §3.3 repeats
	// it ("the server MUST treat the situation as an invalid sequence of
	// commands and return a 503 reply").
	Check("HOST-002", func(ctx SpecContext) {
		requireHost(ctx)
		s := seqLogin(ctx)
		r := s.Do(ctx, "HOST", hostName())
		Expect(r).To(HaveCode(503), "sent `HOST %s` after logging in; RFC 7151 §3 and §3.3: HOST after authentication MUST be answered 503 (bad sequence); fix: refuse HOST once the user is logged in", hostName())
	})

	// RFC 7151 §3.1: "The client MUST NOT send the port number as part of
	// the HOST command ... the server-PI MUST respond with a 501 reply if
	// the client sends a HOST command with syntax like either of the
	// following examples: HOST 192.0.2.1:2112, HOST [2001:db8::c000:201]:2112".
	Check("HOST-003", func(ctx SpecContext) {
		requireHost(ctx)
		_, port, _ := net.SplitHostPort(Config().Addr)
		var bad []string
		for _, arg := range []string{hostName() + ":" + port, "192.0.2.1:21", "[::1]:21"} {
			o := DialBeforeAuth(ctx).SendWithin(ctx, Config().Timeout, "HOST "+arg)
			if o.Err != nil || o.Reply.Code != 501 {
				bad = append(bad, fmt.Sprintf("HOST %s: %s", arg, o))
			}
		}
		ExpectNoViolations(bad, "HOST naming a port must be answered 501 (RFC 7151 §3.1: the server-PI MUST respond with a 501 reply); fix: refuse a hostname followed by :port")
	})

	// RFC 7151 §3.1: "if the IPv4 or IPv6 literal address specified by the
	// client does not match the literal address for the server, the server
	// MUST respond with a 504 reply"; §3.2: "If the hostname specified is
	// unknown at the server ... the server SHOULD respond with a 504 reply"
	// (or, its example says, route unknown names to a default virtual
	// host); §3.3: after such an error reply "the server-FTP process MUST do
	// one of the following: a. Ignore the HOST command and act as if a HOST
	// command had not been sent ... b. Close the connection."
	Check("HOST-004", func(ctx SpecContext) {
		requireHost(ctx)
		var bad []string
		if r, after := hostThenLogin(ctx, foreignLiteral()); r.Err != nil || r.Reply.Code != 504 {
			bad = append(bad, fmt.Sprintf("HOST %s (not the server's address) answered %s; RFC 7151 §3.1: a literal that is not the server's MUST get 504", foreignLiteral(), r))
		} else if after != "" {
			bad = append(bad, after)
		}
		const unknown = "unknown-host.invalid"
		r, after := hostThenLogin(ctx, unknown)
		switch {
		case r.Err == nil && r.Reply.Code == 220:
			Warn("HOST-004 (RFC 7151 §3.2 SHOULD, with its example of routing unknown names to a default virtual host): HOST %s (a name that cannot exist) was accepted with %s instead of 504", unknown, r)
		case r.Err != nil || r.Reply.Code != 504:
			bad = append(bad, fmt.Sprintf("HOST %s (a name that cannot exist) answered %s; RFC 7151 §3.2: an unknown host SHOULD get 504", unknown, r))
		case after != "":
			bad = append(bad, after)
		}
		ExpectNoViolations(bad, "HOST naming a host the server does not serve; fix: answer 504, then ignore that HOST (or close the connection)")
	})

	// RFC 7151 §3: "Server-FTP processes MUST treat a situation in which the
	// HOST command is issued more than once before the user has been
	// authenticated as though only the last HOST command had been sent, and
	// return the appropriate reply for the last HOST command"; §3.2.1: "The
	// effect of a HOST command MUST be reset if a REIN command is
	// performed, and a new HOST command MUST be issued afterwards"; §3.3: "A
	// server-PI that receives a USER command ... without having received a
	// HOST command SHOULD NOT reject the USER command".
	Check("HOST-005", func(ctx SpecContext) {
		requireHost(ctx)
		seqLogin(ctx) // USER without HOST: refused, it is SEQ-002's (every check logs in so)
		s := DialBeforeAuth(ctx)
		first := s.Do(ctx, "HOST", hostName())
		again := s.Do(ctx, "HOST", hostName())
		Expect(again.Code).To(Equal(first.Code), "sent `HOST %s` twice before USER: the first got %q, the second %q; RFC 7151 §3: a repeated HOST is treated as though only the last had been sent and gets the reply a single one gets; fix: accept HOST again until the login", hostName(), first.Raw, again.Raw)
		loginAfterHost(ctx, s, "two HOST commands")
		r := s.Do(ctx, "REIN")
		if r.Is(500, 502) {
			Observe("REIN not implemented", r.String()+": that REIN resets HOST (RFC 7151 §3.2.1) was not tested")
			return
		}
		reinReset(ctx, s, r)
		h := s.Do(ctx, "HOST", hostName())
		Expect(h.Code).To(Equal(first.Code), "HOST %s after REIN answered %q where it answered %q after connecting; RFC 7151 §3.2.1: REIN resets HOST and a new HOST MUST be issued afterwards; fix: return to the state after connecting, HOST included", hostName(), h.Raw, first.Raw)
		loginAfterHost(ctx, s, "REIN and a new HOST")
	})
})

// hostName is the host part of --ftp.addr as HOST sends it (an IPv6
// literal in brackets, RFC 7151 §3.1).
func hostName() string {
	h, _, err := net.SplitHostPort(Config().Addr)
	if err != nil {
		h = Config().Addr
	}
	if strings.Contains(h, ":") {
		return "[" + h + "]"
	}
	return h
}

// foreignLiteral is an address from a documentation block (RFC 5737) that
// is not the server's.
func foreignLiteral() string {
	if hostName() == "192.0.2.1" {
		return "198.51.100.1"
	}
	return "192.0.2.1"
}

// hostProbe is what HOST <name> got before login and, when that was 530,
// after login (a server that refuses unknown commands before login says
// only there whether it knows HOST).
type hostProbe struct {
	before ftp.Reply
	after  *ftp.Reply
}

func probeHost(ctx context.Context) hostProbe {
	GinkgoHelper()
	s := DialBeforeAuth(ctx)
	p := hostProbe{before: s.Do(ctx, "HOST", hostName())}
	if p.before.Code == 530 {
		Expect(s.SecureControl(ctx)).To(Succeed(), "AUTH TLS after HOST (TLS-001 judges AUTH TLS)")
		s.MustLogin(ctx)
		r := s.Do(ctx, "HOST", hostName())
		p.after = &r
	}
	return p
}

// skipUnimplemented skips when the server does not implement HOST: 500 or
// 502 before login, or 530 before and 500/502 after (SEQ-007 warns about
// the 530).
func (p hostProbe) skipUnimplemented() {
	if p.before.Is(500, 502) {
		Skip(fmt.Sprintf("HOST is not implemented: HOST %s before login answered %s (RFC 7151 §3.3: 500/502 from a server without HOST)", hostName(), p.before))
	}
	if p.after != nil && p.after.Is(500, 502) {
		Skip(fmt.Sprintf("HOST is not implemented: HOST %s answered %s before login (SEQ-007 judges that) and %s after login", hostName(), p.before, *p.after))
	}
}

func (p hostProbe) afterNote() string {
	if p.after == nil {
		return ""
	}
	return fmt.Sprintf(" and got %q (after login HOST got %q, so HOST is implemented)", p.before.Raw, p.after.Raw)
}

// requireHost skips unless the server implements HOST, and blocks on
// HOST-001 when it implements it but refuses it before login.
func requireHost(ctx context.Context) {
	GinkgoHelper()
	p := probeHost(ctx)
	p.skipUnimplemented()
	if p.after != nil {
		Blocked("HOST-001", fmt.Sprintf("HOST %s before login answered %q (after login %q): HOST is not usable before login", hostName(), p.before.Raw, p.after.Raw))
	}
}

// hostThenLogin sends HOST arg on a new session and, when the connection
// stays open, logs in: RFC 7151 §3.3 wants a refused HOST ignored (the
// login then works as without HOST) or the connection closed. after
// describes a violation of that ("" when none).
func hostThenLogin(ctx context.Context, arg string) (r ReadOutcome, after string) {
	GinkgoHelper()
	s := DialBeforeAuth(ctx)
	r = s.SendWithin(ctx, Config().Timeout, "HOST "+arg)
	if r.Err != nil || r.Reply.Code == 220 {
		return r, ""
	}
	octx, cancel := Ctx(ctx)
	defer cancel()
	err := s.SecureControl(ctx)
	if err == nil {
		err = s.Login(octx, Config().User, Config().Password)
	}
	if err == nil || ClosedByServer(err) {
		return r, ""
	}
	return r, fmt.Sprintf("after HOST %s answered %s the server neither ignored it nor closed the connection: the login failed (%v); RFC 7151 §3.3 MUST", arg, r.Reply, err)
}

// loginAfterHost logs s in; a refusal is this check's (the same login
// works without HOST: HOST-005 logged in that way first).
func loginAfterHost(ctx context.Context, s *Session, after string) {
	GinkgoHelper()
	octx, cancel := Ctx(ctx)
	defer cancel()
	err := s.SecureControl(ctx)
	if err == nil {
		err = s.Login(octx, Config().User, Config().Password)
	}
	Expect(err).NotTo(HaveOccurred(), "login after %s (the same login works without HOST); RFC 7151 §3: the last HOST counts, and a refused one is ignored (§3.3)", after)
}

// reinReset judges REIN's reply r the way SEQ-009 does: a REIN that does
// not answer 220 or leaves the user logged in is SEQ-009's defect.
func reinReset(ctx context.Context, s *Session, r ftp.Reply) {
	GinkgoHelper()
	if r.Code == 120 {
		r = s.Next(ctx)
	}
	if r.Code != 220 {
		Blocked("SEQ-009", fmt.Sprintf("REIN answered %q, not 220", r.Raw))
	}
	if p := s.Do(ctx, "PWD"); p.Code != 530 {
		Blocked("SEQ-009", fmt.Sprintf("after REIN (220) PWD answered %q: the login was not flushed", p.Raw))
	}
}
