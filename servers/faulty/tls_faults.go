package faulty

import (
	"bytes"
	"strings"
	"time"

	"github.com/ftpharness/ftpharness/ftp"
	"github.com/ftpharness/ftpharness/ftp/tlscert"
)

// FTPS faults (RFC 4217): each breaks one rule of the secured session.
// They act only when the proxy speaks TLS (WithTLS); in cleartext the
// proxy is unchanged by them, except tls-feat-unadvertised (a FEAT
// rewrite).
func init() {
	// RFC 4217 §9: under PROT P the data connection is protected.
	register(Fault{Name: "tls-data-cleartext",
		Doc: "PROT P is accepted (the server's 200 is passed on) but the client's data connections stay cleartext: the proxy answers the client's TLS handshake with the data itself",
		b:   behaviour{tlsDataClear: true}})
	// RFC 4217 §10.2 (data/control association): a server may refuse a
	// data TLS session that does not resume the control one, with a reply.
	register(Fault{Name: "tls-data-fresh-hang",
		Doc: "a data connection whose TLS session does not resume the control session is held open with nothing on it, and the transfer gets no reply (a silent refusal, where a 4xx/5xx is due)",
		b:   behaviour{tlsFreshHang: true}})
	// RFC 4217 §4: 234 means the TLS handshake comes next.
	register(Fault{Name: "tls-auth-no-handshake",
		Doc: "AUTH TLS is answered 234 by the proxy, which then takes the client's handshake for a command (500, in cleartext) and goes on in cleartext",
		b:   behaviour{authNoHandshake: true}})
	// RFC 4217 §9, RFC 2228 §3: PBSZ comes after AUTH, PROT after PBSZ.
	register(Fault{Name: "tls-pbsz-order-ignored",
		Doc: "PBSZ before AUTH is answered 200 by the proxy, and PROT without a PBSZ first is accepted (the proxy sends the server a PBSZ 0 ahead of it)",
		b:   behaviour{pbszIgnored: true}})
	// RFC 8996 §2-3: TLS 1.0 and 1.1 MUST NOT be negotiated.
	register(Fault{Name: "tls-legacy-versions",
		Doc: "the proxy's TLS towards the client accepts TLS 1.0 and 1.1",
		b:   behaviour{legacyTLS: true}})
	// RFC 4217 §6: FEAT lists AUTH TLS, PBSZ and PROT.
	register(Fault{Name: "tls-feat-unadvertised",
		Doc: "the FEAT reply loses its AUTH, PBSZ and PROT lines",
		b:   behaviour{replies: []replyRewrite{featNoTLS}}})
	// RFC 4217 §4.2: a USER before AUTH does not survive it.
	register(Fault{Name: "tls-login-survives-auth",
		Doc: "after a USER and then AUTH TLS, PWD is answered 257 by the proxy until the next USER (the login carried into the secured session)",
		b:   behaviour{loginSurvives: true}})
	// RFC 2228 §8.2: AUTH's replies are 234, 334, 502, 504, 534, 431, 500,
	// 501, 421; 200 is not among them.
	register(Fault{Name: "tls-reauth-200",
		Doc: "a second AUTH inside TLS is answered 200 by the proxy (a code RFC 2228 does not list for AUTH)",
		b:   behaviour{reauth200: true}})
	// RFC 2228 §8.2, RFC 4217 §9: TLS has only PROT C and P.
	register(Fault{Name: "tls-prot-level-200",
		Doc: "PROT with a level other than C or P (S, E, X) is answered 200 by the proxy",
		b:   behaviour{protLevel200: true}})
	// RFC 4217 §5: CCC without TLS is answered 533; a 200 under TLS is
	// followed by TLS closing on both sides.
	register(Fault{Name: "tls-ccc-fake-200",
		Doc: "CCC is answered 200 by the proxy and never reaches the server: on a connection without TLS (where 533 is due), and under TLS, which the proxy then keeps (the client's close_notify ends the session)",
		b:   behaviour{ccc200: true}})
	// RFC 4217 §13: the REIN reply is sent inside TLS.
	register(Fault{Name: "tls-rein-reply-cleartext",
		Doc: "REIN under TLS is answered 220 by the proxy in cleartext, outside the TLS session (the server never sees it)",
		b:   behaviour{reinClear: true}})
	// RFC 4217 §4.2: a server that wants a secured session refuses
	// commands until it is secured (the TLS-required policy, TLS-008).
	register(Fault{Name: "tls-required-user-accepted",
		Doc: "USER on a control connection without TLS is answered 331 by the proxy, whatever the server answered it (a TLS-required policy that forgot the login)",
		b:   behaviour{userClear: true}})
	// RFC 4217 §10-11, RFC 6125: the certificate identifies the server.
	for _, kind := range tlscert.BadKinds {
		register(Fault{Name: "tls-cert-" + kind,
			Doc: "the proxy's certificate towards the client is " + badCertDoc[kind],
			b:   behaviour{badCert: kind}})
	}
}

var badCertDoc = map[string]string{
	tlscert.SelfSigned: "self-signed (no CA signed it), for the right names",
	tlscert.WrongName:  "signed by the CA for wrong.invalid only",
	tlscert.Expired:    "signed by the CA for the right names, expired a day ago",
}

// featNoTLS drops the AUTH, PBSZ and PROT feature lines of a FEAT reply.
func featNoTLS(c call) []byte {
	if c.verb != "FEAT" || c.r.Code != 211 {
		return nil
	}
	var out []byte
	for _, l := range bytes.SplitAfter(c.r.Raw, []byte("\n")) {
		f := strings.ToUpper(strings.TrimSpace(string(l)))
		if strings.HasPrefix(f, "AUTH") || f == "PBSZ" || f == "PROT" {
			continue
		}
		out = append(out, l...)
	}
	return out
}

// tlsCommand applies the FTPS command faults to e (the proxy runs TLS):
// true when e is answered (e.local) or rewritten (fwd).
func (s *session) tlsCommand(e *entry, fwd *[]byte) bool {
	b := s.p.b
	s.mu.Lock()
	authed, pbsz, carried := s.authed, s.pbsz, s.loginCarried
	s.mu.Unlock()
	switch {
	case b.authNoHandshake && e.verb == "AUTH" && !authed:
		e.local = []byte("234 AUTH command ok. Expecting TLS Negotiation.\r\n")
		e.tlsWait = true
		e.after = s.ignoreHandshake
		return true
	case b.pbszIgnored && e.verb == "PBSZ" && !authed:
		e.local = []byte("200 PBSZ=0\r\n")
		return true
	case b.pbszIgnored && e.verb == "PROT" && authed && !pbsz:
		s.logf("tls-pbsz-order-ignored: PBSZ 0 sent ahead of PROT")
		s.push(&entry{verb: "PBSZ", arg: "0", silent: true, at: time.Now()})
		s.forward([]byte("PBSZ 0\r\n"))
	case b.loginSurvives && carried && (e.verb == "PWD" || e.verb == "XPWD"):
		e.local = []byte("257 \"/\" is the current directory.\r\n")
		return true
	case b.reauth200 && e.verb == "AUTH" && s.ctlTLS():
		e.local = []byte("200 AUTH command ok.\r\n")
		return true
	case b.protLevel200 && e.verb == "PROT" && !strings.EqualFold(strings.TrimSpace(e.arg), "C") && !strings.EqualFold(strings.TrimSpace(e.arg), "P"):
		e.local = []byte("200 Protection level set.\r\n")
		return true
	case b.ccc200 && e.verb == "CCC":
		e.local = []byte("200 CCC command successful.\r\n")
		return true
	case b.userClear && e.verb == "USER" && !s.ctlTLS():
		// the server still gets the USER (its reply swallowed), so in
		// front of a server that takes cleartext logins nothing changes
		s.push(&entry{verb: "USER", arg: e.arg, silent: true, at: time.Now()})
		s.forward(*fwd)
		e.local = []byte("331 Password required.\r\n")
		return true
	case b.reinClear && e.verb == "REIN" && s.ctlTLS():
		e.local = []byte("220 Service ready for new user.\r\n")
		e.clear = true
		return true
	}
	return false
}

// ignoreHandshake (tls-auth-no-handshake) reads what the client sent after
// the proxy's 234 (its ClientHello) as a server that ignored AUTH would,
// answers it 500 in cleartext and lets the session go on in cleartext.
func (s *session) ignoreHandshake() {
	buf := make([]byte, 4096)
	s.cc.SetReadDeadline(time.Now().Add(3 * time.Second))
	n, _ := bufConn{Conn: s.cc, r: s.cbr}.Read(buf)
	s.cc.SetReadDeadline(time.Time{})
	s.logf("tls-auth-no-handshake: %d bytes after 234 taken for a command", n)
	if n > 0 {
		s.client().Write([]byte("500 Syntax error, command unrecognized.\r\n"))
	}
	s.clientSwitch <- nil
}

// tlsReply handles a server reply that moves the session's TLS state:
// true when it was dealt with (and is not to be forwarded as usual). It
// releases readUpstream and readClient where they wait for the outcome.
func (s *session) tlsReply(h *entry, r ftp.Reply) bool {
	final := r.Code/100 != 1
	paused := s.upPaused
	s.upPaused = false
	waiting := h != nil && h.tlsWait && final
	if waiting && h.verb == "CCC" {
		s.cccOut.Store(false)
	}
	switch {
	case paused && waiting && h.verb == "AUTH" && r.Code == 234:
		s.mu.Lock()
		s.loginCarried = s.userSeen && s.p.b.loginSurvives
		s.mu.Unlock()
		if err := s.upgrade(h, r.Raw); err != nil {
			go s.shutdown()
		}
		return true
	case paused && waiting && h.verb == "CCC" && r.Code == 200:
		if err := s.clearControl(h, r.Raw); err != nil {
			s.logf("CCC: %v", err)
			go s.shutdown()
		}
		return true
	}
	if paused {
		s.upSwitch <- nil // the stream goes on as it was
	}
	if waiting {
		s.clientSwitch <- nil // AUTH or CCC refused: the stream goes on
	}
	if h != nil && transferVerbs[h.verb] && final && s.takeDropXfer() {
		s.logf("tls-data-fresh-hang: dropping %q", r.Lines[0])
		return true
	}
	if h != nil && s.ctlTLS() && r.Code/100 == 2 && h.verb == "REIN" {
		s.logf("REIN accepted under TLS: the proxy keeps TLS on both sides (limit: a server that clears it breaks the session)")
	}
	return false
}

func (s *session) takeDropXfer() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.dropXfer
	s.dropXfer = false
	return d
}

// dataProtected reports whether the session's data connections are TLS
// (the client's last PROT accepted was P; implicit FTPS starts so).
func (s *session) dataProtected() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.protP
}
