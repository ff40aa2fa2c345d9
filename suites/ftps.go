package suites

import (
	"context"
	"crypto/tls"
	"fmt"
	"regexp"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/ftpharness/ftpharness/ftp"
	. "github.com/ftpharness/ftpharness/suites/framework"
	. "github.com/ftpharness/ftpharness/suites/matchers"
)

// FTPS (RFC 4217: FTP over TLS, with the RFC 2228 commands AUTH, PBSZ,
// PROT and CCC). The checks run only on a target declared FTPS (ftpes://
// or ftps://): every other check of the run then also goes over TLS, so
// "the passive checks hold under TLS" is the rest of the run's verdicts.
// Checks about AUTH TLS itself need an explicit (ftpes://) target and open
// a cleartext connection of their own (DialPlain); they never send the
// password before TLS.
var _ = Describe("FTPS", Label("ftps"), func() {

	// RFC 4217 §4: "Once the client wishes to secure the session, the AUTH
	// command is sent and the server MAY then allow TLS negotiation to take
	// place"; §4.2: "'234' is the server response to an 'AUTH TLS' command
	// that it will honour". The handshake must follow the 234 at once, and
	// the session then goes on inside TLS (a command answered over it).
	Check("TLS-001", func(ctx SpecContext) {
		RequireExplicitFTPS()
		s := DialPlain(ctx)
		octx, cancel := Ctx(ctx)
		defer cancel()
		r, err := s.AuthTLS(octx)
		if r.Code != 234 {
			Problem(fmt.Sprintf("sent AUTH TLS on a target declared ftpes://: got %q, not 234 (RFC 4217 §4.2: \"'234' is the server response to an 'AUTH TLS' command that it will honour\"). Fix: enable explicit TLS (AUTH TLS) on the control port", r.Raw))
		}
		Expect(err).NotTo(HaveOccurred(), "AUTH TLS answered %q, then the TLS handshake on the control connection failed; RFC 4217 §4 wants TLS negotiation right after 234. Fix: start the TLS server handshake as soon as the 234 is sent", r.Raw)
		cs, _ := s.TLSState()
		Observe("control connection after AUTH TLS", fmt.Sprintf("%s, %s", tls.VersionName(cs.Version), tls.CipherSuiteName(cs.CipherSuite)))
		Expect(s.Do(ctx, "NOOP")).To(HaveClass(2, 5), "NOOP inside TLS after AUTH TLS must be answered")
	})

	// RFC 2228 §8.2 lists AUTH's replies as "234 334 / 502, 504, 534, 431 /
	// 500, 501, 421", and RFC 2228 §3 says "Some servers will allow the AUTH
	// command to be reissued in order to establish new authentication". The
	// catalog row's 503 is not among them, and servers refuse with 503
	// (pyftpdlib, ProFTPD), 534 or, before login, 530 (vsftpd): a second
	// AUTH TLS may be refused with any 4xx/5xx (the code is recorded) or
	// honoured (234, recorded). What the rule forbids is accepting it with
	// another reply, or a refusal that breaks the TLS session it refused to
	// replace.
	Check("TLS-002", func(ctx SpecContext) {
		RequireFTPS()
		s := Dial(ctx)
		r := s.Do(ctx, "AUTH", "TLS")
		Observe("a second AUTH TLS inside TLS", fmt.Sprintf("%q", r.Raw))
		if r.Is(234) {
			Observe("server allows AUTH to be reissued (RFC 2228 §3)", "a new TLS negotiation inside TLS is not attempted")
			return
		}
		Expect(r).To(HaveClass(4, 5), "a second AUTH TLS inside the TLS session: RFC 2228 §8.2 has AUTH honoured with 234 or refused (502, 504, 534, 431, 500, 501, 421). Fix: refuse a repeated AUTH with 534 or 503, or honour it with 234")
		if r.Code == 421 {
			return
		}
		// any reply inside TLS shows the session goes on (before login
		// vsftpd answers NOOP with 530); Do fails when none comes
		n := s.Do(ctx, "NOOP")
		Observe("NOOP after the refusal, inside TLS", fmt.Sprintf("%q", n.Raw))
	})

	// RFC 4217 §9: "the PROT command MUST be preceded by a PBSZ command, and
	// a PBSZ command MUST be preceded by a successful security data
	// exchange"; RFC 2228 (PBSZ, PROT): "If the server has not completed a
	// security data exchange with the client, it should respond with a 503
	// reply code". The MUSTs of RFC 4217 §9 order the client's commands;
	// what the server owes is RFC 2228's "should" refusal, so the check is
	// SHOULD (the catalog row said MUST). A server that accepts either out
	// of order fails; the refusal's code is recorded.
	Check("TLS-003", func(ctx SpecContext) {
		RequireFTPS()
		if Config().TLSMode() == ftp.TLSExplicit {
			By("PBSZ 0 before AUTH TLS")
			p := DialPlain(ctx)
			r := p.Do(ctx, "PBSZ", "0")
			Observe("PBSZ 0 on the cleartext connection", fmt.Sprintf("%q", r.Raw))
			Expect(r.Is(200)).To(BeFalse(), "sent PBSZ 0 before AUTH TLS: got %q; RFC 4217 §9: \"a PBSZ command MUST be preceded by a successful security data exchange\" (RFC 2228: 503). Fix: answer PBSZ with 503 until the TLS handshake completed", r.Raw)
			Expect(r).To(HaveClass(4, 5), "PBSZ 0 before AUTH TLS must be refused (503)")
			p.Quit(ctx)
		}
		By("PROT P without PBSZ inside TLS")
		s := Dial(ctx)
		ftpsLogin(ctx, s)
		r := s.Do(ctx, "PROT", "P")
		Observe("PROT P without PBSZ", fmt.Sprintf("%q", r.Raw))
		Expect(r.Is(200)).To(BeFalse(), "sent PROT P without PBSZ first: got %q; RFC 4217 §9: \"the PROT command MUST be preceded by a PBSZ command\" (RFC 2228: 503). Fix: answer PROT with 503 until PBSZ was accepted", r.Raw)
		Expect(r).To(HaveClass(4, 5), "PROT P without PBSZ must be refused (503)")
	})

	// RFC 4217 §9: "Once a PROT command has been issued by the client and
	// accepted by the server returning the '200' reply, the security of
	// subsequent data connections MUST be at that level until another PROT
	// command is issued and accepted". Under PROT P the data connection's
	// first bytes must be a TLS handshake (a cleartext listing fails here);
	// under PROT C, when the server accepts it, they must be cleartext,
	// unless the operator declares TLS required (then TLS-008 judges it).
	Check("TLS-004", func(ctx SpecContext) {
		RequireFTPS()
		s := Login(ctx) // PBSZ 0 and PROT P: a refusal fails here
		dir := Scratch(ctx)
		res, _ := s.Xfer(ctx, false, "LIST "+dir, nil)
		if res.TLS == nil {
			Problem(fmt.Sprintf("PBSZ 0 and PROT P were answered 200, but the LIST data connection was not TLS: %s. RFC 4217 §9: after PROT P \"the security of subsequent data connections MUST be at that level\". Fix: start the TLS server handshake on every data connection while PROT P is in effect", res))
		}
		Expect(res).To(Complete(), "LIST under PROT P")
		Observe("data connection under PROT P", fmt.Sprintf("%s, %s, resumed=%v", tls.VersionName(res.TLS.Version), tls.CipherSuiteName(res.TLS.CipherSuite), res.TLS.DidResume))
		r := s.Do(ctx, "PROT", "C")
		if !r.Is(200) {
			Observe("PROT C refused (a policy requiring protected data)", fmt.Sprintf("%q", r.Raw))
			Expect(r).To(HaveClass(4, 5), "PROT C: RFC 2228 §8.2 wants 200 or a refusal (534/536/504)")
			return
		}
		if Config().Has("tls-required") {
			// a declared TLS-required policy refuses cleartext transfers
			// (RFC 4217 §10.2: 521): TLS-008 judges that refusal
			Observe("PROT C", fmt.Sprintf("%q; the cleartext transfer is TLS-008's (--ftp.features=tls-required)", r.Raw))
			return
		}
		s.SetDataProtection(false)
		res, _ = s.Xfer(ctx, false, "LIST "+dir, nil)
		Expect(res.TLS).To(BeNil(), "PROT C was answered 200 but the data connection was TLS")
		Expect(res).To(Complete(), "PROT C was answered 200: LIST must then run over a cleartext data connection (RFC 4217 §9); a server still expecting TLS there waits for a ClientHello and sends nothing. Fix: honour PROT C for the next data connections")
	})

	// RFC 2228 §8.2: PROT "200; 504, 536, 503, 534, 431; 500, 501, 421,
	// 530" — "536 Requested PROT level not supported by mechanism". TLS
	// (RFC 4217 §9) offers only C and P: S and E must be refused, and X is
	// no level at all (501 for its syntax is accepted too).
	Check("TLS-005", func(ctx SpecContext) {
		RequireFTPS()
		s := Login(ctx)
		var vs []string
		for _, level := range []string{"S", "E", "X"} {
			r := s.Do(ctx, "PROT", level)
			if !r.Is(504, 536, 501) {
				vs = append(vs, fmt.Sprintf("PROT %s -> %q", level, r.Raw))
			}
		}
		ExpectNoViolations(vs, "PROT levels TLS does not offer must be refused with 536 (or 504, 501 for X); RFC 2228 §8.2. Fix: accept only PROT C and PROT P")
	})

	// RFC 4217 §6: "If a server supports the FEAT command, then it MUST
	// advertise supported AUTH, PBSZ, and PROT commands in the reply". On
	// an explicit target the FEAT a client reads before AUTH TLS is judged
	// (that is where it decides to secure the session); on an implicit one
	// the FEAT inside TLS, where AUTH may be left out.
	Check("TLS-006", func(ctx SpecContext) {
		RequireFTPS()
		explicit := Config().TLSMode() == ftp.TLSExplicit
		var s *Session
		if explicit {
			s = DialPlain(ctx)
		} else {
			s = Login(ctx)
		}
		r := s.Do(ctx, "FEAT")
		if r.Is(500, 502) {
			Skip(fmt.Sprintf("FEAT is not implemented (%q): RFC 4217 §6 applies to servers that support FEAT", r.Raw))
		}
		f := ParseFeat(r)
		want := []string{"PBSZ", "PROT"}
		if explicit {
			want = append([]string{"AUTH TLS"}, want...)
		}
		var missing []string
		for _, w := range want {
			if !f.Has(w) {
				missing = append(missing, w)
			}
		}
		Expect(missing).To(BeEmpty(), "FEAT (%s) does not list %s: %q; RFC 4217 §6: a server supporting FEAT \"MUST advertise supported AUTH, PBSZ, and PROT commands\". Fix: add \" AUTH TLS\", \" PBSZ\" and \" PROT\" lines to FEAT", map[bool]string{true: "before AUTH TLS", false: "inside implicit TLS"}[explicit], strings.Join(missing, ", "), r.Raw)
	})

	// RFC 4217 §4.2: "the user must reauthorize (that is, reissue some or
	// all of the USER, PASS, and ACCT commands) following an AUTH command".
	// "Some or all": a server may keep USER and ask for PASS again, so only
	// a login completed before AUTH tells: it must not survive AUTH (PWD
	// after AUTH TLS answers 530). That login sends the password before
	// TLS, so the check runs only against a loopback server.
	Check("TLS-007", func(ctx SpecContext) {
		RequireExplicitFTPS()
		if !ServerIsLocal() {
			Skip("the check logs in before AUTH TLS, sending the password in cleartext: it runs only against a server on loopback")
		}
		c := Config()
		s := DialPlain(ctx)
		octx, cancel := Ctx(ctx)
		defer cancel()
		if err := s.Login(octx, c.User, c.Password); err != nil {
			Skip(fmt.Sprintf("a cleartext login is refused (%v): a server requiring TLS first has no login state before AUTH to keep", err))
		}
		a, err := s.AuthTLS(octx)
		if a.Class() == 4 || a.Class() == 5 {
			Observe("AUTH TLS after a cleartext login", fmt.Sprintf("refused (%q): no login state can survive an AUTH the server does not accept", a.Raw))
			return
		}
		Expect(err).NotTo(HaveOccurred(), "AUTH TLS after a cleartext login (TLS-001 judges AUTH TLS itself)")
		pwd := s.Do(ctx, "PWD")
		if pwd.Is(257) {
			Problem(fmt.Sprintf("logged in as %s in cleartext, then AUTH TLS, then PWD (no new USER/PASS): got %q, still logged in. RFC 4217 §4.2: \"the user must reauthorize ... following an AUTH command\". Fix: reset the login state when AUTH is accepted", c.User, pwd.Raw))
		}
		Expect(pwd).To(HaveCode(530), "PWD after AUTH TLS without a new login: the session must not be logged in")
		Expect(s.Login(octx, c.User, c.Password)).To(Succeed(), "USER/PASS inside TLS after AUTH must log in")
	})

	// RFC 4217 §4.2: a server wanting a secured session refuses "to accept
	// certain FTP commands until the session is secured"; §10.2: "The reply
	// to indicate that the PROT setting is incorrect is '521 data
	// connection cannot be opened with this PROT setting'". Whether TLS is
	// required is the server's policy: judged only when the operator
	// declares it (--ftp.features=tls-required), else what the server does
	// is recorded and the check skips.
	Check("TLS-008", func(ctx SpecContext) {
		RequireFTPS()
		required := Config().Has("tls-required")
		var u ftp.Reply
		if Config().TLSMode() == ftp.TLSExplicit { // implicit: no cleartext USER possible
			p := DialPlain(ctx)
			u = p.Do(ctx, "USER", Config().User)
			Observe("USER in cleartext", fmt.Sprintf("%q", u.Raw))
			p.Quit(ctx)
		}
		s := Login(ctx)
		prot := s.Do(ctx, "PROT", "C")
		Observe("PROT C inside TLS", fmt.Sprintf("%q", prot.Raw))
		var list ftp.TransferResult
		var atPassive ftp.Reply // the passive command refused under PROT C
		if prot.Is(200) {
			s.SetDataProtection(false)
			list, atPassive = protCList(ctx, s)
		}
		if !required {
			Skip("the server's TLS policy is not declared (--ftp.features=tls-required judges it); what it did is recorded")
		}
		// Any refusal holds the rule: 534/530 leave the connection open for
		// AUTH TLS, a 421 closes it (pure-ftpd, ftpserverlib v0.32.3);
		// RFC 4217 names no code for it, so the code is not judged.
		if u.Code != 0 {
			Expect(u).To(HaveClass(4, 5), "--ftp.features=tls-required: USER in cleartext must be refused (RFC 4217 §4.2: the server refuses \"to accept certain FTP commands until the session is secured\"; 534 or 530), got %q. Fix: refuse USER before AUTH TLS", u.Raw)
		}
		// What the policy forbids is cleartext data: a transfer served under
		// PROT C fails. A refusal holds the policy; one that is not the 521
		// RFC 4217 §10.2 names (a 550 to PASV, a 421 closing the session)
		// warns, as clients cannot tell it from another error.
		switch {
		case !prot.Is(200):
		case atPassive.Code != 0:
			Warn("--ftp.features=tls-required: under PROT C the passive command was refused (%q), so no cleartext data flowed, but RFC 4217 §10.2 names '521 data connection cannot be opened with this PROT setting' for this refusal. Fix: accept PASV/EPSV and answer the transfer command 521", atPassive.Raw)
		case list.OK():
			Problem(fmt.Sprintf("--ftp.features=tls-required: PROT C was accepted and LIST was served in cleartext (%s): a TLS-required policy must refuse unprotected data (RFC 4217 §10.2: 521). Fix: refuse PROT C, or answer transfers under it 521", list))
		case !list.Final().Is(521, 522, 534):
			Warn("--ftp.features=tls-required: the LIST under PROT C was refused (%s), so no cleartext data flowed, but RFC 4217 §10.2 names 521 for this refusal. Fix: answer 521", list)
		}
	})

	// No RFC rule (OBSERVE): whether a data connection's TLS handshake may
	// resume the control connection's session is server policy (vsftpd
	// require_ssl_reuse refuses a fresh one); RFC 4217 §10.2 only says a
	// refused negotiation gets a reply. Recorded: whether the data
	// handshake resumed, and whether a fresh one is served.
	Check("TLS-009", func(ctx SpecContext) {
		RequireFTPS()
		s := Login(ctx)
		dir := Scratch(ctx)
		res, _ := s.Xfer(ctx, false, "LIST "+dir, nil)
		Observe("data TLS offering the control session", ftpsDataTLS(res))
		nc := s.DialEndpoint(ctx, s.Pasv(ctx, false), ftp.DataOptions{NoResume: true})
		octx, cancel := Ctx(ctx)
		defer cancel()
		fresh := s.Transfer(octx, nc, "LIST "+dir, nil, nil)
		Observe("data TLS with a fresh session (no resumption)", ftpsDataTLS(fresh))
	})

	// RFC 4217 §5 CCC: "if the control connection is not protected with
	// TLS, then a 533 reply should be sent". Inside TLS the server may
	// accept (200, then both sides close TLS and the session goes on in
	// cleartext) or refuse (534 policy, 502 not implemented).
	Check("TLS-010", func(ctx SpecContext) {
		RequireFTPS()
		var plain ftp.Reply // CCC on a cleartext connection (explicit targets)
		if Config().TLSMode() == ftp.TLSExplicit {
			plain = ftpsPlainCCC(ctx)
		}
		By("CCC inside TLS")
		s := Login(ctx)
		octx, cancel := Ctx(ctx)
		defer cancel()
		r, err := s.CCC(octx)
		Observe("CCC inside TLS", fmt.Sprintf("%q", r.Raw))
		implemented := !r.Is(500, 502)
		if !implemented && (plain.Code == 0 || plain.Is(500, 502, 530)) {
			Skip(fmt.Sprintf("CCC is not implemented (%q): RFC 2228 makes it optional", r.Raw))
		}
		switch {
		case r.Is(200):
			Expect(err).NotTo(HaveOccurred(), "CCC answered 200, then ending TLS on the control connection failed")
			Expect(s.Do(ctx, "NOOP")).To(HaveCode(200), "after CCC the session must go on in cleartext (RFC 4217 §5)")
		case implemented:
			Expect(r).To(HaveClass(5), "CCC inside TLS: 200 or a refusal (534)")
		}
		if plain.Code != 0 && !plain.Is(530) {
			Expect(plain).To(HaveCode(533), "CCC on a connection without TLS: RFC 4217 §5 wants 533 (the server %s CCC inside TLS: %q). Fix: answer CCC with 533 before AUTH TLS", map[bool]string{true: "implements", false: "refuses"}[implemented], r.Raw)
		}
	})

	// RFC 4217 §13: "the reply to the REIN command MUST be sent in a
	// protected session prior to the session(s) being cleared". A reply
	// that is not a TLS record fails; what the server does with TLS after
	// it is recorded.
	Check("TLS-011", func(ctx SpecContext) {
		RequireFTPS()
		s := Login(ctx)
		octx, cancel := Ctx(ctx)
		defer cancel()
		r, err := s.Cmd(octx, "REIN")
		if err == nil && r.Is(500, 502) {
			Skip(fmt.Sprintf("REIN is not implemented (%q)", r.Raw))
		}
		Expect(err).NotTo(HaveOccurred(), "REIN inside TLS: the reply must arrive inside TLS (RFC 4217 §13). Fix: send the REIN reply before clearing the TLS session")
		Expect(r).To(HaveClass(1, 2), "REIN inside TLS")
		if r.Code == 120 {
			r = s.Next(ctx)
		}
		after, aerr := s.TryNext(ctx, 2*time.Second)
		switch {
		case aerr == nil:
			Observe("after the REIN reply", fmt.Sprintf("another reply inside TLS: %q", after.Raw))
		case IsTimeout(aerr):
			Observe("after the REIN reply", "TLS kept (nothing within 2 s)")
		default:
			Observe("after the REIN reply", fmt.Sprintf("TLS ended: %v", aerr))
		}
	})

	// RFC 8996 §2 and §3: TLS 1.0 and TLS 1.1 "MUST NOT be used"; the
	// handshake offering only them is refused. The run's own sessions show
	// TLS 1.2 or 1.3 is accepted (the version is recorded).
	Check("TLS-012", func(ctx SpecContext) {
		RequireFTPS()
		s := Dial(ctx)
		cs, _ := s.TLSState()
		Expect(cs.Version).To(BeNumerically(">=", tls.VersionTLS12), "the run's TLS 1.2+ session")
		Observe("control connection with TLS 1.2+ offered", tls.VersionName(cs.Version))
		legacy := TLSClientConfig()
		legacy.MinVersion, legacy.MaxVersion = tls.VersionTLS10, tls.VersionTLS11
		old, err := TryDial(ctx, ftp.WithTLS(Config().TLSMode(), legacy))
		if err == nil {
			got, _ := old.TLSState()
			Problem(fmt.Sprintf("a client offering only TLS 1.0 and 1.1 got a %s session (greeting %q); RFC 8996 §2-3: TLS 1.0 and 1.1 MUST NOT be negotiated. Fix: set the server's minimum TLS version to 1.2", tls.VersionName(got.Version), old.Greeting().Raw))
		}
		Observe("a ClientHello offering only TLS 1.0/1.1", ftp.Printable(err.Error()))
	})

	// RFC 4217 §15.1.1: "it is recommended that certificates used for
	// server authentication of the TLS session contain the server
	// identification information in a similar manner to those used for
	// http servers"; RFC 6125 says how a client verifies that identity. The
	// run verified the certificate already unless --ftp.tls-insecure; then
	// it is checked here against the system pool and the host name, and
	// what does not hold is a warning with the certificate's facts.
	Check("TLS-013", func(ctx SpecContext) {
		RequireFTPS()
		s := Dial(ctx)
		cs, _ := s.TLSState()
		Expect(cs.PeerCertificates).NotTo(BeEmpty(), "the server sent no certificate")
		leaf := cs.PeerCertificates[0]
		Observe("server certificate", ftpsCertFacts(leaf))
		Observe("verification in this run", Config().TLSNote())
		if !Config().TLSInsecure {
			return // the handshake verified chain, dates and name
		}
		Expect(ftpsVerify(cs, Config().Host())).To(Succeed(), "--ftp.tls-insecure: the certificate does not verify against the system pool for %s (RFC 6125); clients that verify will refuse it. Fix: use a certificate from a CA clients trust, naming the host", Config().Host())
	})

	// RFC 4217 §4: "The server listens on the normal FTP control port
	// {FTP-PORT} and the session initiation is not secured at all":
	// implicit FTPS (TLS before the greeting) is outside it, de-facto
	// practice (FileZilla, curl ftps://), so it is only recorded. Whether
	// the passive checks hold under it is the rest of this run's verdicts.
	Check("TLS-014", func(ctx SpecContext) {
		RequireFTPS()
		if Config().TLSMode() != ftp.TLSImplicit {
			Skip("target is explicit FTPS (ftpes://); implicit FTPS is recorded on an ftps:// target")
		}
		s := Dial(ctx)
		cs, _ := s.TLSState()
		Observe("implicit FTPS", fmt.Sprintf("%s handshake before the greeting, then %q inside TLS", tls.VersionName(cs.Version), s.Greeting().Raw))
		Observe("data protection", "PROT P assumed from the start (MS-FTPS §3.1.5.1); this run sends PBSZ 0 and PROT P after login anyway, as curl and FileZilla do")
	})

	// RFC 4217 §10.2: "Should the server not like the TLS negotiation, then
	// it will close the data port immediately and follow the '150' command
	// with a '522' reply": a data connection whose TLS session the server
	// refuses gets a reply, never a silent hang or a clear-text transfer.
	Check("TLS-015", func(ctx SpecContext) {
		RequireFTPS()
		dir := Scratch(ctx)
		for _, epsv := range []bool{false, true} {
			for _, fresh := range []bool{false, true} {
				// a session each: a server may end the session after
				// refusing a data handshake (vsftpd does after its 522)
				s := Login(ctx)
				if epsv && !EPSVImplemented(ctx, s) {
					break
				}
				what := fmt.Sprintf("%s data connection, %s", map[bool]string{false: "PASV", true: "EPSV"}[epsv], map[bool]string{false: "resuming the control TLS session", true: "with a fresh TLS session"}[fresh])
				nc := s.DialEndpoint(ctx, s.Pasv(ctx, epsv), ftp.DataOptions{NoResume: fresh})
				octx, cancel := Ctx(ctx)
				res := s.Transfer(octx, nc, "LIST "+dir, nil, nil)
				cancel()
				Observe(what, ftpsDataTLS(res))
				ftpsJudgeData(what, res, fresh)
			}
		}
	})
})

// ftpsPlainCCC sends CCC on a cleartext connection. A server that wants a
// login first (530) gets one when it is on loopback (the password crosses
// in clear) and CCC again; a 530 that stays is not judged.
func ftpsPlainCCC(ctx SpecContext) ftp.Reply {
	GinkgoHelper()
	By("CCC on the cleartext connection")
	p := DialPlain(ctx)
	defer p.Quit(ctx)
	r := p.Do(ctx, "CCC")
	Observe("CCC before AUTH TLS", fmt.Sprintf("%q", r.Raw))
	if r.Is(530) && ServerIsLocal() {
		octx, cancel := Ctx(ctx)
		defer cancel()
		if err := p.Login(octx, Config().User, Config().Password); err == nil {
			r = p.Do(ctx, "CCC")
			Observe("CCC after a cleartext login", fmt.Sprintf("%q", r.Raw))
		}
	}
	if r.Is(530) {
		Observe("CCC on the cleartext connection", "not judged: the server wants a login first, and the password is not sent in cleartext to a server off loopback")
	}
	return r
}

// ftpsLogin logs in on a TLS session without PBSZ/PROT (Login sends them).
func ftpsLogin(ctx SpecContext, s *Session) {
	GinkgoHelper()
	octx, cancel := Ctx(ctx)
	defer cancel()
	Expect(s.Login(octx, Config().User, Config().Password)).To(Succeed(), "login inside TLS")
}

// ftpsReuse matches a reply that says the data connection must reuse the
// control connection's TLS session.
var ftpsReuse = regexp.MustCompile(`(?i)reus|resum|session`)

// ftpsJudgeData is TLS-015's rule for one transfer: done over TLS, or
// refused with a reply (a fresh session only, and the reply should name
// session reuse); never cleartext, never no reply.
func ftpsJudgeData(what string, res ftp.TransferResult, fresh bool) {
	GinkgoHelper()
	if res.OK() {
		Expect(res.TLS).NotTo(BeNil(), "%s: the transfer completed without TLS under PROT P (RFC 4217 §9)", what)
		return
	}
	final := res.Final()
	if !fresh || final.Code == 0 || final.Preliminary() {
		Problem(fmt.Sprintf("%s: LIST failed with no refusal reply: %s. RFC 4217 §10.2: a refused data TLS negotiation closes the data connection and answers 522. Fix: %s", what, res,
			map[bool]string{false: "serve TLS data connections that resume the control session", true: "answer 522 (naming session reuse) instead of leaving the transfer hanging"}[fresh]))
	}
	Expect(final).To(HaveClass(4, 5), "%s: the refusal", what)
	if !ftpsReuse.MatchString(final.Text()) {
		Observe(what+": the refusal does not name session reuse", fmt.Sprintf("%q", final.Raw))
	}
}

// ftpsDataTLS says how a transfer's data connection went, for the record.
func ftpsDataTLS(res ftp.TransferResult) string {
	if res.TLS == nil {
		return fmt.Sprintf("no TLS data connection: %s", res)
	}
	return fmt.Sprintf("%s, %s, resumed=%v; %s", tls.VersionName(res.TLS.Version), tls.CipherSuiteName(res.TLS.CipherSuite), res.TLS.DidResume, res)
}

// protCList lists the scratch directory with the data protection off
// (TLS-008). A server requiring TLS may refuse already at PASV/EPSV: that
// refusal is returned, not taken for a broken passive mode, which the
// passive checks judge under PROT P and would be named as blockers. Any
// other passive failure goes the usual way (Xfer blocks on it).
func protCList(ctx SpecContext, s *Session) (ftp.TransferResult, ftp.Reply) {
	dir := Scratch(ctx)
	octx, cancel := Ctx(ctx)
	ep, r, err := s.Conn.Passive(octx, s.IPv6())
	cancel()
	if err != nil && (r.Class() == 4 || r.Class() == 5) {
		Observe("passive setup under PROT C", fmt.Sprintf("%q", r.Raw))
		return ftp.TransferResult{}, r
	}
	var list ftp.TransferResult
	if err != nil {
		list, _ = s.Xfer(ctx, false, "LIST "+dir, nil)
	} else {
		nc := s.DialEndpoint(ctx, ep, ftp.DataOptions{})
		tctx, cancel := context.WithTimeout(ctx, 4*Config().Timeout)
		defer cancel()
		list = s.Transfer(tctx, nc, "LIST "+dir, nil, nil)
	}
	Observe("LIST under PROT C", list.String())
	return list, ftp.Reply{}
}
