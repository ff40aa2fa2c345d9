package suites

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/ftpharness/ftpharness/fixtures"
	"github.com/ftpharness/ftpharness/ftp"
	. "github.com/ftpharness/ftpharness/suites/framework"
	. "github.com/ftpharness/ftpharness/suites/matchers"
)

var _ = Describe("EPSV", Label("epsv"), func() {

	// RFC 2428 §3: "The response code for entering passive mode using an
	// extended address MUST be 229. The interpretation of this code,
	// according to [PR85] is: 2yz Positive Completion, x2z Connections,
	// xy9 Extended Passive Mode Entered. The text returned in response to
	// the EPSV command MUST be: <text indicating server is entering
	// extended passive mode> (<d><d><d><tcp-port><d>)".
	Check("EPSV-001", func(ctx SpecContext) {
		s := Login(ctx)
		r := RequireEPSV(ctx, s)
		Expect(r).To(HaveCode(229))
		port, err := ftp.ParseEPSV(r.Text())
		Expect(err).NotTo(HaveOccurred(), "229 must carry (<d><d><d>port<d>) with one delimiter (ASCII 33-126), two empty fields and a port 1-65535: %q", r.Raw)
		Expect(port).To(BeNumerically(">", 0))
	})

	// RFC 2428 §3: "the network address used to establish the data
	// connection will be the same network address used for the control
	// connection": the client connects to the returned port on that address
	// (RFC 959 §3.2: the server-DTP listens, the transfer runs over it).
	Check("EPSV-002", func(ctx SpecContext) {
		s := Login(ctx)
		RequireEPSV(ctx, s)
		name := Name(ctx, "epsv002")
		payload := fixtures.Bytes(2428, 48<<10)
		s.Do(ctx, "TYPE", "I")
		st, _ := s.Xfer(ctx, true, "STOR "+name, payload)
		Expect(st).To(Complete(), "STOR over EPSV to the control connection's server address %s", s.RemoteIP())
		rt, got := s.Xfer(ctx, true, "RETR "+name, nil)
		Expect(rt).To(Complete(), "RETR over EPSV")
		Expect(bytes.Equal(got, payload)).To(BeTrue(), "RETR over EPSV returned %d bytes (sha %s), stored %d", len(got), rt.SHA256, len(payload))
		lt, listing := s.Xfer(ctx, true, "LIST "+Scratch(ctx), nil)
		Expect(lt).To(Complete(), "LIST over EPSV")
		Expect(string(listing)).To(ContainSubstring(lastPart(name)))
	})

	// RFC 2428 §3: "If the server supports the network protocol indicated
	// ... it SHOULD enter passive mode using that network protocol" —
	// the control connection's own family (1 for IPv4, 2 for IPv6) is
	// evidently supported.
	Check("EPSV-003", func(ctx SpecContext) {
		s := Login(ctx)
		RequireEPSV(ctx, s)
		af := epsvFamily(s)
		r := s.Do(ctx, "EPSV", strconv.Itoa(af))
		Expect(r).To(HaveCode(229), "EPSV %d over an AF %d control connection", af, af)
		_, err := ftp.ParseEPSV(r.Text())
		Expect(err).NotTo(HaveOccurred(), "EPSV %d: %q", af, r.Raw)
	})

	// RFC 2428 §3: "If the requested protocol is supported by the server,
	// it SHOULD use the protocol. If not, the server MUST return the 522
	// error messages as outlined in section 2"; §2: "If the network protocol
	// is unsupported, the format of the response string MUST be: <text> \
	// (prot1,prot2,...,protn)". AF 3 (802) is an IANA address family; 65535
	// is IANA-reserved, so §2's "<net-prt> argument MUST be an address
	// family number defined by IANA" makes it a syntax error too: 501 or 522.
	Check("EPSV-004", func(ctx SpecContext) {
		s := Login(ctx)
		RequireEPSV(ctx, s)
		af := epsvFamily(s)
		args := []string{"3", "65535"}
		other := 3 - af
		if otherFamilyUnreachable(ctx, s) {
			args = append([]string{strconv.Itoa(other)}, args...)
		} else {
			GinkgoWriter.Printf("EPSV %d not checked: the server may support AF %d\n", other, other)
		}
		var vs []string
		for _, a := range args {
			r := s.Do(ctx, "EPSV", a)
			if a == "65535" && r.Is(501) {
				continue // not an IANA address family: a syntax error
			}
			if ok, _ := Be522Listing(af).Match(r); !ok {
				also := ""
				if a == "65535" {
					also = ", or 501"
				}
				vs = append(vs, fmt.Sprintf("EPSV %s answered %q (want 522 ending in a protocol list such as (%d) or (1,2)%s)", a, r.Raw, af, also))
			}
		}
		ExpectNoViolations(vs, "EPSV with an unsupported network protocol")
	})

	// RFC 2428 §3: "The standard negative error codes 500 and 501 are
	// sufficient to handle all errors involving the EPSV command (e.g.,
	// syntax errors)" — no keyword: an argument that is neither a protocol
	// number nor ALL should be refused with 501 or 500 (INTEROP).
	Check("EPSV-005", func(ctx SpecContext) {
		s := Login(ctx)
		RequireEPSV(ctx, s)
		r := s.Do(ctx, "EPSV", "foo")
		Expect(r).To(HaveCode(501, 500), "sent `EPSV foo` (neither a protocol number nor ALL), got %q; RFC 2428 §3 handles EPSV syntax errors with 500 or 501; fix: refuse it with 501 instead of opening a listener", r.Raw)
	})

	// RFC 2428 §3: "Upon receipt of an EPSV ALL command, the server MUST
	// reject all data connection setup commands other than EPSV (i.e.,
	// EPRT, PORT, PASV, et al.)."
	Check("EPSV-006", func(ctx SpecContext) {
		s := Login(ctx)
		RequireEPSV(ctx, s)
		sink := SinkListener(s.LocalIP())
		all := s.Do(ctx, "EPSV", "ALL")
		Expect(all).To(HaveClass(2), "sent EPSV ALL on a server that implements EPSV: RFC 2428 §3 defines EPSV ALL as part of EPSV (clients behind NAT rely on it). Fix: accept EPSV ALL with 200 and refuse every other data setup command afterwards")
		epsvAllProblem(epsvAllViolations(ctx, s, sink, true), "after EPSV ALL")
		r := s.Do(ctx, "EPSV")
		Expect(r).To(HaveCode(229), "EPSV after EPSV ALL")
	})

	// RFC 2428 §4: "Once the EPSV ALL command is issued ... if a client
	// wishes to perform a third party transfer, it MUST establish a new
	// control connection": the state lasts for the session, whatever
	// happens to individual transfers (proftpd/proftpd#2255: ABOR and a
	// failed RETR cleared it). Only a server that accepted EPSV ALL is in
	// that state; one that refused it already fails EPSV-006, and one
	// defect is one failure. So is one that accepted it and still took a
	// data setup command right after: what it accepts after the ABOR and
	// the failed RETR fails here only if it refused it before.
	Check("EPSV-007", func(ctx SpecContext) {
		s := Login(ctx)
		RequireEPSV(ctx, s)
		sink := SinkListener(s.LocalIP())
		name := Name(ctx, "epsv007")
		s.Put(ctx, name, fixtures.Bytes(7, 4<<20))
		all := s.Do(ctx, "EPSV", "ALL")
		if all.Class() != 2 {
			Skip(fmt.Sprintf("EPSV ALL was not accepted (%q), so there is no EPSV ALL state to keep; EPSV-006 reports the refusal", all.Raw))
		}
		held := epsvAllViolations(ctx, s, sink, false) // before anything could clear it

		// A transfer started and aborted.
		nc := s.Data(ctx, true)
		r := s.Do(ctx, "RETR", name)
		if r.Preliminary() {
			nc.SetReadDeadline(time.Now().Add(Config().Timeout))
			io.ReadFull(nc, make([]byte, 32<<10))
			Expect(s.SendLine(ctx, "ABOR")).To(Succeed())
			nc.Close()
			epsvAfterAbort(ctx, s)
		} else {
			nc.Close()
		}
		// ABOR with nothing to abort (XFER-011 judges its reply).
		if ab, err := s.TryCmd(ctx, "ABOR"); err != nil {
			Blocked("XFER-011", fmt.Sprintf("after EPSV ALL and an aborted RETR, ABOR with no transfer running got no reply (%v), so EPSV ALL's state cannot be tested", err))
		} else if ab.Preliminary() {
			s.Wait(ctx, time.Second)
		}
		// A failed transfer.
		nc2 := s.Data(ctx, true)
		fr := s.Do(ctx, "RETR", Name(ctx, "epsv007-missing"))
		Expect(fr.Class()).To(BeNumerically(">=", 4), "RETR of a missing file: %q", fr.Raw)
		nc2.Close()

		lost := epsvAllLost(held, epsvAllViolations(ctx, s, sink, false))
		if len(lost) == 0 && len(held) > 0 {
			Blocked("EPSV-006", fmt.Sprintf("EPSV ALL was accepted (%q) but not in force even before any transfer: %s; so whether it survives ABOR and failed transfers cannot be told", all.Raw, strings.Join(held, "; ")))
		}
		epsvAllProblem(lost, "after EPSV ALL, an ABORted RETR, an ABOR with nothing to abort and a failed RETR (each refused right after EPSV ALL)")
		Expect(s.Do(ctx, "EPSV")).To(HaveCode(229), "EPSV still works")
	})

	// RFC 959 §4.1.1 REIN: "terminates a USER, flushing all I/O and account
	// information ... All transfer parameters are unchanged"; RFC 2428 §4
	// expects a new control connection to leave EPSV ALL. Recorded.
	Check("EPSV-008", func(ctx SpecContext) {
		s := Login(ctx)
		RequireEPSV(ctx, s)
		all := s.Do(ctx, "EPSV", "ALL")
		Observe("EPSV ALL", fmt.Sprintf("%q", all.Raw))
		rein := s.Do(ctx, "REIN")
		Observe("REIN", fmt.Sprintf("%q", rein.Raw))
		if rein.Is(120) {
			rein = s.Next(ctx)
		}
		if rein.Class() == 2 {
			s.MustLogin(ctx)
		}
		p := s.Do(ctx, "PASV")
		Observe("PASV after EPSV ALL and REIN", fmt.Sprintf("%q", p.Raw))
	})

	// RFC 2389 §3.2: the FEAT list "MUST contain every extension the server
	// supports"; RFC 2428 defines no label, but EPSV/EPRT are listed by
	// convention and clients (secsy/goftp PR#5) decide from FEAT.
	Check("EPSV-009", func(ctx SpecContext) {
		s := Login(ctx)
		feat := s.Do(ctx, "FEAT")
		if feat.Is(500, 502) {
			Skip(fmt.Sprintf("server does not implement FEAT (RFC 2389): %q", feat.Raw))
		}
		f := ParseFeat(feat)
		epsv := EPSVImplemented(ctx, s)
		sink := SinkListener(s.LocalIP())
		_, eprtArg := PortArgs(sink)
		eprt := !s.Do(ctx, "EPRT", eprtArg).Is(500, 502)
		var vs []string
		if epsv && !f.Has("EPSV") {
			vs = append(vs, "EPSV works but FEAT does not list it")
		}
		if eprt && !f.Has("EPRT") {
			vs = append(vs, "EPRT works but FEAT does not list it")
		}
		if !epsv && !eprt {
			Skip("server implements neither EPSV nor EPRT")
		}
		Expect(vs).To(BeEmpty(), "FEAT reply %q", feat.Raw)
	})
})

// epsvFamily is the RFC 2428 network protocol number of the control
// connection (1 IPv4, 2 IPv6).
func epsvFamily(s *Session) int {
	if s.RemoteIP().To4() != nil {
		return 1
	}
	return 2
}

// otherFamilyUnreachable reports whether the server evidently does not
// speak the other address family: it listens on loopback and its control
// port is refused on the other family's loopback address.
func otherFamilyUnreachable(ctx context.Context, s *Session) bool {
	ip := s.RemoteIP()
	if !ip.IsLoopback() {
		return false
	}
	_, port, _ := net.SplitHostPort(Config().Addr)
	other := "::1"
	if ip.To4() == nil {
		other = "127.0.0.1"
	}
	octx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	c, err := ftp.DialTCP(octx, net.JoinHostPort(other, port), nil)
	if err == nil {
		c.Close()
		return false
	}
	return errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EADDRNOTAVAIL) || errors.Is(err, syscall.ENETUNREACH)
}

// epsvAllViolations sends every data setup command other than EPSV and
// lists the ones not refused with 5xx. With legacy, LPRT and LPSV too.
func epsvAllViolations(ctx context.Context, s *Session, sink net.Listener, legacy bool) []string {
	GinkgoHelper()
	portArg, eprtArg := PortArgs(sink)
	a := sink.Addr().(*net.TCPAddr)
	cmds := []string{"PASV", "PORT " + portArg, "EPRT " + eprtArg}
	if portArg == "" { // an IPv6 sink: PORT cannot name it (RFC 2428 §1)
		cmds = []string{"PASV", "EPRT " + eprtArg}
	}
	if legacy {
		if v4 := a.IP.To4(); v4 != nil {
			cmds = append(cmds, fmt.Sprintf("LPRT 4,4,%d,%d,%d,%d,2,%d,%d", v4[0], v4[1], v4[2], v4[3], a.Port>>8, a.Port&0xff))
		}
		cmds = append(cmds, "LPSV")
	}
	var vs []string
	for _, c := range cmds {
		octx, cancel := Ctx(ctx)
		err := s.SendLine(octx, c)
		var r ftp.Reply
		if err == nil {
			r, err = s.ReadReply(octx)
		}
		cancel()
		Expect(err).NotTo(HaveOccurred(), "%s after EPSV ALL: no reply", c)
		if r.Class() != 5 {
			vs = append(vs, fmt.Sprintf("%s after EPSV ALL answered %q (want 5xx)", c, r.Raw))
		}
	}
	return vs
}

// epsvAllLost is the violations in after of commands (their verbs) that
// were refused in before: what EPSV ALL lost on the way.
func epsvAllLost(before, after []string) []string {
	verb := func(v string) string { return strings.Fields(v)[0] }
	accepted := map[string]bool{}
	for _, v := range before {
		accepted[verb(v)] = true
	}
	var lost []string
	for _, v := range after {
		if !accepted[verb(v)] {
			lost = append(lost, v)
		}
	}
	return lost
}

// epsvAllProblem fails with the data setup commands a server accepted
// after EPSV ALL, the rule and the fix.
func epsvAllProblem(vs []string, when string) {
	GinkgoHelper()
	if len(vs) == 0 {
		return
	}
	Problem(fmt.Sprintf("%s:\n  %s\nRFC 2428 §3: \"Upon receipt of an EPSV ALL command, the server MUST reject all data connection setup commands other than EPSV\", for the rest of the session (§4). "+
		"Fix: keep an EPSV ALL flag on the session, cleared only by REIN or a new connection, and answer PASV, PORT, EPRT, LPRT and LPSV with 5xx while it is set", when, strings.Join(vs, "\n  ")))
}

// epsvAfterAbort reads the replies to an ABOR sent during a RETR (426+226,
// or 226 then ABOR's 225/226) until the line is quiet, then makes sure the
// control connection is still open and in sync (NOOP answered 200). When
// it is not, EPSV-007 cannot test EPSV ALL: ABOR's reply sequence is
// XFER-012's rule ("control stays open and in sync"), so the check is
// blocked by it instead of failing for it.
func epsvAfterAbort(ctx SpecContext, s *Session) {
	GinkgoHelper()
	var got []string
	blocked := func(what string, err error) {
		Blocked("XFER-012", fmt.Sprintf("after EPSV ALL, ABOR during RETR got %s; then %s (%v), so EPSV ALL's state cannot be tested", epsvShown(got), what, err))
	}
	wait := Config().Timeout
	for i := 0; i < 4; i++ {
		r, err := s.TryNext(ctx, wait)
		if err != nil {
			if !IsTimeout(err) {
				blocked("the control connection was lost", err)
			}
			break
		}
		got = append(got, r.String())
		wait = time.Second
	}
	n, err := s.TryCmd(ctx, "NOOP")
	for i := 0; err == nil && !n.Is(200) && i < 3; i++ {
		got = append(got, "NOOP: "+n.String())
		n, err = s.Wait(ctx, time.Second)
	}
	switch {
	case err != nil && !IsTimeout(err):
		blocked("NOOP found the control connection lost", err)
	case err != nil || !n.Is(200):
		blocked("NOOP got no 200 (the control connection is out of sync)", err)
	}
}

// epsvShown lists the replies read, or says there were none.
func epsvShown(replies []string) string {
	if len(replies) == 0 {
		return "no reply"
	}
	return strings.Join(replies, " | ")
}
